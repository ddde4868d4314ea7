"""Delivery on PostgreSQL: replicas never send a slot twice nor miss one."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
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
from fakebot import FakeTelegram
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot

from bot.delivery import Deliverer
from storage import chat_state, deliveries
from storage.engine import make_engine, make_session_factory
from storage.models import Chat, Delivery, Subscription

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent
NOW = SLOT + timedelta(seconds=20)


@pytest.fixture
def pg_sessions(postgres_url: str) -> sessionmaker[Session]:
    return migrated_store(postgres_url)


@pytest.mark.slow
def test_two_replicas_1000_subscribers_no_duplicates_none_missing(
    postgres_url: str, pg_sessions: sessionmaker[Session], fake_api: FakeTelegram
) -> None:
    chats = list(range(10_000, 11_000))
    seed_chats(pg_sessions, chats)
    command = [
        sys.executable, str(ROOT / "tests" / "delivery_worker.py"), "--db", postgres_url,
        "--base-url", fake_api.base_url, "--token", fake_api.token, "--now", NOW.isoformat(),
        "--rate", "2000", "--workers", "16", "--parts", "1",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    replicas = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    reports = []
    for replica in replicas:
        out, err = replica.communicate(timeout=120)
        assert replica.returncode == 0, err.decode()[-2000:]
        reports.append(json.loads(out))
    assert sum(r["sent"] for r in reports) == len(chats)
    assert all(r["errors"] == [] for r in reports)
    received = Counter(record["chat_id"] for record in fake_api.sent())
    assert set(received) == set(chats)  # none missing
    assert set(received.values()) == {1}  # no duplicates
    with pg_sessions() as session:
        statuses = Counter(session.scalars(select(Delivery.status)))
        per_slot = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.slot == SLOT)
        )
    assert statuses == {"sent": len(chats)} and per_slot == len(chats)


@pytest.mark.slow
async def test_stale_claims_are_taken_over_by_exactly_one_replica(
    postgres_url: str, pg_sessions: sessionmaker[Session], fake_api: FakeTelegram, bot: Bot
) -> None:
    chats = list(range(20_000, 20_200))
    seed_chats(pg_sessions, chats)
    with pg_sessions() as session, session.begin():  # a crashed worker left these claimed
        for chat in chats:
            assert deliveries.claim_new(session, chat, SLOT, NOW) is not None
    later = NOW + timedelta(minutes=10)
    other = make_session_factory(make_engine(postgres_url))  # a second replica's engine
    runs = [
        Deliverer(bot, factory, text_composer(1), fast_config(), clock=fixed_clock(later)).run()
        for factory in (pg_sessions, other)
    ]
    first, second = await asyncio.gather(*runs)
    assert first.resumed + second.resumed > len(chats)  # both went for the same rows …
    assert first.sent + second.sent == len(chats)  # … each was sent by one of them
    assert Counter(r["chat_id"] for r in fake_api.sent()) == {chat: 1 for chat in chats}


def test_chat_migration_on_postgresql(pg_sessions: sessionmaker[Session]) -> None:
    seed_chats(pg_sessions, [-5, -6])
    with pg_sessions() as session, session.begin():
        session.add(Delivery(chat_id=-5, slot=SLOT, status="sent"))
        session.add(Subscription(chat_id=-6, kind="topic", key="t0"))  # -6 already knows t0
        session.add(Delivery(chat_id=-6, slot=SLOT, status="sent"))
        session.add(Delivery(chat_id=-5, slot=SLOT - timedelta(days=1), status="sent"))
    with pg_sessions() as session, session.begin():
        chat_state.migrate_chat(session, -5, -6)
    with pg_sessions() as session:
        assert session.get(Chat, -5) is None
        keys = sorted(session.scalars(select(Subscription.key).where(Subscription.chat_id == -6)))
        slots = session.scalars(select(Delivery.slot).where(Delivery.chat_id == -6)).all()
    assert keys == ["t0", "t1"]
    assert sorted(slots) == [SLOT - timedelta(days=1), SLOT]
