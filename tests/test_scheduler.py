"""The scheduler survives store errors and shows its heartbeat (issue 12, through the app)."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factories import point_at_fake
from fakebot import FakeTelegram
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_application
from bot.context import KEY, AppContext
from bot.handlers.admin import scheduler_line
from bot.jobs import watchdog_job
from bot.jobstore import AppJobStore, jobstore_engine
from storage import heartbeats
from storage.queries import store_stats


def _runs(sessions: sessionmaker[Session], job: str) -> tuple[int, datetime | None]:
    with sessions() as session:
        for health in heartbeats.job_health(session, datetime.now(UTC)):
            if health.job == job:
                return health.runs, health.started_at
    return 0, None


def _hold_write_lock(path: Path, seconds: float, released: list[datetime]) -> None:
    """Another process-like connection holds SQLite's write lock (as a long ingest does)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        time.sleep(seconds)
        connection.execute("COMMIT")
        released.append(datetime.now(UTC))
    finally:
        connection.close()


@pytest.mark.slow
async def test_a_locked_sqlite_store_neither_kills_the_scheduler_nor_freezes_the_loop(
    fake_api: FakeTelegram, ctx: AppContext, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = point_at_fake(ctx, fake_api, inbox_dir=inbox, inbox_interval_seconds=1).settings
    application = build_application(settings)  # exactly as `briefbot run` wires it
    sessions = application.bot_data[KEY].sessions
    database = Path(sessions.kw["bind"].url.database)
    caplog.set_level(logging.WARNING, logger="bot.jobstore")
    async with application:
        await application.start()
        try:
            for _ in range(100):  # the inbox job runs every second
                if _runs(sessions, "inbox")[0] >= 1:
                    break
                await asyncio.sleep(0.05)
            assert _runs(sessions, "inbox")[0] >= 1
            released: list[datetime] = []
            holder = threading.Thread(target=_hold_write_lock, args=(database, 3.0, released))
            holder.start()
            worst_gap, last = 0.0, time.monotonic()
            while holder.is_alive():  # the event loop keeps turning while the lock is held
                await asyncio.sleep(0.02)
                now = time.monotonic()
                worst_gap, last = max(worst_gap, now - last), now
            holder.join()
            for _ in range(300):  # and the scheduler runs the next job once it is released
                _, started = _runs(sessions, "inbox")
                if started is not None and started > released[0]:
                    break
                await asyncio.sleep(0.05)
        finally:
            await application.stop()
    assert any(
        "job store:" in r.getMessage() and "failed" in r.getMessage() for r in caplog.records
    )
    _, started = _runs(sessions, "inbox")
    assert started is not None and started > released[0], "no job ran after the lock was released"
    assert worst_gap < 1.0, f"the event loop froze for {worst_gap:.2f} s"
    with sessions() as session:
        jobs = {health.job: health for health in store_stats(session).scheduler}
    assert {"deliver", "inbox"} <= set(jobs) and not jobs["inbox"].overdue


def test_a_failing_store_backs_off_instead_of_raising(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"  # rollback journal (not WAL): a lock stops readers
    engine = jobstore_engine(create_engine(f"sqlite:///{database}"))
    store = AppJobStore(None, engine=engine)  # type: ignore[arg-type]
    store.start(None, "test")  # type: ignore[arg-type]
    assert store.get_next_run_time() is None  # empty and healthy
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        assert store.get_due_jobs(datetime.now(UTC)) == []
        wake = store.get_next_run_time()
        assert time.monotonic() - started < 1.5  # short lock waits, no ten-second freeze
        assert wake is not None and wake > datetime.now(UTC)  # wake again after a backoff
        assert store.failures == 1
    finally:
        connection.execute("COMMIT")
        connection.close()
    store._hold_until = None  # the backoff is over
    assert store.get_next_run_time() is None and store.failures == 0
    engine.dispose()


def test_overdue_and_the_stats_line() -> None:
    now = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
    started = now - timedelta(seconds=400)
    assert heartbeats.is_overdue(now, started, started + timedelta(seconds=1), 60)
    assert not heartbeats.is_overdue(now, started, None, 60)  # a long fan-out still running
    assert not heartbeats.is_overdue(now, now - timedelta(seconds=90), now, 60)
    health = heartbeats.JobHealth("deliver", 60, started, started, None, 3, overdue=True)
    assert scheduler_line([health], now) == "Scheduler: <b>deliver 400 s ago: OVERDUE</b>"
    assert scheduler_line([], now) == "Scheduler: no job has run yet"


def test_briefbot_stats_shows_the_heartbeat(
    ctx: AppContext,
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.cli import main

    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with ctx.sessions() as session, session.begin():
        heartbeats.record_start(session, "deliver", 60, long_ago)
        heartbeats.record_end(session, "deliver", long_ago, None)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["stats"]) == 0
    [deliver] = json.loads(capsys.readouterr().out)["scheduler"]
    assert (deliver["job"], deliver["runs"], deliver["overdue"]) == ("deliver", 1, True)


async def test_the_watchdog_warns_about_a_job_that_stopped_starting(
    fake_api: FakeTelegram, ctx: AppContext, caplog: pytest.LogCaptureFixture
) -> None:
    point_at_fake(ctx, fake_api)
    application = build_application(ctx.settings, ctx)
    async with application:
        await application.start()
        try:
            assert {"deliver", "inbox", "housekeeping"} <= set(ctx.job_starts)  # from start-up
            every, _ = ctx.job_starts["deliver"]
            ctx.job_starts["deliver"] = (every, time.monotonic() - 10 * every - 600)
            with caplog.at_level(logging.WARNING, logger="bot.jobs"):
                await watchdog_job(application)
        finally:
            await application.stop()
    overdue = [r.getMessage() for r in caplog.records if "overdue" in r.getMessage()]
    assert len(overdue) == 1 and "job deliver last started" in overdue[0]
