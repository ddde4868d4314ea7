"""Stored briefings: what each chat was sent, and when its next window starts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import chats
from storage.models import Briefing, BriefingStory


def save_briefing(
    session: Session,
    chat_id: int,
    *,
    since: datetime,
    story_ids: Sequence[int],
    messages: Sequence[str],
    now: datetime,
) -> Briefing:
    """Store a briefing and its stories, so no later briefing to the chat repeats them.

    Args:
        session: the caller's transaction.
        chat_id: the chat it is for (created if unknown).
        since: start of the briefing's window.
        story_ids: its stories, in display order.
        messages: the messages as rendered for sending.
        now: when it was composed (the next window starts here).
    """
    chats.ensure_chat(session, chat_id)
    briefing = Briefing(
        chat_id=chat_id,
        created_at=now,
        since=since,
        story_ids=list(story_ids),
        messages=list(messages),
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
