"""Briefings in the store: the rows composing reads, and the briefings sent to each chat."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import chats
from storage.models import Article, ArticleTopic, Briefing, BriefingStory, Chat, Subscription

CHUNK = 500  # chats per IN (...) query
DAILY, ALERT = "daily", "alert"  # Briefing.kind: a daily briefing, or an alert batch


@dataclass
class ChatBriefingState:
    """What composing needs to know of a chat.

    Attributes:
        topics: subscribed topic slugs, in subscription order.
        follows: keyword follow queries, in subscription order.
        timezone: the chat's IANA zone, if it set one.
        last_briefing: when its previous briefing was composed, if ever.
    """

    topics: list[str] = field(default_factory=list)
    follows: list[str] = field(default_factory=list)
    timezone: str | None = None
    last_briefing: datetime | None = None


def chat_briefing_states(session: Session, chat_ids: Iterable[int]) -> dict[int, ChatBriefingState]:
    """Load chats' subscriptions, time zones and previous briefing times in a few queries.

    Args:
        session: an open session.
        chat_ids: the chats (unknown ids get an empty state).
    """
    wanted = list(dict.fromkeys(chat_ids))
    states = {cid: ChatBriefingState() for cid in wanted}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        for cid, kind, key in session.execute(
            select(Subscription.chat_id, Subscription.kind, Subscription.key)
            .where(Subscription.chat_id.in_(part))
            .order_by(Subscription.id)
        ):
            (states[cid].topics if kind == chats.TOPIC else states[cid].follows).append(key)
        for cid, zone in session.execute(select(Chat.id, Chat.timezone).where(Chat.id.in_(part))):
            states[cid].timezone = zone
        for cid, when in session.execute(
            select(Briefing.chat_id, func.max(Briefing.created_at))
            .where(Briefing.chat_id.in_(part), Briefing.kind == DAILY)  # alerts: not a window
            .group_by(Briefing.chat_id)
        ):
            states[cid].last_briefing = when
    return states


def window_rows(
    session: Session, since: datetime
) -> Iterator[tuple[int, int, datetime, str | None, int | None, str | None, float | None]]:
    """Articles in stories since ``since``, once per topic they carry (or once untagged).

    Yields:
        (article id, story id, sort time, source, body length, topic slug, topic score).
    """
    yield from session.execute(
        select(
            Article.id,
            Article.story_id,
            Article.sort_time,
            Article.source,
            func.length(Article.body),
            ArticleTopic.topic_slug,
            ArticleTopic.score,
        )
        .outerjoin(ArticleTopic, ArticleTopic.article_id == Article.id)
        .where(Article.sort_time >= since, Article.story_id.is_not(None))
    ).tuples()


def sent_stories(
    session: Session, chat_ids: Sequence[int], *, min_story_id: int
) -> Iterator[tuple[int, int]]:
    """(chat id, story id) of stories from ``min_story_id`` on that the chats were sent.

    Story ids grow with time: a range on the primary key (chat_id, story_id) keeps this
    to each chat's recent rows.
    """
    for start in range(0, len(chat_ids), CHUNK):
        yield from session.execute(
            select(BriefingStory.chat_id, BriefingStory.story_id).where(
                BriefingStory.chat_id.in_(chat_ids[start : start + CHUNK]),
                BriefingStory.story_id >= min_story_id,
            )
        ).tuples()


def briefings_since(session: Session, chat_id: int, start: datetime) -> Iterator[Briefing]:
    """The chat's daily briefings composed since ``start``, newest first (alerts left out)."""
    return iter(
        session.scalars(
            select(Briefing)
            .where(
                Briefing.chat_id == chat_id, Briefing.created_at >= start, Briefing.kind == DAILY
            )
            .order_by(Briefing.created_at.desc(), Briefing.id.desc())
        )
    )


def save_briefing(
    session: Session,
    chat_id: int,
    *,
    since: datetime,
    story_ids: Sequence[int],
    messages: Sequence[str],
    now: datetime,
    composed_for: Sequence[str] | None = None,
    kind: str = DAILY,
) -> Briefing:
    """Store a briefing and its stories, so no later briefing to the chat repeats them.

    Args:
        session: the caller's transaction.
        chat_id: the chat it is for (created if unknown).
        since: start of the briefing's window.
        story_ids: its stories, in display order.
        messages: the messages as rendered for sending.
        now: when it was composed (the next window starts here).
        composed_for: the subscriptions it was composed for ("topic:ai"); None = unknown.
        kind: DAILY, or ALERT for a batch of alerts (which does not start a daily window).
    """
    chats.ensure_chat(session, chat_id)
    briefing = Briefing(
        chat_id=chat_id,
        created_at=now,
        since=since,
        story_ids=list(story_ids),
        messages=list(messages),
        composed_for=None if composed_for is None else list(composed_for),
        kind=kind,
    )
    session.add(briefing)
    session.flush()
    already = set(
        session.scalars(
            select(BriefingStory.story_id).where(
                BriefingStory.chat_id == chat_id, BriefingStory.story_id.in_(story_ids)
            )
        )
    )
    session.add_all(
        BriefingStory(chat_id=chat_id, story_id=story_id, briefing_id=briefing.id)
        for story_id in dict.fromkeys(story_ids)
        if story_id not in already
    )
    session.flush()
    return briefing
