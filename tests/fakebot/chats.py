"""Channels, forum topics and chat members in the fake Bot API (getChat, getChatMember).

* Channels have a ``@username``; methods accept it for ``chat_id`` like Telegram does. The
  bot posts in a channel only as an administrator (else 403 when it is not a member, 400
  when it is one without admin rights).
* Forum supergroups (``is_forum``) have threads that can be closed or deleted; a
  ``sendMessage`` to such a thread fails with Telegram's error text.
* Roles per chat and user are configurable (:meth:`ChatsMixin.set_member`); the bot's own
  changes also emit ``my_chat_member`` updates.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from .state import JSON, ApiError, State, bad_request

ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_post_messages", "can_edit_messages",
    "can_pin_messages", "can_manage_topics",
)  # fmt: skip
OPEN, CLOSED, DELETED = "open", "closed", "deleted"
THREAD_ERRORS = {CLOSED: "TOPIC_CLOSED", DELETED: "message thread not found"}
POSTERS = ("administrator", "creator")


class ChatsMixin(State):
    """Chat members, channels and forum threads (state, control API and two methods)."""

    def __init__(self, token: str, bot_username: str, *, strict_html: bool) -> None:
        super().__init__(token, bot_username, strict_html=strict_html)
        self.members: dict[tuple[int, int], JSON] = {}  # (chat, user) -> ChatMember JSON
        self.threads: dict[int, dict[int, str]] = {}  # forum chat -> thread id -> state

    # ------------------------------------------------------------ control API
    def add_channel(
        self,
        chat_id: int,
        username: str,
        *,
        title: str | None = None,
        admins: dict[int, str] | None = None,
        bot_status: str = "administrator",
    ) -> JSON:
        """A channel ``@username`` with ``admins`` (user id -> "creator"/"administrator")."""
        with self._cond:
            chat = {"id": chat_id, "type": "channel", "title": title or f"Channel {username}",
                    "username": username.lstrip("@")}  # fmt: skip
            self.chats[chat_id] = chat
            for user_id, status in (admins or {}).items():
                self.set_member(chat_id, user_id, status)
            self.set_member(chat_id, self.bot_id, bot_status)
            return copy.deepcopy(chat)

    def make_forum(self, chat_id: int, *, title: str | None = None) -> JSON:
        """A supergroup with topics (``is_forum``); the bot is a member."""
        with self._cond:
            chat = self._chat(chat_id, chat_type="supergroup", chat_title=title)
            chat["is_forum"] = True
            self.threads.setdefault(chat_id, {})
            return copy.deepcopy(chat)

    def create_topic(self, chat_id: int, name: str = "Topic") -> int:
        """A new open thread in a forum; returns its ``message_thread_id``."""
        with self._cond:
            thread_id = self._new_message_id(chat_id)  # the id of its creation message
            self.threads.setdefault(chat_id, {})[thread_id] = OPEN
            return thread_id

    def close_topic(self, chat_id: int, thread_id: int) -> None:
        """Close a thread: sends to it fail with ``TOPIC_CLOSED``."""
        self._topic_state(chat_id, thread_id, CLOSED)

    def reopen_topic(self, chat_id: int, thread_id: int) -> None:
        self._topic_state(chat_id, thread_id, OPEN)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """Delete a thread: sends to it fail with ``message thread not found``."""
        self._topic_state(chat_id, thread_id, DELETED)

    def _topic_state(self, chat_id: int, thread_id: int, state: str) -> None:
        with self._cond:
            assert thread_id in self.threads.get(chat_id, {}), f"no thread {thread_id}"
            self.threads[chat_id][thread_id] = state

    def set_member(self, chat_id: int, user_id: int, status: str, **rights: bool) -> None:
        """Set a user's (or the bot's) role in a chat: creator, administrator, member, left…"""
        with self._cond:
            user = self.bot_user if user_id == self.bot_id else self._user(user_id, None, "User")
            self.members[(chat_id, user_id)] = member_json(user, status, **rights)

    def bot_membership(self, chat_id: int, status: str, *, old_status: str | None = None,
                       user_id: int | None = None, deliver: bool = True) -> JSON:  # fmt: skip
        """The bot's role changes (added, promoted, demoted, removed): a my_chat_member update."""
        with self._cond:
            old = old_status or self._member(chat_id, self.bot_id)["status"]
            self.set_member(chat_id, self.bot_id, status)
            if status in ("left", "kicked"):
                self.blocked.add(chat_id)
            else:
                self.blocked.discard(chat_id)
        return self.my_chat_member(
            chat_id, status, old_status=old, user_id=user_id, deliver=deliver
        )

    def forward_channel_post(
        self, chat_id: int, channel_id: int, *, user_id: int | None = None, deliver: bool = True
    ) -> JSON:
        """The user forwards a post of ``channel_id`` to the bot (``forward_origin`` channel)."""
        channel = self.chats[channel_id]
        origin = {"type": "channel", "chat": copy.deepcopy(channel), "message_id": 5,
                  "date": int(time.time()) - 60}  # fmt: skip
        return self._user_message(  # type: ignore[attr-defined, no-any-return]
            chat_id, {"text": "A post in the channel", "forward_origin": origin},
            user_id=user_id, chat_type=None, deliver=deliver,
        )  # fmt: skip

    # ------------------------------------------------------------ checks
    def _member(self, chat_id: int, user_id: int) -> JSON:
        member = self.members.get((chat_id, user_id))
        if member is not None:
            return member
        chat = self.chats.get(chat_id, {})
        joined = chat.get("type") not in ("channel", None) or chat_id == user_id
        user = self.bot_user if user_id == self.bot_id else self._user(user_id, None, "User")
        return member_json(user, "member" if joined else "left")

    def resolve_chat(self, value: Any) -> int:
        """A ``chat_id`` parameter (an id or ``@username``) as a chat id."""
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:].casefold()
            for chat_id, chat in self.chats.items():
                if str(chat.get("username", "")).casefold() == name:
                    return chat_id
            raise bad_request("chat not found")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def check_post(self, chat_id: int, thread_id: int | None) -> None:
        """Refuse a post to a channel the bot cannot post in, or to a closed/deleted thread."""
        chat = self.chats.get(chat_id, {})
        if chat.get("type") == "channel":
            status = self._member(chat_id, self.bot_id)["status"]
            if status in ("left", "kicked"):
                raise ApiError(403, "Forbidden: bot is not a member of the channel chat")
            if status not in POSTERS:
                raise bad_request("need administrator rights in the channel chat")
        if thread_id is None or not chat.get("is_forum"):
            return
        state = self.threads.get(chat_id, {}).get(thread_id, DELETED)
        if state != OPEN:
            raise bad_request(THREAD_ERRORS[state])

    # ------------------------------------------------------------ methods
    def _m_getChat(self, p: Any) -> JSON:
        chat_id = self.resolve_chat(p.raw.get("chat_id"))
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), False)  # fmt: skip
        return {**copy.deepcopy(chat), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}  # fmt: skip

    def _m_getChatMember(self, p: Any) -> JSON:
        chat_id = self.resolve_chat(p.raw.get("chat_id"))
        if chat_id not in self.chats:
            raise bad_request("chat not found")
        user_id = p.get_int("user_id", required=True)
        return copy.deepcopy(self._member(chat_id, user_id))


def member_json(user: JSON, status: str, **rights: bool) -> JSON:
    """ChatMember JSON of ``status`` (administrators get every right unless told otherwise)."""
    member: JSON = {"user": copy.deepcopy(user), "status": status}
    if status == "administrator":
        member.update({"can_be_edited": False, "is_anonymous": False})
        member.update({right: rights.get(right, True) for right in ADMIN_RIGHTS})
    elif status == "creator":
        member["is_anonymous"] = False
    elif status == "kicked":
        member["until_date"] = 0
    elif status == "restricted":
        member.update({"is_member": True, "until_date": 0})
    return member
