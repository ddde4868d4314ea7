"""Shared, thread-safe state of the fake Telegram Bot API server."""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections import deque
from typing import Any

JSON = dict[str, Any]

# getUpdates/setWebhook default when allowed_updates is [] or never given (Bot API docs).
DEFAULT_ALLOWED = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "inline_query", "chosen_inline_result",
        "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)  # fmt: skip


class ApiError(Exception):
    """An error response: ``{"ok": false, "error_code": code, "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str, parameters: JSON | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}", parameters)


class State:
    """Storage plus helpers; every mutation happens under ``self._cond``."""

    def __init__(self, token: str, bot_username: str, *, strict_html: bool) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.strict_html = strict_html
        self._cond = threading.Condition(threading.RLock())
        self.bot_user: JSON = {
            "id": self.bot_id, "is_bot": True, "first_name": "Briefbot Test",
            "username": bot_username, "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False,
            "can_connect_to_business": False, "has_main_web_app": False,
        }  # fmt: skip
        self.requests: list[JSON] = []  # every API call: method, params, status, response
        self.rejected: list[JSON] = []  # every error returned: method, error_code, description...
        self.chat_actions: list[JSON] = []
        self.answers: dict[str, JSON] = {}  # callback_query_id -> answerCallbackQuery params
        self.commands: dict[str, list[JSON]] = {}  # scope key (see scope_key) -> commands
        self.webhook_deliveries: list[JSON] = []  # update_id, status, error
        self.files: dict[str, JSON] = {}  # file_id -> {"meta": File JSON, "content": bytes}
        self.chats: dict[int, JSON] = {}
        self.users: dict[int, JSON] = {}
        self.messages: dict[tuple[int, int], JSON] = {}  # (chat_id, message_id) -> Message
        self._sent: list[JSON] = []  # records of accepted bot messages (see record())
        self._sent_by_key: dict[tuple[int, int], JSON] = {}
        self._next_msg_id: dict[int, int] = {}
        self._updates: list[JSON] = []  # pending (unconfirmed) updates, both modes
        self._next_update_id = 100_000
        self._next_file = 1
        self._next_query = 1
        self._queries: dict[str, JSON] = {}  # open callback queries
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED
        self.webhook: JSON | None = None  # url, secret_token, allowed_updates, ...
        self.webhook_error: tuple[int, str] | None = None
        self._poll_generation = 0
        self.blocked: set[int] = set()
        self.migrated: dict[int, int] = {}
        self.unknown_chats_ok = True
        self._fail_next: dict[str, list[ApiError]] = {}
        self._stubs: dict[str, Any] = {}
        self._fail_until: dict[str, tuple[float, ApiError]] = {}  # method -> (monotonic end, error)
        self._hold: dict[str, list[float]] = {}  # method -> seconds to hold each next response
        self.rate_global: float | None = None
        self.rate_per_chat: float | None = None
        self.rate_window = 1.0
        self._rate_all: deque[float] = deque()
        self._rate_chat: dict[int, deque[float]] = {}
        # Telegram: "no more than 20 messages per minute in the same group" (channels too)
        self.group_limit: int | None = 20
        self.group_window = 60.0
        self._rate_group: dict[int, deque[float]] = {}
        self._stopping = False

    # ----------------------------------------------------------------- helpers
    def _changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _new_message_id(self, chat_id: int) -> int:
        mid = self._next_msg_id.get(chat_id, 0) + 1
        self._next_msg_id[chat_id] = mid
        return mid

    def _chat(self, chat_id: int, **kw: Any) -> JSON:
        """Chat JSON for ``chat_id``, created (type inferred from the id) if unknown."""
        chat = self.chats.get(chat_id)
        if chat is None:
            ctype = kw.get("chat_type") or (
                "private" if chat_id > 0
                else "supergroup" if str(chat_id).startswith("-100") else "group"
            )  # fmt: skip
            chat = {"id": chat_id, "type": ctype}
            if ctype == "private":
                chat["first_name"] = kw.get("first_name") or "Alice"
                if kw.get("username"):
                    chat["username"] = kw["username"]
            else:
                chat["title"] = kw.get("chat_title") or f"Test {ctype} {chat_id}"
            self.chats[chat_id] = chat
        return chat

    def _user(self, user_id: int, username: str | None, first_name: str) -> JSON:
        user = self.users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}
            if username:
                user["username"] = username
            self.users[user_id] = user
        return user

    def _enqueue(self, kind: str, payload: JSON, deliver: bool) -> JSON:
        with self._cond:
            self._next_update_id += 1
            update = {"update_id": self._next_update_id, kind: payload}
            if deliver:
                self._updates.append(update)
                self._cond.notify_all()
            return copy.deepcopy(update)

    def _check_chat(self, chat_id: int) -> None:
        if chat_id in self.migrated:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat_id]},
            )
        if chat_id in self.blocked:
            chat = self.chats.get(chat_id, {"type": "private"})
            if chat["type"] == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
        if not self.unknown_chats_ok and chat_id not in self.chats:
            raise bad_request("chat not found")

    def _check_rate(self, chat_id: int) -> None:
        """Sliding-window rate limit for outgoing messages/edits; 429 with retry_after."""
        now = time.monotonic()
        window = self.rate_window
        per_chat = self._rate_chat.setdefault(chat_id, deque())
        for q, limit in ((self._rate_all, self.rate_global), (per_chat, self.rate_per_chat)):
            while q and q[0] <= now - window:
                q.popleft()
            if limit is not None and len(q) >= limit * window:
                retry = max(1, math.ceil(q[0] + window - now))
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
        if chat_id < 0 and self.group_limit is not None:  # groups and channels
            group = self._rate_group.setdefault(chat_id, deque())
            while group and group[0] <= now - self.group_window:
                group.popleft()
            if len(group) >= self.group_limit:
                retry = max(1, math.ceil(group[0] + self.group_window - now))
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
            group.append(now)
        self._rate_all.append(now)
        per_chat.append(now)

    @staticmethod
    def scope_key(scope: JSON | None, language_code: str | None) -> str:
        """Key in :attr:`commands`: "default", "all_private_chats", "chat:<id>",
        "chat_member:<chat>:<user>", ... with "|<lang>" appended for a language_code."""
        scope = scope or {"type": "default"}
        key = str(scope.get("type", "default"))
        for part in ("chat_id", "user_id"):
            if part in scope:
                key += f":{scope[part]}"
        return f"{key}|{language_code}" if language_code else key

    @staticmethod
    def same_markup(a: JSON | None, b: JSON | None) -> bool:
        def norm(m: JSON | None) -> str:
            if not m or m == {"inline_keyboard": []}:
                return "null"
            return json.dumps(m, sort_keys=True)

        return norm(a) == norm(b)
