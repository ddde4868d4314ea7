"""Daily briefings: compose a chat's briefing, store it, find today's.

A subscriber is a chat's topic subscriptions, keyword follows and time zone; its window
runs from its previous briefing (default: the last 24 hours). The best new stories are
picked by :class:`briefings.digest.composer.Composer` (topic score, recency, outlets, diversity;
nothing twice, nothing already sent to the chat) and grouped by topic.

Entry points (stable; the bot and the scheduler use them): :func:`compose_briefing`,
:func:`compose_many` (or one ``Composer`` per run) and :func:`todays_briefing`; they
return data, which ``bot.render`` renders and ``bot.digest`` stores.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from briefings.digest.briefing import BriefingEntry, ComposedBriefing, local_zone, since_phrase
from briefings.digest.composer import CHUNK, MAX_STORIES, Composer, Subscriber
from briefings.topics.taxonomy import Taxonomy
from storage import chats
from storage.models import Briefing, Chat, Subscription

__all__ = [
    "MAX_STORIES",
    "BriefingEntry",
    "ComposedBriefing",
    "Composer",
    "Subscriber",
    "compose_briefing",
    "compose_many",
    "load_subscribers",
    "since_phrase",
    "todays_briefing",
]


def load_subscribers(
    session: Session, chat_ids: Iterable[int], *, default_timezone: str = "UTC"
) -> dict[int, Subscriber]:
    """Load chats' subscriptions, time zones and previous briefing times in a few queries.

    Args:
        session: an open session.
        chat_ids: the chats (unknown ids get a subscriber without subscriptions).
        default_timezone: zone of chats that set none.
    """
    wanted = list(dict.fromkeys(chat_ids))
    topics: dict[int, list[str]] = {cid: [] for cid in wanted}
    follows: dict[int, list[str]] = {cid: [] for cid in wanted}
    zones: dict[int, str | None] = {}
    last: dict[int, datetime] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        for cid, kind, key in session.execute(
            select(Subscription.chat_id, Subscription.kind, Subscription.key)
            .where(Subscription.chat_id.in_(part))
            .order_by(Subscription.id)
        ):
            (topics if kind == chats.TOPIC else follows)[cid].append(key)
        for cid, zone in session.execute(select(Chat.id, Chat.timezone).where(Chat.id.in_(part))):
            zones[cid] = zone
        for cid, when in session.execute(
            select(Briefing.chat_id, func.max(Briefing.created_at))
            .where(Briefing.chat_id.in_(part))
            .group_by(Briefing.chat_id)
        ):
            last[cid] = when
    return {
        cid: Subscriber(
            cid,
            tuple(sorted(set(topics[cid]))),
            tuple(sorted(set(follows[cid]))),
            zones.get(cid) or default_timezone,
            last.get(cid),
        )
        for cid in wanted
    }


def compose_briefing(
    session: Session,
    *,
    chat_id: int,
    taxonomy: Taxonomy,
    now: datetime,
    since: datetime | None = None,
    max_stories: int = MAX_STORIES,
    default_timezone: str = "UTC",
) -> ComposedBriefing:
    """Compose a chat's briefing from its subscriptions (all topics if it has none).

    Args:
        session: an open session.
        chat_id: the chat.
        taxonomy: the loaded taxonomy.
        now: the current time (aware).
        since: window start; None = since the chat's previous briefing, else 24 hours.
        max_stories: most stories in the briefing.
        default_timezone: zone used when the chat set none.
    """
    subscriber = load_subscribers(session, [chat_id], default_timezone=default_timezone)[chat_id]
    return Composer(session, taxonomy, now, max_stories=max_stories).compose(subscriber, since)


def compose_many(
    session: Session,
    chat_ids: Iterable[int],
    *,
    taxonomy: Taxonomy,
    now: datetime,
    max_stories: int = MAX_STORIES,
    default_timezone: str = "UTC",
) -> dict[int, ComposedBriefing]:
    """Compose briefings for many chats at once (cost grows with distinct topic sets).

    Args:
        session: an open session.
        chat_ids: the chats.
        taxonomy: the loaded taxonomy.
        now: the current time (aware).
        max_stories: most stories per briefing.
        default_timezone: zone used when a chat set none.
    """
    subscribers = load_subscribers(session, chat_ids, default_timezone=default_timezone)
    composer = Composer(session, taxonomy, now, max_stories=max_stories)
    return composer.compose_many(list(subscribers.values()))


def todays_briefing(
    session: Session, chat_id: int, *, now: datetime, timezone: str = "UTC"
) -> Briefing | None:
    """Return the chat's newest non-empty briefing composed today (in its time zone).

    Args:
        session: an open session.
        chat_id: the chat.
        now: the current time.
        timezone: the chat's IANA zone (local midnight starts "today").
    """
    local = now.astimezone(local_zone(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    briefings = session.scalars(
        select(Briefing)
        .where(Briefing.chat_id == chat_id, Briefing.created_at >= midnight)
        .order_by(Briefing.created_at.desc(), Briefing.id.desc())
    )
    return next((b for b in briefings if b.story_ids), None)
