"""Scheduled delivery on SQLite against the fake Bot API: exactly once, flood limits, errors."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
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
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot

from bot.app import build_application
from bot.context import AppContext
from bot.delivery import Deliverer, DeliveryConfig, RunReport
from bot.jobs import AppJobStore, InboxWatch
from bot.sendgate import SendGate
from storage import chat_state, deliveries, delivery_report
from storage.models import Chat, Delivery, SourceDocument, Subscription

ROOT = Path(__file__).resolve().parent.parent
NOW = SLOT + timedelta(seconds=30)


@pytest.fixture
def sessions(sqlite_url: str) -> sessionmaker[Session]:
    return migrated_store(sqlite_url)


async def deliver(
    bot: Bot, sessions: sessionmaker[Session], now: datetime = NOW, **config: object
) -> RunReport:
    parts = int(config.pop("parts", 2))  # type: ignore[call-overload]
    deliverer = Deliverer(
        bot, sessions, text_composer(parts), fast_config(**config), clock=fixed_clock(now)
    )
    return await deliverer.run()


def rows(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.chat_id, Delivery.slot)))


def per_chat(fake: FakeTelegram) -> Counter[int]:
    return Counter(record["chat_id"] for record in fake.sent())


@pytest.mark.slow
async def test_due_briefings_go_out_once_even_when_the_job_runs_twice(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    chats = [101, 102, 103, 104, 105]
    seed_chats(sessions, chats)
    report = await deliver(bot, sessions)
    assert (report.due, report.sent, report.messages, report.failed) == (5, 5, 10, 0)
    assert per_chat(fake_api) == {chat: 2 for chat in chats}
    assert fake_api.texts(101) == ["Briefing for 101, part 1/2", "Briefing for 101, part 2/2"]
    for later in (NOW, NOW + timedelta(minutes=1), NOW + timedelta(hours=3)):
        again = await deliver(bot, sessions, later)
        assert (again.due, again.resumed, again.messages) == (0, 0, 0)
    assert len(fake_api.sent()) == 10
    assert [(r.chat_id, r.slot, r.status, r.messages_sent) for r in rows(sessions)] == [
        (chat, SLOT, deliveries.SENT, 2) for chat in chats
    ]
    tomorrow = await deliver(bot, sessions, NOW + timedelta(days=1))
    assert tomorrow.sent == 5


async def test_the_terminal_chat_and_inactive_chats_are_not_scheduled(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [0, 11, 12])
    deliveries_off = 12
    with sessions() as session, session.begin():
        assert chat_state.set_chat_active(session, deliveries_off, False)
        assert not chat_state.set_chat_active(session, 999, False)  # unknown chat
    report = await deliver(bot, sessions)
    assert (report.due, report.sent) == (1, 1)
    assert set(per_chat(fake_api)) == {11}


@pytest.mark.slow
async def test_two_concurrent_runs_never_send_a_slot_twice(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    chats = list(range(1, 61))
    seed_chats(sessions, chats)
    first, second = await asyncio.gather(deliver(bot, sessions), deliver(bot, sessions))
    assert first.sent + second.sent == 60
    assert per_chat(fake_api) == {chat: 2 for chat in chats}


async def test_catch_up_sends_the_latest_missed_slot_and_records_older_ones_skipped(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [7], subscribed=SLOT - timedelta(days=10))
    with sessions() as session, session.begin():  # last delivered three days ago
        session.add(Delivery(chat_id=7, slot=SLOT - timedelta(days=3), status="sent"))
    report = await deliver(bot, sessions, SLOT + timedelta(minutes=90))
    assert (report.sent, report.skipped) == (1, 2)
    assert [(r.slot, r.status) for r in rows(sessions)] == [
        (SLOT - timedelta(days=3), "sent"),
        (SLOT - timedelta(days=2), "skipped"),
        (SLOT - timedelta(days=1), "skipped"),
        (SLOT, "sent"),
    ]
    assert len(fake_api.sent(7)) == 2


async def test_catch_up_past_grace_sends_nothing(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [7], subscribed=SLOT - timedelta(days=2))
    report = await deliver(bot, sessions, SLOT + timedelta(hours=5), grace=timedelta(hours=2))
    assert (report.sent, report.skipped) == (0, 2)  # yesterday's and today's slots
    assert fake_api.sent() == []
    assert {r.status for r in rows(sessions)} == {"skipped"}


async def test_forbidden_deactivates_the_chat(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [201, 202])
    fake_api.block(202)
    report = await deliver(bot, sessions)
    assert (report.sent, report.failed, report.deactivated) == (1, 1, 1)
    with sessions() as session:
        assert session.get(Chat, 202).active is False  # type: ignore[union-attr]
        failed = session.scalars(select(Delivery).where(Delivery.chat_id == 202)).one()
    assert failed.status == "failed" and "blocked" in (failed.error or "")
    tomorrow = await deliver(bot, sessions, NOW + timedelta(days=1))
    assert tomorrow.due == 1  # only the active chat


async def test_retry_after_defers_and_resumes_without_resending(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [301])
    fake_api.set_rate_limit(None, per_chat=1 / 60, window=60)  # 2nd message: 429, retry 60 s
    report = await deliver(bot, sessions, max_inline_wait=1.0)
    assert (report.sent, report.deferred, report.retry_after) == (0, 1, 1)
    [row] = rows(sessions)
    assert (row.status, row.messages_sent) == ("retry", 1)
    assert row.next_attempt_at == NOW + timedelta(seconds=60)
    fake_api.set_rate_limit(None)
    early = await deliver(bot, sessions, NOW + timedelta(seconds=30))
    assert (early.resumed, early.messages) == (0, 0)
    later = await deliver(bot, sessions, NOW + timedelta(seconds=61))
    assert (later.resumed, later.sent, later.messages) == (1, 1, 1)
    assert fake_api.texts(301) == ["Briefing for 301, part 1/2", "Briefing for 301, part 2/2"]
    [row] = rows(sessions)
    assert (row.status, row.messages_sent, row.attempts) == ("sent", 2, 2)


@pytest.mark.slow
async def test_short_retry_after_is_waited_out_in_the_same_run(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [302])
    fake_api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 1})
    started = time.monotonic()
    report = await deliver(bot, sessions)
    assert (report.sent, report.retry_after, report.messages) == (1, 1, 2)
    assert time.monotonic() - started >= 1.0  # the whole gate paused for retry_after
    assert len(fake_api.sent(302)) == 2


async def test_chat_migrated_moves_the_chat_and_delivers_there(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [-401])
    fake_api.migrate(-401, -1009401)
    report = await deliver(bot, sessions)
    assert (report.sent, report.migrated) == (1, 1)
    assert len(fake_api.sent(-1009401)) == 2
    with sessions() as session:
        assert session.get(Chat, -401) is None
        assert session.get(Chat, -1009401) is not None
        subs = session.scalars(select(Subscription.chat_id)).all()
    assert subs == [-1009401]
    assert [(r.chat_id, r.status) for r in rows(sessions)] == [(-1009401, "sent")]


async def test_network_errors_are_retried_then_deferred_and_failed_only_after_grace(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [501])
    fake_api.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    report = await deliver(bot, sessions, parts=1)
    assert (report.sent, report.failed) == (1, 0)
    seed_chats(sessions, [502])
    fake_api.fail_next("sendMessage", 502, "Bad Gateway", times=10)
    report = await deliver(bot, sessions, parts=1, network_retries=2)
    assert (report.sent, report.failed, report.deferred) == (0, 0, 1)  # transient: not ended
    [row] = [r for r in rows(sessions) if r.chat_id == 502]
    assert row.status == "retry" and "network" in (row.error or "")
    assert row.next_attempt_at == NOW + timedelta(seconds=30)
    past_grace = SLOT + timedelta(hours=3)  # still failing when the grace period is over
    report = await deliver(bot, sessions, past_grace, parts=1, network_retries=2)
    assert (report.resumed, report.sent, report.failed) == (1, 0, 1)
    failed = [r for r in rows(sessions) if r.chat_id == 502]
    assert failed[0].status == "failed" and "grace period over" in (failed[0].error or "")


async def test_a_stale_claim_is_resumed_after_its_lease(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [601])
    with sessions() as session, session.begin():  # a worker claimed it and died
        claim = deliveries.claim_new(session, 601, SLOT, NOW)
    assert claim is not None
    fresh = await deliver(bot, sessions, NOW + timedelta(seconds=10), lease=timedelta(minutes=5))
    assert (fresh.due, fresh.resumed, fresh.messages) == (0, 0, 0)  # still leased
    stale = await deliver(bot, sessions, NOW + timedelta(minutes=6), lease=timedelta(minutes=5))
    assert (stale.resumed, stale.sent) == (1, 1)
    assert len(fake_api.sent(601)) == 2


def test_send_gate_paces_globally_and_per_chat() -> None:
    clock = [0.0]
    turns: list[tuple[int, float]] = []

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    async def main() -> None:
        gate = SendGate(10.0, clock=lambda: clock[0], sleep=sleep)
        for chat in (1, 2, 1, 3):
            await gate.wait(chat, spacing=1.0)
            gate.done()
            turns.append((chat, round(clock[0], 3)))
        gate.pause(5.0)
        await gate.wait(4, spacing=1.0)
        turns.append((4, round(clock[0], 3)))
        assert gate.interval > 0.1  # slowed down after the flood wait

    asyncio.run(main())
    assert turns == [(1, 0.0), (2, 0.1), (1, 1.0), (3, 1.1), (4, 6.1)]


def test_send_gate_frees_a_window_slot_one_second_after_the_response() -> None:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    async def main() -> list[float]:
        gate = SendGate(3.0, clock=lambda: clock[0], sleep=sleep)  # 3 per rolling second
        dispatched = []
        for chat in range(3):  # paced every 1/3 s, responses not back yet
            await gate.wait(chat, spacing=0.0)
            dispatched.append(round(clock[0], 3))
        clock[0] = 0.8
        gate.done()  # the first response is back at 0.8 s: its slot frees at 1.8 s
        await gate.wait(3, spacing=0.0)
        dispatched.append(round(clock[0], 3))
        return dispatched

    assert asyncio.run(main()) == [0.0, 0.333, 0.667, 1.8]


def test_config_from_settings() -> None:
    from conftest import make_settings

    settings = make_settings("sqlite://", quiet_hours="22:00-07:00", catchup_grace_minutes=30)
    config = DeliveryConfig.from_settings(settings)
    assert config.grace == timedelta(minutes=30) and config.quiet is not None
    assert config.rate == 25.0 and config.workers() == 50


def test_inbox_watch_remembers_unchanged_files(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    dump = inbox / "a.txt"
    dump.write_text("hello")
    watch = InboxWatch()
    later = time.time() + 60
    assert watch.changed(inbox, now=time.time()) == []  # still settling
    assert watch.changed(inbox, now=later) == [dump]
    watch.mark([dump])
    assert watch.changed(inbox, now=later) == []
    dump.write_text("hello again")
    assert watch.changed(inbox, now=later + 60) == [dump]
    dump.unlink()
    assert watch.changed(inbox, now=later) == [] and watch.seen == {}


def test_prune_and_counts(sessions: sessionmaker[Session]) -> None:
    seed_chats(sessions, [1, 2, 3])
    with sessions() as session, session.begin():
        session.add_all(
            [
                Delivery(chat_id=1, slot=SLOT, status="sent"),
                Delivery(chat_id=2, slot=SLOT, status="failed"),
                Delivery(chat_id=3, slot=SLOT, status="claimed"),
                Delivery(chat_id=1, slot=SLOT - timedelta(days=40), status="sent"),
                Delivery(chat_id=3, slot=SLOT - timedelta(days=40), status="claimed"),
            ]
        )
    start, end = delivery_report.day_bounds(NOW)
    with sessions() as session:
        counts = delivery_report.delivery_counts(session, start, end)
    assert (counts.sent, counts.failed, counts.pending) == (1, 1, 1)
    with sessions() as session, session.begin():
        assert deliveries.prune(session, NOW - timedelta(days=30)) == (1, 0)
    assert len(rows(sessions)) == 4  # the old pending claim is kept


@pytest.mark.slow
def test_sigkill_mid_fan_out_then_restart_delivers_every_slot_once(
    sqlite_url: str, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    chats = list(range(1000, 1150))
    seed_chats(sessions, chats)
    workers = 8

    def worker(now: datetime, lease: float) -> list[str]:
        return [
            sys.executable, str(ROOT / "tests" / "delivery_worker.py"), "--db", sqlite_url,
            "--base-url", fake_api.base_url, "--token", fake_api.token,
            "--now", now.isoformat(), "--rate", "100", "--workers", str(workers),
            "--lease", str(lease),
        ]  # fmt: skip

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(worker(NOW, 300), env=env, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        fake_api.wait_for_sync(60, timeout=30)  # mid fan-out
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    killed_at = len(fake_api.sent())
    assert killed_at < 2 * len(chats)
    with sessions() as session:
        claimed = session.scalars(select(Delivery).where(Delivery.status == "claimed")).all()
    assert claimed  # the crash left claims behind

    # restarted a minute later; a 30-second lease has expired by then
    second = subprocess.run(
        worker(NOW + timedelta(minutes=1), 30), env=env, cwd=ROOT, capture_output=True, timeout=60
    )
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    final = rows(sessions)
    assert len(final) == len(chats)
    assert {(r.status, r.messages_sent) for r in final} == {("sent", 2)}
    texts = Counter((r["chat_id"], r["plain"]) for r in fake_api.sent())
    for chat in chats:  # every message of every briefing arrived …
        assert texts[(chat, f"Briefing for {chat}, part 1/2")] >= 1
        assert texts[(chat, f"Briefing for {chat}, part 2/2")] >= 1
    # … and the only duplicates are messages in flight at the kill (at most one per worker)
    duplicates = sum(count - 1 for count in texts.values())
    assert duplicates <= workers
    assert len(fake_api.sent()) == 2 * len(chats) + duplicates


def test_settings_reject_bad_quiet_hours() -> None:
    from bot.settings import Settings, SettingsError

    assert Settings.from_env({"QUIET_HOURS": "22:00-07:00"}).quiet_hours == "22:00-07:00"
    assert Settings.from_env({"RETENTION_DAYS": "7"}).retention_days == 7
    with pytest.raises(SettingsError):
        Settings.from_env({"QUIET_HOURS": "late"})


async def test_my_chat_member_deactivates_and_reactivates(
    fake_api: FakeTelegram, ctx: AppContext
) -> None:
    point_at_fake(ctx, fake_api)
    seed_chats(ctx.sessions, [808])
    application = build_application(ctx.settings, ctx)

    def active() -> bool:
        with ctx.sessions() as session:
            return bool(session.get(Chat, 808).active)  # type: ignore[union-attr]

    async with application:
        for status, old, expected in (("kicked", "member", False), ("member", "left", True)):
            update = fake_api.my_chat_member(808, status, old_status=old, deliver=False)
            await application.process_update(fake_api.to_update(update, application.bot))
            assert active() is expected
        update = fake_api.my_chat_member(-909, "member", old_status="left", deliver=False)
        await application.process_update(fake_api.to_update(update, application.bot))
    with ctx.sessions() as session:  # added to a group: the group is known and active
        assert session.get(Chat, -909).active  # type: ignore[union-attr]


async def test_jobs_survive_a_restart_and_deliver_with_the_real_composer(
    fake_api: FakeTelegram, seeded_ctx: AppContext, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    dump = inbox / "new.txt"
    dump.write_text("Inbox test story\n\nA brand new story arrived in the inbox folder today.\n")
    os.utime(dump, (time.time() - 60, time.time() - 60))
    ctx = point_at_fake(seeded_ctx, fake_api, inbox_dir=inbox)
    now = datetime.now(UTC)
    at = f"{(now - timedelta(minutes=1)):%H:%M}"
    day_ago = now - timedelta(days=1)
    seed_chats(ctx.sessions, [4242], briefing_time=at, subscribed=day_ago)
    with ctx.sessions() as session, session.begin():  # every real topic of the seeded store
        session.query(Subscription).delete()
        for topic in ctx.taxonomy.topics:
            session.add(
                Subscription(chat_id=4242, kind="topic", key=topic.slug, created_at=day_ago)
            )

    async def serve_once() -> None:
        application = build_application(ctx.settings, ctx)
        async with application:
            await application.start()  # starts the JobQueue: deliver and inbox run at once
            try:
                for _ in range(200):
                    if rows(ctx.sessions) and _ingested(ctx.sessions, dump):
                        break
                    await asyncio.sleep(0.05)
            finally:
                await application.stop()

    await serve_once()
    await serve_once()  # a restart: same jobs, no second briefing
    [row] = rows(ctx.sessions)
    assert (row.chat_id, row.status) == (4242, "sent") and row.briefing_id is not None
    assert row.messages_sent >= 1 and len(fake_api.sent(4242)) == row.messages_sent
    assert "/read_" in fake_api.sent(4242)[0]["plain"]
    assert _ingested(ctx.sessions, dump)
    with ctx.sessions() as session:
        jobs = session.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all()
    assert sorted(jobs) == ["alerts", "deliver", "housekeeping", "inbox"]
    store = AppJobStore(None, engine=ctx.sessions.kw["bind"])  # type: ignore[arg-type]
    stored = {job.id: job for job in store.get_all_jobs()}
    assert stored["deliver"].args == (None,)  # persisted without the live Application
    assert all(job.coalesce and job.max_instances == 1 for job in stored.values())
    assert stored["deliver"].misfire_grace_time == 55
    assert stored["housekeeping"].misfire_grace_time == 6 * 3600


def _ingested(sessions: sessionmaker[Session], path: Path) -> bool:
    with sessions() as session:
        return (
            session.scalar(select(SourceDocument.id).where(SourceDocument.path == str(path)))
            is not None
        )


def test_deliveries_cli_lists_the_day(
    sessions: sessionmaker[Session],
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.cli import main

    seed_chats(sessions, [1, 2])
    with sessions() as session, session.begin():
        session.add(Delivery(chat_id=1, slot=SLOT, status="sent", attempts=1, sent_at=NOW))
        session.add(Delivery(chat_id=2, slot=SLOT, status="failed", attempts=4, error="network"))
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["deliveries", "--date", "2026-05-04"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2026-05-04 08:00Z  chat               1  sent")
    assert out[1].endswith("attempts 4  sent -  network")
    assert out[2] == "sent 1, failed 1, pending 0, skipped 0, empty 0"
    assert main(["deliveries", "--date", "May 4"]) == 2


def test_a_row_that_keeps_failing_is_given_up(sessions: sessionmaker[Session]) -> None:
    seed_chats(sessions, [9])
    with sessions() as session, session.begin():
        claim = deliveries.claim_new(session, 9, SLOT, NOW)
    assert claim is not None
    lease = timedelta(minutes=5)
    for attempt in range(2, 5):  # each worker dies; the next takes the row over
        later = NOW + attempt * timedelta(minutes=6)
        with sessions() as session, session.begin():
            assert deliveries.reclaimable(session, later, lease) == [claim.delivery_id]
            taken = deliveries.reclaim(session, claim.delivery_id, later, lease, max_attempts=4)
        assert taken is not None
    with sessions() as session, session.begin():
        later = NOW + timedelta(hours=1)
        assert deliveries.reclaim(session, claim.delivery_id, later, lease, max_attempts=4) is None
    [row] = rows(sessions)
    assert row.status == "failed" and row.attempts == 4 and "gave up" in (row.error or "")


async def test_a_message_flood_waited_again_and_again_is_deferred(
    bot: Bot, sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    seed_chats(sessions, [303])
    fake_api.fail_next("sendMessage", 429, "Too Many Requests", {"retry_after": 1}, times=20)

    virtual = [0.0]

    async def sleep(seconds: float) -> None:
        virtual[0] += seconds

    # the flood waits are honoured on a virtual clock: the gate's time moves, the test's not
    gate = SendGate(500.0, clock=lambda: virtual[0], sleep=sleep)
    deliverer = Deliverer(
        bot, sessions, text_composer(1), fast_config(), clock=fixed_clock(NOW), gate=gate
    )
    report = await deliverer.run()
    assert (report.retry_after, report.deferred, report.sent) == (6, 1, 0)
    [row] = rows(sessions)
    assert row.status == "retry" and row.next_attempt_at == NOW + timedelta(seconds=1)
    assert fake_api.sent() == []
    assert virtual[0] >= 5.0  # five one-second waits were honoured before giving up
