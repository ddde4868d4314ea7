"""Briefings on the bot's side: compose (``briefings.digest``), render, store with messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.render import briefing_messages
from briefings.digest.briefing import load_subscribers, todays_briefing
from briefings.digest.composer import MAX_STORIES, ComposedBriefing, Composer
from briefings.topics.taxonomy import Taxonomy
from storage import briefings as stored
from storage.models import Briefing


def save_briefing(
    session: Session, chat_id: int, composed: ComposedBriefing, now: datetime
) -> Briefing:
    """Render a composed briefing and store it with its messages and stories.

    Args:
        session: the caller's transaction.
        chat_id: the chat it is for (created if unknown).
        composed: what ``briefings.digest`` composed.
        now: when it was composed (the next window starts here).
    """
    return stored.save_briefing(
        session,
        chat_id,
        since=composed.since,
        story_ids=composed.story_ids,
        messages=briefing_messages(composed),
        now=now,
    )


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

    The chat's newest non-empty briefing of today (local time) is shown again; otherwise a
    new one is composed from its subscriptions (all topics when it has none) and stored
    when it holds any story.

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
    if today is not None and today.messages:
        return list(today.messages)
    composed = Composer(session, taxonomy, now, max_stories=max_stories).compose(subscriber)
    if not composed.empty:
        save_briefing(session, chat_id, composed, now)
    return briefing_messages(composed)
