"""A chat's life as Telegram reports it: blocked or removed, back again, moved to a new id."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Briefing, BriefingStory, Chat, Delivery


def set_chat_active(session: Session, chat_id: int, active: bool) -> bool:
    """Activate or deactivate a chat's deliveries; False when the chat is unknown.

    Args:
        session: the caller's transaction.
        chat_id: the chat.
        active: False when the bot was blocked or removed, True when it is back.
    """
    chat = session.get(Chat, chat_id)
    if chat is None:
        return False
    chat.active = active
    return True


def migrate_chat(session: Session, old_id: int, new_id: int) -> None:
    """Move a group that became a supergroup to its new id, with everything it owns.

    Args:
        session: the caller's transaction.
        old_id: the group's old id.
        new_id: ``migrate_to_chat_id`` from Telegram.
    """
    old = session.get(Chat, old_id)
    if old is None or old_id == new_id:
        return
    new = session.get(Chat, new_id)
    if new is None:
        new = Chat(
            id=new_id, kind="supergroup", title=old.title, timezone=old.timezone,
            briefing_time=old.briefing_time, active=old.active, created_at=old.created_at,
        )  # fmt: skip
        session.add(new)
        session.flush()
    taken = {(s.kind, s.key) for s in new.subscriptions}
    for subscription in list(old.subscriptions):
        if (subscription.kind, subscription.key) not in taken:
            subscription.chat_id = new_id
    session.flush()
    session.execute(update(Briefing).where(Briefing.chat_id == old_id).values(chat_id=new_id))
    seen = select(BriefingStory.story_id).where(BriefingStory.chat_id == new_id)
    session.execute(
        update(BriefingStory)
        .where(BriefingStory.chat_id == old_id, BriefingStory.story_id.not_in(seen))
        .values(chat_id=new_id)
        .execution_options(synchronize_session=False)
    )
    slots = select(Delivery.slot).where(Delivery.chat_id == new_id)
    session.execute(
        update(Delivery)
        .where(Delivery.chat_id == old_id, Delivery.slot.not_in(slots))
        .values(chat_id=new_id)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.expire_all()
    session.delete(session.get(Chat, old_id))
    session.flush()
