"""Delivery replicas (`briefbot run --deliver-only`) and one send rate across processes."""

from __future__ import annotations

import asyncio
import bisect
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from clirun import BRIEFBOT, assert_refused, briefbot, clean_env
from conftest import SEEDS, make_settings
from fakebot import FakeTelegram

from bot.app import build_context
from bot.replica import Share, recount
from bot.sendgate import SendGate, share_of
from storage import deliveries
from storage.engine import make_engine
from storage.errors import ReplicaSlotsFull
from storage.models import Briefing, Chat, Delivery, Subscription
from storage.replicas import MAX_SLOTS, join_replicas, slot_count


def most_in_one_second(times: list[float]) -> int:
    """The most events in any half-open second."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered)), default=0)


@pytest.mark.parametrize("rate", [1.0, 2.5, 4.0, 25.0, 30.0, 100.0])
def test_the_parts_of_the_rate_never_add_up_to_more_than_the_rate(rate: float) -> None:
    assert share_of(rate, 1) == (1.0 / rate, max(1, int(rate)))
    for replicas in range(1, slot_count(rate) + 1):
        interval, per_second = share_of(rate, replicas)
        assert interval == pytest.approx(replicas / rate)
        assert per_second >= 1 and replicas * per_second <= rate
    assert slot_count(rate) == min(MAX_SLOTS, max(1, int(rate)))


def _grant_times(gate: SendGate, clock: list[float], sends: int) -> list[float]:
    """Dispatch ``sends`` to distinct chats, each answered at once; when each was granted."""

    async def main() -> list[float]:
        granted = []
        for chat in range(sends):
            await gate.wait(chat, spacing=0.0)
            granted.append(clock[0])
            gate.done()
        return granted

    return asyncio.run(main())


def _virtual_gate(rate: float) -> tuple[SendGate, list[float]]:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    return SendGate(rate, clock=lambda: clock[0], sleep=sleep), clock


def test_a_gate_sharing_the_rate_sends_its_part_and_speeds_up_again() -> None:
    gate, clock = _virtual_gate(25.0)
    gate.set_share(2)
    half = _grant_times(gate, clock, 60)
    assert most_in_one_second(half) == 12  # floor(25 / 2): two such processes send 24
    assert gate.interval == pytest.approx(0.08)
    gate.set_share(1)
    start = clock[0] + 1.0  # the part-rate sends have left the window
    clock[0] = start
    whole = _grant_times(gate, clock, 100)
    assert most_in_one_second(whole) == 25
    assert whole[-1] - start == pytest.approx(99 / 25, rel=0.05)


def test_a_flood_wait_slowdown_carries_over_into_the_share() -> None:
    gate, _ = _virtual_gate(20.0)
    gate.pause(0.0)  # a flood wait: 5% slower
    assert gate.interval == pytest.approx(1.05 / 20)
    gate.set_share(4)
    assert gate.interval == pytest.approx(1.05 * 4 / 20)
    gate.set_share(1)
    assert gate.interval == pytest.approx(1.05 / 20)


def test_a_hold_delays_every_turn_without_a_flood_wait() -> None:
    gate, clock = _virtual_gate(10.0)
    gate.hold(5.0)
    assert gate.paused_for() == 0.0  # the deliverer defers on a flood wait, not on a hold
    assert _grant_times(gate, clock, 2) == pytest.approx([5.0, 5.1])


def test_replica_slots_count_the_processes_of_a_store(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(4)]
    try:
        first = join_replicas(engines[0], 3.0)
        if not first.shared:  # SQLite: one process, the poller, at the whole rate
            assert first.live() == 1 and join_replicas(engines[1], 3.0).live() == 1
            return
        assert first.live() == 1
        second = join_replicas(engines[1], 3.0)
        assert first.live() == second.live() == 2
        third = join_replicas(engines[2], 3.0)
        with pytest.raises(ReplicaSlotsFull, match="all 3 replica slots"):
            join_replicas(engines[3], 3.0)  # three a second leave no part for a fourth
        second.release()
        assert first.live() == third.live() == 2
        fourth = join_replicas(engines[3], 3.0)  # the freed slot
        assert fourth.live() == 3
        for slot in (first, third, fourth):
            slot.release()
    finally:
        for engine in engines:
            engine.dispose()


def test_a_gate_slows_down_at_the_first_count_of_more_and_speeds_up_at_the_second_of_fewer(
    postgres_url: str,
) -> None:
    engines = [make_engine(postgres_url) for _ in range(3)]
    mine = join_replicas(engines[0], 25.0)
    share = Share(mine, time.monotonic(), mine.live())
    gate = SendGate(25.0)

    def count() -> tuple[int, float]:
        asyncio.run(recount(share, gate))
        return share.replicas, 1.0 / gate.interval

    try:
        assert count() == (1, pytest.approx(25.0))
        others = [join_replicas(engine, 25.0) for engine in engines[1:]]
        assert count() == (3, pytest.approx(25.0 / 3))  # at once
        others.pop().release()
        assert count() == (3, pytest.approx(25.0 / 3))  # its last sends may still be in a window
        assert count() == (2, pytest.approx(12.5))
        for other in others:
            other.release()
    finally:
        share.release()
        for engine in engines:
            engine.dispose()


@pytest.mark.slow
def test_a_delivery_replica_refuses_sqlite_and_a_missing_token_in_one_line(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    refused = briefbot(
        tmp_path, "run", "--deliver-only", DATABASE_URL=url, TELEGRAM_BOT_TOKEN="1:x"
    )
    assert "PostgreSQL" in assert_refused(refused, "DATABASE_URL")
    refused = briefbot(tmp_path, "run", "--deliver-only", DATABASE_URL=url)
    assert_refused(refused, "TELEGRAM_BOT_TOKEN")
    assert not (tmp_path / "store.sqlite3").exists()  # refused before the store was opened


RATE = 4  # SEND_RATE_PER_SECOND: alone 4 a second; two processes at 2 a second each
CHATS = 200  # one message each: enough that the replica is still sending when the poller joins


def _subscribe_everyone(url: str) -> list[int]:
    """A store holding the seeds and CHATS chats subscribed to every topic, briefing due."""
    ctx = build_context(make_settings(url))
    assert not ctx.ingestor.ingest_paths([SEEDS]).errors
    now = datetime.now(UTC)
    due, since = now - timedelta(minutes=2), now - timedelta(days=1)
    chats = list(range(7_000_000, 7_000_000 + CHATS))
    with ctx.sessions() as session, session.begin():
        session.execute(sa.insert(Chat), [
            {"id": c, "kind": "private", "active": True, "timezone": "UTC",
             "briefing_time": f"{due:%H:%M}", "created_at": since} for c in chats
        ])  # fmt: skip
        session.execute(sa.insert(Subscription), [
            {"chat_id": c, "kind": "topic", "key": t.slug, "created_at": since}
            for c in chats for t in ctx.taxonomy.topics
        ])  # fmt: skip
    ctx.sessions.kw["bind"].dispose()
    return chats


def _wait(
    what: str, until: float, done: Callable[[], object], procs: list[subprocess.Popen[str]]
) -> None:
    while not done():
        for proc in procs:
            assert proc.poll() is None, f"a process stopped while waiting for {what}"
        assert time.monotonic() < until, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_poller_and_a_delivery_replica_send_each_briefing_once_within_the_rate(
    postgres_url: str, fake_api: FakeTelegram, tmp_path: Path
) -> None:
    chats = _subscribe_everyone(postgres_url)
    env = clean_env(
        DATABASE_URL=postgres_url, SEEDS_DIR=str(SEEDS), INBOX_DIR=str(tmp_path / "inbox"),
        TELEGRAM_BOT_TOKEN=fake_api.token, TELEGRAM_API_BASE_URL=fake_api.base_url,
        TELEGRAM_FILE_BASE_URL=fake_api.base_file_url, SEND_RATE_PER_SECOND=str(RATE),
        LOG_LEVEL="INFO",
    )  # fmt: skip
    logs = {name: (tmp_path / f"{name}.log").open("w+") for name in ("replica", "poller")}
    procs: list[subprocess.Popen[str]] = []
    engine = make_engine(postgres_url)

    def start(name: str, *args: str) -> None:
        procs.append(subprocess.Popen(
            [BRIEFBOT, "run", *args], env=env, cwd=tmp_path, stderr=logs[name], text=True
        ))  # fmt: skip

    def finished() -> bool:
        with engine.connect() as connection:
            done = connection.execute(
                sa.select(sa.func.count()).where(Delivery.status == deliveries.SENT)
            ).scalar()
        return done == CHATS

    try:
        start("replica", "--deliver-only")  # first, alone: it delivers and never polls
        deadline = time.monotonic() + 90
        _wait("the replica's first sends", deadline, lambda: fake_api.calls("sendMessage"), procs)
        assert not fake_api.calls("getUpdates") and not fake_api.calls("setMyCommands")
        start("poller")
        _wait("the poller", deadline, lambda: fake_api.calls("getUpdates"), procs)
        second = subprocess.run(
            [BRIEFBOT, "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert "another `briefbot run`" in assert_refused(second, "DATABASE_URL")
        _wait("every briefing", time.monotonic() + 180, finished, procs)
        time.sleep(2.0)  # each delivery run logs its report when its last send is back
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGINT)
        for proc in procs:
            proc.wait(timeout=60)
    text = {name: (log.seek(0), log.read())[1] for name, log in logs.items()}
    for name, err in text.items():
        assert "Traceback" not in err and "Conflict" not in err, f"{name}:\n{err[-3000:]}"
        sent = sum(int(n) for n in re.findall(r"delivery run: .*?\bsent=(\d+)", err))
        assert sent > 0, f"the {name} delivered nothing:\n{err[-3000:]}"  # both shared the work
    calls = fake_api.calls("sendMessage")
    assert most_in_one_second([call["time"] for call in calls]) <= RATE
    received: dict[int, Counter[str]] = {}
    for call in calls:
        assert call["status"] == 200
        received.setdefault(int(call["params"]["chat_id"]), Counter())[call["params"]["text"]] += 1
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(Delivery.chat_id, Briefing.messages).join(
                Briefing, Briefing.id == Delivery.briefing_id
            )
        )
        expected = {int(chat): list(messages) for chat, messages in rows}
    engine.dispose()
    assert sorted(expected) == chats
    for chat in chats:  # every message of each briefing, each exactly once
        assert received[chat] == Counter(expected[chat]), chat
