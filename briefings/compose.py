"""Daily briefings: compose a chat's briefing, store it, find today's.

A subscriber is a chat's topic subscriptions, keyword follows and time zone; its window
runs from its previous briefing (default: the last 24 hours). The best new stories are
picked by :class:`briefings.composer.Composer` (topic score, recency, outlets, diversity;
nothing twice, nothing already sent to the chat) and grouped by topic.

Entry points (stable; the bot and the scheduler use them): :func:`compose_briefing`,
:func:`compose_many` (or one ``Composer`` per run), :func:`save_briefing`,
:func:`todays_briefing`, and :meth:`ComposedBriefing.html_messages` /
:meth:`ComposedBriefing.plain_text` for output.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from briefings.briefing_text import (
    MAX_MESSAGE,
    BriefingEntry,
    ComposedBriefing,
    esc,
    local_zone,
    since_phrase,
    utf16_len,
)
from briefings.composer import CHUNK, MAX_STORIES, Composer, Subscriber
from briefings.topics import Taxonomy
from storage import chats
from storage.models import Briefing, BriefingStory, Chat, Subscription

__all__ = [
    "BriefingEntry",
    "ComposedBriefing",
    "Composer",
    "Subscriber",
    "brief_messages",
    "compose_briefing",
    "compose_many",
    "load_subscribers",
    "save_briefing",
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


def save_briefing(
    session: Session, chat_id: int, composed: ComposedBriefing, now: datetime
) -> Briefing:
    """Store a briefing and its stories, so no later briefing to the chat repeats them.

    Args:
        session: the caller's transaction.
        chat_id: the chat it is for (created if unknown).
        composed: what :func:`compose_briefing` returned.
        now: when it was composed (the next window starts here).
    """
    chats.ensure_chat(session, chat_id)
    briefing = Briefing(
        chat_id=chat_id,
        created_at=now,
        since=composed.since,
        story_ids=list(composed.story_ids),
        messages=composed.html_messages(),
        composed_for=list(composed.subscriptions),
    )
    session.add(briefing)
    session.flush()
    already = set(
        session.scalars(
            select(BriefingStory.story_id).where(
                BriefingStory.chat_id == chat_id, BriefingStory.story_id.in_(composed.story_ids)
            )
        )
    )
    session.add_all(
        BriefingStory(chat_id=chat_id, story_id=story_id, briefing_id=briefing.id)
        for story_id in dict.fromkeys(composed.story_ids)
        if story_id not in already
    )
    session.flush()
    return briefing


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


def brief_messages(
    session: Session,
    *,
    chat_id: int,
    taxonomy: Taxonomy,
    now: datetime,
    default_timezone: str = "UTC",
    max_stories: int = MAX_STORIES,
) -> list[str]:
    """Today's briefing for a chat as HTML messages (what ``/brief`` shows).

    The chat's newest non-empty briefing of today (local time) is shown again while the
    chat's subscriptions are those it was composed for; otherwise a new one is composed
    from the current subscriptions (all topics when there are none; after a change, over
    the earlier briefing's window, with a first line saying so) and stored when it holds
    any story.

    Args:
        session: the caller's transaction (a new briefing is written to it).
        chat_id: the chat.
        taxonomy: the loaded taxonomy.
        now: the current time (aware).
        default_timezone: zone used when the chat set none.
        max_stories: most stories in a new briefing.
    """
    subscriber = load_subscribers(session, [chat_id], default_timezone=default_timezone)[chat_id]
    today = todays_briefing(session, chat_id, now=now, timezone=subscriber.timezone)
    composed_for = None if today is None else today.composed_for
    unchanged = composed_for is None or tuple(composed_for) == subscriber.subscriptions
    if today is not None and today.messages and unchanged:
        return list(today.messages)
    composer = Composer(session, taxonomy, now, max_stories=max_stories)
    if today is None:
        composed = composer.compose(subscriber)
    else:  # the subscriptions changed: today's briefing again, for the current ones
        composed = composer.compose(subscriber, today.since, exclude_sent=False)
    if not composed.empty:
        save_briefing(session, chat_id, composed, now)
    messages = composed.html_messages()
    return messages if today is None else with_note(RECOMPOSED, messages)


RECOMPOSED = "Your subscriptions changed since today's earlier briefing: composed again for them."


def with_note(note: str, messages: list[str]) -> list[str]:
    """Put an italic note line before the first message (as its own message if it must)."""
    line = f"<i>{esc(note)}</i>"
    if messages and utf16_len(f"{line}\n\n{messages[0]}") <= MAX_MESSAGE:
        return [f"{line}\n\n{messages[0]}", *messages[1:]]
    return [line, *messages]
