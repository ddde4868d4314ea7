"""Delivery under API faults: 5xx bursts, flood waits as wired in production, a slow API."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import POSTGRES_URL, SEEDS, make_settings
from delivery_worker import (
    SLOT,
    fast_config,
    fixed_clock,
    migrated_store,
    seed_chats,
    text_composer,
)
from factories import point_at_fake
from fakebot import FakeTelegram
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot

from bot.app import build_application
from bot.context import KEY, AppContext
from bot.delivery import Deliverer, DeliveryConfig, timed_out
from bot.jobs import deliver_job
from storage.engine import make_engine
from storage.models import Briefing, Delivery, Subscription

NOW = SLOT + timedelta(seconds=30)
DAY = timedelta(days=1)


def _rows(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.chat_id)))


@pytest.mark.slow
async def test_a_burst_of_500s_defers_and_every_chat_gets_its_whole_briefing_once(
    bot: Bot, fake_api: FakeTelegram, sqlite_url: str
) -> None:
    sessions = migrated_store(sqlite_url)
    chats = list(range(1001, 1031))
    seed_chats(sessions, chats)
    config = fast_config(rate=60.0, network_retries=1, concurrency=8)

    async def run(at: datetime) -> int:
        deliverer = Deliverer(bot, sessions, text_composer(3), config, clock=fixed_clock(at))
        report = await deliverer.run()
        assert report.failed == 0, report
        return report.deferred

    first = asyncio.create_task(run(NOW))
    await fake_api.wait_for(20)  # mid-fan-out: some briefings are half sent
    fake_api.fail_for("sendMessage", 1.5, 500, "Internal Server Error")
    deferred = await first
    assert deferred > 0
    partial = [row for row in _rows(sessions) if 0 < row.messages_sent < 3]
    await asyncio.sleep(1.6)  # the burst is over
    at = NOW
    for _ in range(6):  # later runs (the job runs every minute) resume the deferred rows
        if all(row.status == "sent" for row in _rows(sessions)):
            break
        at += timedelta(minutes=10)
        await run(at)
    assert [row.status for row in _rows(sessions)] == ["sent"] * len(chats)
    for chat in chats:  # every chat: its whole briefing, each part exactly once, in order
        assert fake_api.texts(chat) == [f"Briefing for {chat}, part {i}/3" for i in (1, 2, 3)]
    assert all(row.messages_sent == 3 for row in _rows(sessions))
    assert partial or deferred  # the burst hit the fan-out (usually mid-briefing too)


async def test_a_long_flood_wait_through_the_real_wiring_defers_instead_of_sleeping(
    fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    ctx = point_at_fake(seeded_ctx, fake_api)
    now = datetime.now(UTC)
    day_ago = now - timedelta(days=1)
    seed_chats(ctx.sessions, [4343], briefing_time=f"{now - timedelta(minutes=1):%H:%M}",
               subscribed=day_ago)  # fmt: skip
    with ctx.sessions() as session, session.begin():
        session.query(Subscription).delete()
        for topic in ctx.taxonomy.topics:
            session.add(
                Subscription(chat_id=4343, kind="topic", key=topic.slug, created_at=day_ago)
            )
    fake_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 45", {"retry_after": 45})
    application = build_application(ctx.settings)  # as `briefbot run` wires it
    async with application:
        await asyncio.wait_for(deliver_job(application), 15)  # not 45 s asleep in the library
    [row] = _rows(ctx.sessions)
    assert (row.status, row.messages_sent) == ("retry", 0)
    assert row.next_attempt_at is not None and row.next_attempt_at > now + timedelta(seconds=40)
    assert fake_api.sent(4343) == []
    assert len(fake_api.calls("sendMessage")) == 1  # one attempt: no retry inside the library


def test_a_send_never_waits_longer_than_a_quarter_of_the_lease() -> None:
    config = DeliveryConfig(lease=timedelta(seconds=60), max_inline_wait=30.0)
    assert config.inline_wait() == 15.0
    assert DeliveryConfig().inline_wait() == 30.0  # 300 s lease: the 30 s cap applies


@pytest.mark.slow
async def test_a_slow_api_costs_at_most_one_resend_per_message(
    bot: Bot, fake_api: FakeTelegram, sqlite_url: str
) -> None:
    sessions = migrated_store(sqlite_url)
    seed_chats(sessions, [701])
    fake_api.hold("sendMessage", 1.0, times=2)  # the first send and its resend both time out
    config = fast_config(send_timeout=0.3)

    async def run(at: datetime) -> None:
        await Deliverer(bot, sessions, text_composer(2), config, clock=fixed_clock(at)).run()

    await run(NOW)
    [row] = _rows(sessions)
    assert (row.status, row.error) == ("retry", timed_out(0))  # not resent in the same run
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    await asyncio.sleep(1.0)  # the held reply lands: Telegram did take the message
    await run(NOW + timedelta(seconds=30))  # too early: nothing
    await run(NOW + timedelta(seconds=61))  # the one resend times out too: counted as sent
    await asyncio.sleep(1.0)
    [row] = _rows(sessions)
    assert (row.status, row.messages_sent) == ("sent", 2)
    copies = Counter(fake_api.texts(701))
    assert copies == {"Briefing for 701, part 1/2": 2, "Briefing for 701, part 2/2": 1}


def test_two_workers_taking_over_stale_sqlite_claims_never_share_one(sqlite_url: str) -> None:
    import threading

    from sqlalchemy.exc import OperationalError

    from storage import deliveries

    sessions = migrated_store(sqlite_url)
    chats = list(range(2001, 2061))
    seed_chats(sessions, chats)
    with sessions() as session, session.begin():  # a worker claimed them all and died
        for chat in chats:
            deliveries.claim_new(session, chat, SLOT, NOW)
    later, lease = NOW + timedelta(minutes=10), timedelta(minutes=5)
    won: dict[str, list[int]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        with sessions() as session:
            ids = deliveries.reclaimable(session, later, lease)
        start.wait()
        for delivery_id in ids:
            try:
                with sessions() as session, session.begin():
                    claim = deliveries.reclaim(session, delivery_id, later, lease)
            except OperationalError:  # SQLite refused our write: the other worker holds it
                continue
            if claim is not None:
                won[name].append(claim.delivery_id)

    threads = [threading.Thread(target=worker, args=(name,)) for name in won]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(won["a"]) & set(won["b"]), "a stale claim was taken over twice"
    assert won["a"] and won["b"]  # both really competed
    # a row SQLite refused to both (a stale snapshot) stays reclaimable for the next run
    assert len(won["a"]) + len(won["b"]) <= len(chats)


def _store_fault(engine: Engine, admin_url: str | None) -> list[str]:
    """Make the progress writes (the UPDATE right after Telegram accepted a send) fail.

    SQLite: at the first one another connection takes the write lock for a second, and the
    writes meanwhile give up after 50 ms (``database is locked``). PostgreSQL: the first three
    have their connection terminated under them (pg_terminate_backend), and so has the first
    composing read. Returns the list the hook appends each refused write to."""
    faults: list[str] = []
    admin = make_engine(admin_url) if admin_url else None
    held = threading.Event()
    composed: list[str] = []

    def hold_the_write_lock() -> None:
        other = sqlite3.connect(str(engine.url.database), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # the write lock, as a long ingest holds it
        held.set()
        time.sleep(1.0)
        other.rollback()
        other.close()
        held.clear()

    @event.listens_for(engine, "before_cursor_execute")
    def fail(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        progress = statement.startswith("UPDATE deliveries SET") and "messages_sent" in statement
        dbapi = connection.connection.dbapi_connection
        composing = statement.startswith("SELECT articles.id") and not composed
        if admin is not None:
            if composing or (progress and len(faults) < 3):
                (faults if progress else composed).append(statement)
                with admin.begin() as other:
                    pid = dbapi.info.backend_pid
                    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            return
        if progress and not faults:
            locker = threading.Thread(target=hold_the_write_lock)
            locker.start()
            held.wait()
        refuse = progress and held.is_set()  # other writes wait for the lock as usual
        dbapi.execute(f"PRAGMA busy_timeout={50 if refuse else 10000}")
        if refuse:
            faults.append(statement)

    return faults


@pytest.mark.slow
async def test_a_progress_write_that_fails_after_a_send_is_retried_and_nothing_is_resent(
    fake_api: FakeTelegram, migrated_url: str
) -> None:
    postgres = migrated_url.startswith("postgresql")
    settings = replace(
        make_settings(migrated_url), delivery_lease_seconds=2, telegram_bot_token=fake_api.token,
        telegram_api_base_url=fake_api.base_url, telegram_file_base_url=fake_api.base_file_url,
    )  # fmt: skip
    application = build_application(settings)  # as `briefbot run` wires it
    ctx: AppContext = application.bot_data[KEY]
    assert not ctx.ingestor.ingest_paths([SEEDS]).errors
    now = datetime.now(UTC)
    chats = [5101, 5102, 5103, 5104]
    seed_chats(ctx.sessions, chats, briefing_time=f"{now - timedelta(minutes=1):%H:%M}",
               subscribed=now - timedelta(days=1))  # fmt: skip
    with ctx.sessions() as session, session.begin():
        session.query(Subscription).delete()
        session.add_all(
            Subscription(chat_id=chat, kind="topic", key=topic.slug, created_at=now - DAY)
            for chat in chats
            for topic in ctx.taxonomy.topics
        )
    faults = _store_fault(ctx.sessions.kw["bind"], POSTGRES_URL if postgres else None)
    async with application:
        await asyncio.wait_for(deliver_job(application), 60)
        assert faults  # the store really refused records of accepted sends
        assert {row.status for row in _rows(ctx.sessions)} == {"sent"}  # in the first run
        await asyncio.sleep(2.5)  # past the lease: a claim left unrecorded would be resumed
        await asyncio.wait_for(deliver_job(application), 60)
    rows = _rows(ctx.sessions)
    with ctx.sessions() as session:
        expected = {
            row.chat_id: list(session.get(Briefing, row.briefing_id).messages)  # type: ignore[union-attr]
            for row in rows
        }
    assert [(row.chat_id, row.status) for row in rows] == [(chat, "sent") for chat in chats]
    for row in rows:  # each chat got each message of its briefing exactly once, in order
        assert row.messages_sent == len(expected[row.chat_id]) > 0
        assert _accepted(fake_api, row.chat_id) == expected[row.chat_id]


def _accepted(fake: FakeTelegram, chat: int) -> list[str]:
    """The HTML of every message Telegram accepted for ``chat``, in order."""
    calls = fake.calls("sendMessage")
    return [
        str(c["params"]["text"])
        for c in calls
        if c["status"] == 200 and int(c["params"]["chat_id"]) == chat
    ]
