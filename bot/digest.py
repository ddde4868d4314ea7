"""Briefings on the bot's side: compose (``briefings.digest``), render, store with messages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.delivery import Composed
from bot.delivery import Composer as DeliveryComposer
from bot.format import MAX_MESSAGE, esc, utf16_len
from bot.render import briefing_messages
from bot.routing import save_routed
from briefings.digest.briefing import load_subscribers, todays_briefing
from briefings.digest.composer import MAX_STORIES, ComposedBriefing, Composer, compose_briefing
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
        composed_for=composed.subscriptions,
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
    messages = briefing_messages(composed)
    return messages if today is None else with_note(RECOMPOSED, messages)


RECOMPOSED = "Your subscriptions changed since today's earlier briefing: composed again for them."


def with_note(note: str, messages: list[str]) -> list[str]:
    """Put an italic note line before the first message (as its own message if it must)."""
    line = f"<i>{esc(note)}</i>"
    if messages and utf16_len(f"{line}\n\n{messages[0]}") <= MAX_MESSAGE:
        return [f"{line}\n\n{messages[0]}", *messages[1:]]
    return [line, *messages]


def briefing_composer(taxonomy: Taxonomy, default_timezone: str = "UTC") -> DeliveryComposer:
    """The real composer: ``briefings.digest.composer`` over the chat's subscriptions, saved."""

    def compose(session: Session, chat_id: int, now: datetime) -> Composed:
        composed = compose_briefing(
            session, chat_id=chat_id, taxonomy=taxonomy, now=now, default_timezone=default_timezone
        )
        if composed.empty:
            return Composed(None, [])  # nothing new: recorded as "empty", no message
        briefing = save_routed(session, chat_id, composed, now)  # split by forum thread
        return Composed(briefing.id, list(briefing.messages), briefing.threads)

    return compose
