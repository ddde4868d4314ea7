"""Where a chat's briefings go: forum threads, per-topic routes, channels managed elsewhere.

* ``chats.thread_id``: a forum group's default delivery thread (None = the General topic).
* ``chat_routes``: one news topic's stories go to one thread of the group; a route whose
  thread Telegram refuses (closed, deleted) is disabled with the reason, never retried.
* ``chats.managing_id``: the channel a private chat's settings commands apply to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import chats
from storage.models import Chat, ChatRoute


@dataclass(frozen=True)
class Routing:
    """A chat's delivery threads: the default one and the active topic routes."""

    default_thread: int | None = None
    routes: dict[str, int] = field(default_factory=dict)  # topic slug -> thread id


@dataclass(frozen=True)
class LostThread:
    """What was switched off when a thread went away."""

    topics: list[str] = field(default_factory=list)  # routes disabled
    was_default: bool = False  # the default thread fell back to the General topic

    @property
    def changed(self) -> bool:
        """True when anything was switched off (else it had been already)."""
        return bool(self.topics) or self.was_default


def routing(session: Session, chat_id: int) -> Routing:
    """The chat's default thread and active routes (empty for unknown chats).

    Args:
        session: an open session.
        chat_id: the chat.
    """
    chat = session.get(Chat, chat_id)
    if chat is None:
        return Routing()
    rows = session.execute(
        select(ChatRoute.topic_slug, ChatRoute.thread_id).where(
            ChatRoute.chat_id == chat_id, ChatRoute.active.is_(True)
        )
    )
    return Routing(chat.thread_id, {slug: int(thread) for slug, thread in rows})


def set_default_thread(session: Session, chat_id: int, thread_id: int | None) -> bool:
    """Make ``thread_id`` the chat's default delivery thread; True when it changed.

    Args:
        session: the caller's transaction.
        chat_id: a known chat.
        thread_id: the forum thread, or None for the General topic.
    """
    chat = session.get(Chat, chat_id)
    if chat is None or chat.thread_id == thread_id:
        return False
    chat.thread_id = thread_id
    return True


def routes(session: Session, chat_id: int) -> list[ChatRoute]:
    """Every route of the chat, active or disabled, by topic.

    Args:
        session: an open session.
        chat_id: the chat.
    """
    query = select(ChatRoute).where(ChatRoute.chat_id == chat_id).order_by(ChatRoute.topic_slug)
    return list(session.scalars(query))


def set_route(session: Session, chat_id: int, slug: str, thread_id: int, now: datetime) -> bool:
    """Route a topic's stories to a thread (re-enabling a disabled route); True when new.

    Args:
        session: the caller's transaction.
        chat_id: the group (created if unknown).
        slug: the news topic.
        thread_id: the forum thread.
        now: when it was set.
    """
    chats.ensure_chat(session, chat_id, kind="supergroup")
    row = session.scalar(
        select(ChatRoute).where(ChatRoute.chat_id == chat_id, ChatRoute.topic_slug == slug)
    )
    if row is None:
        session.add(ChatRoute(chat_id=chat_id, topic_slug=slug, thread_id=thread_id,
                              active=True, created_at=now))  # fmt: skip
        session.flush()
        return True
    row.thread_id, row.active, row.error, row.disabled_at = thread_id, True, None, None
    return False


def remove_route(session: Session, chat_id: int, slug: str) -> bool:
    """Delete a topic's route; False when it had none.

    Args:
        session: the caller's transaction.
        chat_id: the group.
        slug: the news topic.
    """
    row = session.scalar(
        select(ChatRoute).where(ChatRoute.chat_id == chat_id, ChatRoute.topic_slug == slug)
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def lose_thread(
    session: Session, chat_id: int, thread_id: int, error: str, now: datetime
) -> LostThread:
    """Telegram refused a thread: disable its routes, fall back from it as the default.

    Idempotent: a second call for the same thread changes nothing (``changed`` is False),
    so whoever tells the group does so once.

    Args:
        session: the caller's transaction.
        chat_id: the group.
        thread_id: the thread Telegram refused.
        error: Telegram's reason ("Bad Request: TOPIC_CLOSED"), kept on the route.
        now: when it happened.
    """
    rows = session.scalars(
        select(ChatRoute).where(
            ChatRoute.chat_id == chat_id,
            ChatRoute.thread_id == thread_id,
            ChatRoute.active.is_(True),
        )
    )
    topics = []
    for row in rows:
        row.active, row.error, row.disabled_at = False, error[:500], now
        topics.append(row.topic_slug)
    chat = session.get(Chat, chat_id)
    was_default = chat is not None and chat.thread_id == thread_id
    if chat is not None and was_default:
        chat.thread_id = None
    session.flush()
    return LostThread(sorted(topics), was_default)


def managing(session: Session, chat_id: int) -> Chat | None:
    """The channel a private chat manages now, if any (None when unknown or inactive).

    Args:
        session: an open session.
        chat_id: the private chat.
    """
    chat = session.get(Chat, chat_id)
    if chat is None or chat.managing_id is None:
        return None
    return session.get(Chat, chat.managing_id)


def set_managing(session: Session, chat_id: int, target_id: int | None) -> None:
    """Point a private chat's settings commands at a channel (None: back to the chat itself).

    Args:
        session: the caller's transaction.
        chat_id: the private chat (created if unknown).
        target_id: the channel (a known chat), or None.
    """
    chats.ensure_chat(session, chat_id).managing_id = target_id
