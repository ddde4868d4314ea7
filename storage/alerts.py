"""Alerts in the store: instant follows, the matching cursor, the queue of matched stories.

A matched story waits in ``alert_queue`` (one row per chat and story) until a delivery run
takes it: :func:`take_queued` deletes the chat's rows and returns them in one statement, so
two workers (or replicas) can never both take one. The batch it becomes is an ordinary
briefing (``kind="alert"``) with a delivery row, so claims, resumes and flood control are
those of the daily briefings (see storage/deliveries.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage import deliveries
from storage.models import (
    AlertCursor,
    AlertQueue,
    Article,
    Briefing,
    BriefingStory,
    Chat,
    Delivery,
    Subscription,
)

DAILY, INSTANT = "daily", "instant"  # Subscription.delivery
ALERT, BACKLOG = "alert", "backlog"  # AlertQueue.reason
CURSOR = "alerts"
CHUNK = 2000  # ids per IN (...) query


@dataclass(frozen=True)
class InstantFollow:
    """An instant follow of an active chat."""

    subscription_id: int
    chat_id: int
    key: str


@dataclass(frozen=True)
class Queued:
    """A queued story for a chat."""

    story_id: int
    article_id: int
    reason: str
    queued_at: datetime


def index_stemmer(session: Session) -> str:
    """The PyStemmer algorithm of the full-text index: FTS5's ``porter``, or PostgreSQL's
    ``english`` (Snowball), so that in-memory matching stems like the index does."""
    return "english" if session.get_bind().dialect.name == "postgresql" else "porter"


def instant_follows(session: Session) -> list[InstantFollow]:
    """Every instant follow of an active chat, oldest first."""
    rows = session.execute(
        select(Subscription.id, Subscription.chat_id, Subscription.key)
        .join(Chat, Chat.id == Subscription.chat_id)
        .where(
            Subscription.kind == "follow",
            Subscription.delivery == INSTANT,
            Chat.active.is_(True),
            Chat.id != deliveries.TERMINAL_CHAT,
        )
        .order_by(Subscription.id)
    )
    return [InstantFollow(int(sid), int(cid), key) for sid, cid, key in rows]


def set_delivery(session: Session, chat_id: int, subscription_id: int, delivery: str) -> bool:
    """Make one of the chat's follows daily or instant; False when it has no such follow.

    Args:
        session: the caller's transaction.
        chat_id: the chat (a chat can only change its own follows).
        subscription_id: the follow.
        delivery: DAILY or INSTANT.
    """
    result = session.execute(
        update(Subscription)
        .where(
            Subscription.id == subscription_id,
            Subscription.chat_id == chat_id,
            Subscription.kind == "follow",
        )
        .values(delivery=delivery)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def cursor(session: Session, now: datetime) -> int:
    """The id of the newest article matching has read (locked for the caller's transaction).

    A store without a cursor starts it at its newest article: alerts are for news that
    arrives after the first instant follow (which calls this), never for the archive.

    Args:
        session: the caller's transaction (keep it open until :func:`advance`).
        now: when a new cursor is created.
    """
    row = session.scalars(
        select(AlertCursor).where(AlertCursor.name == CURSOR).with_for_update()
    ).first()
    if row is not None:
        return int(row.last_article_id)
    newest = int(session.scalar(select(func.max(Article.id))) or 0)
    session.add(AlertCursor(name=CURSOR, last_article_id=newest, updated_at=now))
    session.flush()
    return newest


def advance(session: Session, last_article_id: int, now: datetime) -> None:
    """Record that matching has read every article up to ``last_article_id``."""
    session.execute(
        update(AlertCursor)
        .where(AlertCursor.name == CURSOR)
        .values(last_article_id=last_article_id, updated_at=now)
    )


def newest_article_id(session: Session) -> int:
    """The largest article id (0 for an empty store): where a matching run stops."""
    return int(session.scalar(select(func.max(Article.id))) or 0)


def article_stories(session: Session, article_ids: Iterable[int]) -> dict[int, int]:
    """Article id -> story id for the given articles (those without a story are left out)."""
    wanted = sorted(set(article_ids))
    out: dict[int, int] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        for article_id, story_id in session.execute(
            select(Article.id, Article.story_id).where(
                Article.id.in_(part), Article.story_id.is_not(None)
            )
        ):
            out[int(article_id)] = int(story_id)
    return out


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(AlertQueue)


def enqueue(
    session: Session, items: Iterable[tuple[int, int, int]], reason: str, now: datetime
) -> int:
    """Queue (chat, story, article) for alerting; stories a chat was sent or has queued stay.

    Args:
        session: the caller's transaction.
        items: (chat id, story id, matching article id).
        reason: ALERT or BACKLOG.
        now: when they were queued.
    """
    wanted: dict[tuple[int, int], int] = {}
    for chat_id, story_id, article_id in items:
        wanted.setdefault((chat_id, story_id), article_id)
    if not wanted:
        return 0
    by_chat: dict[int, list[int]] = {}
    for chat_id, story_id in wanted:
        by_chat.setdefault(chat_id, []).append(story_id)
    sent = set(_sent(session, by_chat))
    # one bound value for every row, and the driver's executemany: tens of thousands of
    # matches from one big ingest cost what the database needs, not SQLAlchemy per row
    dialect = session.get_bind().dialect
    bind = AlertQueue.__table__.c.queued_at.type.dialect_impl(dialect).bind_processor(dialect)
    queued_at = bind(now) if bind else now
    rows = [(c, s, a, reason, queued_at) for (c, s), a in wanted.items() if (c, s) not in sent]
    if not rows:
        return 0
    mark = "%s" if dialect.name == "postgresql" else "?"
    sql = (
        "INSERT INTO alert_queue (chat_id, story_id, article_id, reason, queued_at) VALUES "
        f"({', '.join([mark] * 5)}) ON CONFLICT (chat_id, story_id) DO NOTHING"
    )
    before = _queued_count(session)
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()
    return _queued_count(session) - before  # (an executemany's rowcount is -1 on psycopg)


def _queued_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AlertQueue)) or 0)


def _sent(session: Session, by_chat: dict[int, list[int]]) -> Iterator[tuple[int, int]]:
    chats = list(by_chat)
    for start in range(0, len(chats), 500):
        part = chats[start : start + 500]
        stories = sorted({s for c in part for s in by_chat[c]})
        yield from session.execute(
            select(BriefingStory.chat_id, BriefingStory.story_id).where(
                BriefingStory.chat_id.in_(part),
                BriefingStory.story_id >= stories[0],
                BriefingStory.story_id <= stories[-1],
            )
        ).tuples()


def queued_chats(session: Session) -> dict[int, set[str]]:
    """Active chats with queued stories, with the reasons they are queued for."""
    rows = session.execute(
        select(AlertQueue.chat_id, AlertQueue.reason)
        .join(Chat, Chat.id == AlertQueue.chat_id)
        .where(Chat.active.is_(True))
        .distinct()
    )
    out: dict[int, set[str]] = {}
    for chat_id, reason in rows:
        out.setdefault(int(chat_id), set()).add(reason)
    return out


def take_queued(session: Session, chat_id: int, reasons: Sequence[str]) -> list[Queued]:
    """Remove and return the chat's queued stories (oldest first) left unsent so far.

    ``DELETE … RETURNING``: a row is returned to one transaction only (PostgreSQL makes a
    second deleter wait and then skip it; SQLite has one writer at a time).

    Args:
        session: the caller's transaction (the one that saves the batch).
        chat_id: the chat.
        reasons: which rows to take (ALERT, BACKLOG).
    """
    rows = session.execute(
        delete(AlertQueue)
        .where(AlertQueue.chat_id == chat_id, AlertQueue.reason.in_(list(reasons)))
        .returning(
            AlertQueue.story_id, AlertQueue.article_id, AlertQueue.reason, AlertQueue.queued_at
        )
    ).all()
    if not rows:
        return []
    sent = set(
        session.scalars(
            select(BriefingStory.story_id).where(
                BriefingStory.chat_id == chat_id,
                BriefingStory.story_id.in_([int(r[0]) for r in rows]),
            )
        )
    )
    taken = [Queued(int(s), int(a), r, q) for s, a, r, q in rows if int(s) not in sent]
    return sorted(taken, key=lambda q: (q.queued_at, q.story_id))


def alerts_since(session: Session, chat_id: int, since: datetime) -> int:
    """How many alert batches the chat was sent (or is being sent) since ``since``."""
    count = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.chat_id == chat_id,
            Delivery.kind == deliveries.ALERT,
            Delivery.slot >= since,
            Delivery.status.in_([deliveries.SENT, *deliveries.PENDING]),
        )
    )
    return int(count or 0)


def chat_zones(session: Session, chat_ids: Iterable[int]) -> dict[int, str | None]:
    """Each chat's time zone (None when it set none)."""
    wanted = list(set(chat_ids))
    out: dict[int, str | None] = {}
    for start in range(0, len(wanted), 500):
        for chat_id, zone in session.execute(
            select(Chat.id, Chat.timezone).where(Chat.id.in_(wanted[start : start + 500]))
        ):
            out[int(chat_id)] = zone
    return out


def alert_story_ids(session: Session, chat_id: int, briefing_id: int) -> list[int] | None:
    """The stories of one of the chat's alert batches, in order; None when it has no such one.

    Args:
        session: an open session.
        chat_id: the chat (a chat can only open its own batches).
        briefing_id: the batch's briefing row.
    """
    row = session.get(Briefing, briefing_id)
    if row is None or row.chat_id != chat_id or row.kind != "alert":
        return None
    return [int(story_id) for story_id in row.story_ids]


def prune_queue(session: Session, before: datetime) -> int:
    """Drop stories queued before ``before`` (held that long, they wait for the daily briefing).

    Args:
        session: the caller's transaction.
        before: the cut-off.
    """
    result = session.execute(delete(AlertQueue).where(AlertQueue.queued_at < before))
    return int(getattr(result, "rowcount", 0) or 0)
