"""Chats and their subscriptions (topics and keyword follows)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import Chat, Subscription

TOPIC = "topic"
FOLLOW = "follow"


def ensure_chat(
    session: Session, chat_id: int, *, kind: str = "private", title: str | None = None
) -> Chat:
    """Return the chat row for ``chat_id``, creating it on first contact.

    Args:
        session: the caller's transaction.
        chat_id: Telegram chat id (0 for the terminal).
        kind: "private", "group", "supergroup", "channel" or "terminal".
        title: a display name, refreshed when given.
    """
    chat = session.get(Chat, chat_id)
    if chat is None:
        chat = Chat(id=chat_id, kind=kind, title=title, active=True)
        session.add(chat)
        session.flush()
    elif title and chat.title != title:
        chat.title = title
    return chat


def chat(session: Session, chat_id: int) -> Chat | None:
    """Return the chat row for ``chat_id``, if the chat is known."""
    return session.get(Chat, chat_id)


def delete_subscription(session: Session, subscription: Subscription) -> None:
    """Delete one subscription row (in the caller's transaction)."""
    session.delete(subscription)
    session.flush()


def subscriptions(session: Session, chat_id: int, kind: str | None = None) -> list[Subscription]:
    """Return a chat's subscriptions (optionally of one kind), oldest first."""
    query = select(Subscription).where(Subscription.chat_id == chat_id)
    if kind:
        query = query.where(Subscription.kind == kind)
    return list(session.scalars(query.order_by(Subscription.id)))


def add_subscription(session: Session, chat_id: int, kind: str, key: str) -> bool:
    """Subscribe a chat; return False when it already was subscribed."""
    exists = session.scalar(
        select(Subscription.id).where(
            Subscription.chat_id == chat_id, Subscription.kind == kind, Subscription.key == key
        )
    )
    if exists is not None:
        return False
    session.add(Subscription(chat_id=chat_id, kind=kind, key=key))
    session.flush()
    return True


def remove_subscriptions(
    session: Session, chat_id: int, kind: str | None = None, keys: list[str] | None = None
) -> int:
    """Remove a chat's subscriptions of ``kind`` (all kinds when None) with ``keys``."""
    statement = delete(Subscription).where(Subscription.chat_id == chat_id)
    if kind:
        statement = statement.where(Subscription.kind == kind)
    if keys is not None:
        statement = statement.where(Subscription.key.in_(keys))
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
