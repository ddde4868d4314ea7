"""Replies stay quick under load (issue 12), through the application as `briefbot run` wires it.

* A reply goes ahead of the queued fan-out in the one send gate.
* A handler's database call does not block the event loop.
* Chats are served side by side, one chat's updates in order.
* A large inbox ingest runs in a child process and stores what a thread would.

Nothing here times a figure (benchmarks/responsiveness.py does): the assertions are about
order and about what ran while something else waited.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import SEEDS
from delivery_worker import seed_chats
from factories import App, point_at_fake
from fakebot import FakeTelegram

from bot.app import build_application
from bot.context import AppContext
from bot.ingest_process import IngestProcess
from bot.jobs import deliver_job, inbox_job
from storage.models import Article, Chat, SourceDocument, Subscription

USER = 4242
SUBSCRIBERS = list(range(9001, 9016))


@asynccontextmanager
async def started(ctx: AppContext, fake: FakeTelegram, *, poll: bool = False) -> AsyncIterator[App]:
    """The Application of `briefbot run` on ``ctx`` (its jobs not scheduled to run by
    themselves here: the test calls them), optionally long-polling the fake."""
    application = build_application(ctx.settings, ctx)
    assert application.updater is not None and application.job_queue is not None
    async with application:
        if poll:
            await application.updater.start_polling(poll_interval=0.0, timeout=5)
        await application.start()
        application.job_queue.scheduler.pause()  # the test runs the jobs it means to
        try:
            yield application
        finally:
            if poll:
                await application.updater.stop()
            await application.stop()


def _subscribe_to_everything(ctx: AppContext, chat_ids: list[int]) -> None:
    now = datetime.now(UTC)
    day_ago = now - timedelta(days=1)
    seed_chats(ctx.sessions, chat_ids, briefing_time=f"{now - timedelta(minutes=1):%H:%M}",
               subscribed=day_ago)  # fmt: skip
    with ctx.sessions() as session, session.begin():
        session.query(Subscription).delete()
        for chat_id in chat_ids:
            for topic in ctx.taxonomy.topics:
                session.add(Subscription(chat_id=chat_id, kind="topic", key=topic.slug,
                                         created_at=day_ago))  # fmt: skip


@pytest.mark.slow
async def test_a_reply_goes_ahead_of_the_queued_fan_out(
    fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    # 5 sends a second: the deliverer's 10 workers keep about 9 turns booked ahead
    ctx = point_at_fake(seeded_ctx, fake_api, send_rate_per_second=5.0)
    _subscribe_to_everything(ctx, SUBSCRIBERS)
    ctx.seen_chats.add(USER)

    def briefing_messages() -> int:
        return sum(1 for record in fake_api.sent() if record["chat_id"] in SUBSCRIBERS)

    async with started(ctx, fake_api) as application:
        fan_out = asyncio.create_task(deliver_job(application))
        try:
            await fake_api.wait_for(4, timeout=30)
            assert not fan_out.done()  # the fan-out is under way, most of it queued
            before = briefing_messages()
            update = fake_api.send_command(USER, "help", deliver=False)
            await application.process_update(fake_api.to_update(update, application.bot))
            sent = fake_api.sent()
            reply = next(i for i, r in enumerate(sent) if r["chat_id"] == USER)
            ahead = sum(1 for r in sent[:reply] if r["chat_id"] in SUBSCRIBERS) - before
            assert not fan_out.done()
        finally:
            fan_out.cancel()
            await asyncio.gather(fan_out, return_exceptions=True)
    # at most the send in flight and one paced turn went first, not the ~9 booked ones
    assert ahead <= 2, ahead


def _lock_store(ctx: AppContext) -> sqlite3.Connection:
    """Another connection takes SQLite's write lock (as a long ingest's transaction does)."""
    connection = sqlite3.connect(ctx.sessions.kw["bind"].url.database, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    return connection


async def test_a_handler_waiting_for_the_store_does_not_block_the_loop(
    fake_api: FakeTelegram, ctx: AppContext
) -> None:
    point_at_fake(ctx, fake_api)
    async with started(ctx, fake_api) as application:
        locker = _lock_store(ctx)
        try:  # a chat's first contact is recorded: a write that waits for the lock
            update = fake_api.send_command(USER, "help", deliver=False)
            handler = asyncio.create_task(
                application.process_update(fake_api.to_update(update, application.bot))
            )
            ticks = 0
            while ticks < 10 and not handler.done():  # a probe of the event loop
                await asyncio.sleep(0.05)
                ticks += 1
            assert ticks == 10 and not handler.done()  # the loop ran on while it waited
        finally:
            locker.rollback()
            locker.close()
        await handler
    assert fake_api.sent(USER)  # answered once the store was free …
    with ctx.sessions() as session:  # … and the chat recorded
        assert session.get(Chat, USER) is not None


@pytest.mark.slow
async def test_chats_are_served_side_by_side_and_each_chat_in_order(
    fake_api: FakeTelegram, ctx: AppContext
) -> None:
    point_at_fake(ctx, fake_api)
    other = USER + 1
    ctx.seen_chats.add(other)  # known already: its commands need no write
    async with started(ctx, fake_api, poll=True):
        locker = _lock_store(ctx)
        try:
            fake_api.send_command(USER, "help")  # waits for the store (first contact) …
            fake_api.send_command(USER, "topics")  # … and this one waits for it
            fake_api.send_command(other, "help")
            await fake_api.wait_for(1, chat_id=other, timeout=20)  # served meanwhile
            assert fake_api.sent(USER) == []
        finally:
            locker.rollback()
            locker.close()
        first, second = await fake_api.wait_for(2, chat_id=USER, timeout=20)
    assert "/search" in first["plain"]  # /help came first …
    assert "topics" in second["plain"] and "/search" not in second["plain"]  # … then /topics


@pytest.mark.slow
async def test_a_large_inbox_ingest_runs_in_a_child_process(
    fake_api: FakeTelegram, ctx: AppContext, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for seed in SEEDS.iterdir():
        shutil.copy(seed, inbox / seed.name)
        os.utime(inbox / seed.name, (time.time() - 600, time.time() - 600))  # settled
    point_at_fake(ctx, fake_api, inbox_dir=inbox)
    ctx.ingest_process = IngestProcess(min_bytes=0)  # every input counts as large
    caplog.set_level(logging.INFO, logger="bot")
    async with started(ctx, fake_api) as application:
        await inbox_job(application)
        assert not ctx.ingestor.busy  # the lock was held for the child, and let go
        await inbox_job(application)  # unchanged files: nothing to do
    children = [r for r in caplog.records if "in child process" in r.getMessage()]
    assert len(children) == 1 and str(os.getpid()) not in children[0].getMessage()
    assert any("inbox: 2 files read, 8 articles stored" in r.getMessage() for r in caplog.records)
    with ctx.sessions() as session:
        assert session.query(SourceDocument).count() == 2
        assert session.query(Article).count() == 8
    assert ctx.ingestor.ingest_paths([SEEDS]).stored == 0  # in-process: duplicates known
