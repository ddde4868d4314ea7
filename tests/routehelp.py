"""Helpers for the channel and forum tests: a seeded store on either engine, a due slot."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import SEEDS, make_settings
from fakebot import FakeTelegram
from sqlalchemy import func, select, update
from telegram.ext import Application

from bot.app import build_context
from bot.context import AppContext
from bot.jobs import deliver_job
from storage import deliveries as log_
from storage.models import AlertQueue, Chat, Delivery, Subscription


def seeded_store(database_url: str) -> AppContext:
    """An AppContext on ``database_url`` holding the ingested seed dumps."""
    ctx = build_context(make_settings(database_url))
    report = ctx.ingestor.ingest_paths([SEEDS])
    assert not report.errors and report.stored, report
    return ctx


def make_due(ctx: AppContext, chat_id: int) -> None:
    """Make the chat's briefing due now: its time a minute ago, subscribed since yesterday."""
    now = datetime.now(UTC)
    with ctx.sessions() as session, session.begin():
        chat = session.get(Chat, chat_id)
        assert chat is not None
        chat.timezone, chat.briefing_time = "UTC", f"{now - timedelta(minutes=1):%H:%M}"
        session.execute(
            update(Subscription)
            .where(Subscription.chat_id == chat_id)
            .values(created_at=now - timedelta(days=1))
        )


async def deliver(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """One run of the production delivery job."""
    await asyncio.wait_for(deliver_job(application), 60)


def deliveries(ctx: AppContext, chat_id: int, kind: str = log_.BRIEFING) -> list[Delivery]:
    """The chat's delivery rows of one kind (daily briefings by default), oldest first."""
    with ctx.sessions() as session:
        query = select(Delivery).where(Delivery.chat_id == chat_id, Delivery.kind == kind)
        return list(session.scalars(query.order_by(Delivery.slot)))


async def backlog_settled(ctx: AppContext, chat_id: int, timeout: float = 30.0) -> None:
    """Wait until the backlog a new subscription sends in the background has gone out."""
    final = {log_.SENT, log_.EMPTY, log_.FAILED, log_.SKIPPED}
    deadline = time.monotonic() + timeout
    while True:
        with ctx.sessions() as session:
            queued = session.scalar(
                select(func.count()).select_from(AlertQueue).where(AlertQueue.chat_id == chat_id)
            )
        rows = deliveries(ctx, chat_id, log_.ALERT)
        if not queued and all(row.status in final for row in rows):
            return
        assert time.monotonic() < deadline, "the backlog was not sent"
        await asyncio.sleep(0.05)


def read_ids(records: list[dict[str, Any]]) -> list[str]:
    """Every ``/read_<id>`` of a briefing's entries (their first line of commands)."""
    return [
        found
        for record in records
        for line in (record["plain"] or "").splitlines()
        if (found := _read(line))
    ]


def _read(line: str) -> str | None:
    match = re.fullmatch(r"/read_(\d+)", line.strip())
    return match.group(1) if match else None


def first_section(ctx: AppContext, chat_id: int) -> str:
    """The topic of the first section the chat's briefing would have now (composed, not saved)."""
    from briefings.digest.composer import compose_briefing

    with ctx.sessions() as session:
        composed = compose_briefing(
            session, chat_id=chat_id, taxonomy=ctx.taxonomy, now=datetime.now(UTC)
        )
    assert len(composed.sections) > 1, composed.sections
    return composed.section_keys[0]


def no_errors(fake: FakeTelegram) -> None:
    """Nothing the bot sent was refused, except what a test provoked on purpose."""
    assert not fake.rejected, fake.rejected
