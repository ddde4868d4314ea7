"""HTTP front end (stdlib ThreadingHTTPServer), webhook delivery and the control API."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .chats import member_json
from .markup import utf16_len
from .methods import BotApiMethods, Params
from .state import JSON, ApiError

DEFAULT_TOKEN = "7000000001:AAFakeTokenForBriefbotTests_0123456789"
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def command_entities(text: str) -> list[JSON]:
    """The ``bot_command`` entities Telegram marks in ``text`` (``/cmd`` and ``/cmd@bot``)."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for m in _COMMAND.finditer(text)
    ]


def _parse_body(ctype: str, body: bytes) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
    raw: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes]] = {}
    if not body:
        return raw, files
    if ctype.startswith("application/json"):
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ApiError(400, "Bad Request: parameters must be a JSON object")
        raw.update(data)
    elif ctype.startswith("multipart/form-data"):
        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body
        )
        for part in msg.iter_parts():
            name = str(part.get_param("name", header="content-disposition") or "")
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename()
            if filename is not None:
                files[name] = (filename, content)
            else:
                raw[name] = content.decode("utf-8")
    else:  # application/x-www-form-urlencoded
        for key, values in urllib.parse.parse_qs(
            body.decode("utf-8"), keep_blank_values=True
        ).items():
            raw[key] = values[-1]
    return raw, files


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        pass

    def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _handle(self) -> None:
        fake = self.server.fake
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)  # PTB percent-encodes file URLs (token's ':')
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        file_prefix = f"/file/bot{fake.token}/"
        if path.startswith(file_prefix):
            entry = fake.file_by_path(path[len(file_prefix) :])
            if entry is None:
                self._reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
            else:
                self._reply(200, entry, "application/octet-stream")
            return
        m = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", path)
        if m is None:
            self._reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
            return
        if m.group(1) != fake.token:
            self._reply(401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}')
            return
        try:
            raw, files = _parse_body(self.headers.get("Content-Type", ""), body)
        except (ValueError, ApiError) as exc:
            err = exc if isinstance(exc, ApiError) else ApiError(400, "Bad Request: bad body")
            self._reply(err.code, json.dumps(err.payload()).encode())
            return
        for key, values in urllib.parse.parse_qs(url.query).items():
            raw.setdefault(key, values[-1])
        status, payload = fake.call(m.group(2), Params(raw, files))
        self._reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    do_GET = _handle
    do_POST = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeTelegram


class FakeTelegram(BotApiMethods):
    """A fake Telegram Bot API server on 127.0.0.1:<ephemeral port>.

    Point PTB at it with ``.base_url(fake.base_url).base_file_url(fake.base_file_url)`` and
    ``.token(fake.token)``.  Use as a context manager or call :meth:`start`/:meth:`stop`.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "briefbot_test_bot",
        strict_html: bool = True,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        super().__init__(token, bot_username, strict_html=strict_html)
        self.webhook_retry_delay = webhook_retry_delay
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._webhook_retry_at = 0.0
        self._query_updates: dict[str, JSON] = {}

    # ------------------------------------------------------------ lifecycle
    def start(self) -> FakeTelegram:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._threads = [
            threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.005},  # shutdown() waits up to one interval
                name="fakebot-http",
                daemon=True,
            ),
            threading.Thread(target=self._webhook_worker, name="fakebot-webhook", daemon=True),
        ]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._server = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeTelegram not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``; PTB appends the token itself."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def file_by_path(self, path: str) -> bytes | None:
        with self._cond:
            for entry in self.files.values():
                if entry["meta"]["file_path"] == path:
                    return bytes(entry["content"])
        return None

    # ------------------------------------------------------------ webhook delivery
    def _webhook_worker(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    hook = self.webhook
                    if hook and self._updates and time.monotonic() >= self._webhook_retry_at:
                        break
                    self._cond.wait(0.05)
                if self._stopping:
                    return
                assert hook is not None
                update = self._updates[0]
                if not self._allowed(update, hook["allowed_updates"]):
                    self._updates.pop(0)
                    continue
            status, error = self.post_to_webhook(
                update, secret_token=hook["secret_token"], url=hook["url"]
            )
            with self._cond:
                self.webhook_deliveries.append(
                    {"update_id": update["update_id"], "status": status, "error": error}
                )
                if 200 <= status < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                else:
                    self.webhook_error = (int(time.time()), error or f"Wrong response: {status}")
                    self._webhook_retry_at = time.monotonic() + self.webhook_retry_delay
                self._cond.notify_all()

    def post_to_webhook(
        self, update: JSON, *, secret_token: str | None = None, url: str | None = None
    ) -> tuple[int, str | None]:
        """POST one update like Telegram does; returns (HTTP status or 0, error text)."""
        target = url or (self.webhook or {}).get("url")
        assert target, "no webhook set"
        req = urllib.request.Request(
            target,
            data=json.dumps(update).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        if secret_token is not None:
            req.add_header("X-Telegram-Bot-Api-Secret-Token", secret_token)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return int(resp.status), None
        except urllib.error.HTTPError as exc:
            return int(exc.code), f"Wrong response from the webhook: {exc.code} {exc.reason}"
        except OSError as exc:
            return 0, f"Connection failed: {exc}"

    # ------------------------------------------------------------ control API: configuration
    def block(self, chat_id: int, *, notify: bool = False) -> None:
        """Sends to ``chat_id`` now fail with 403; ``notify`` also emits my_chat_member kicked."""
        with self._cond:
            self.blocked.add(chat_id)
        if notify:
            self.my_chat_member(chat_id, "kicked")

    def unblock(self, chat_id: int) -> None:
        with self._cond:
            self.blocked.discard(chat_id)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """Sends to ``chat_id`` fail with 400 + migrate_to_chat_id (PTB: ChatMigrated)."""
        with self._cond:
            self.migrated[chat_id] = new_chat_id
            old = self.chats.get(chat_id)
            title = old.get("title") if old else None
            self._chat(new_chat_id, chat_type="supergroup", chat_title=title)

    def set_rate_limit(
        self, per_second: float | None = None, *, per_chat: float | None = None, window: float = 1.0
    ) -> None:
        """Sliding-window limit on sends/edits (global and/or per chat); None disables."""
        with self._cond:
            self.rate_global, self.rate_per_chat, self.rate_window = per_second, per_chat, window
            self._rate_all.clear()
            self._rate_chat.clear()

    def set_group_limit(self, per_window: int | None = 20, *, window: float = 60.0) -> None:
        """Telegram's per-group (and channel) limit, on by default: 20 a minute; None = off."""
        with self._cond:
            self.group_limit, self.group_window = per_window, window
            self._rate_group.clear()

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        parameters: JSON | None = None,
        *,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with this error."""
        with self._cond:
            err = ApiError(error_code, description, parameters)
            self._fail_next.setdefault(method.lower(), []).extend([err] * times)

    def fail_for(
        self,
        method: str,
        seconds: float,
        error_code: int,
        description: str,
        parameters: JSON | None = None,
    ) -> None:
        """Make every call of ``method`` fail with this error for the next ``seconds``."""
        with self._cond:
            err = ApiError(error_code, description, parameters)
            self._fail_until[method.lower()] = (time.monotonic() + seconds, err)

    def hold(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` only after ``seconds`` (they still
        take effect: a client that timed out cannot tell whether its message went out)."""
        with self._cond:
            self._hold.setdefault(method.lower(), []).extend([seconds] * times)

    def stub(self, method: str, result: Any) -> None:
        """Answer ``method`` (also unknown ones) with ``result`` or ``result(params)``."""
        with self._cond:
            self._stubs[method.lower()] = result

    # ------------------------------------------------------------ control API: the user
    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        username: str | None = "alice",
        first_name: str = "Alice",
        chat_title: str | None = None,
        reply_to: int | None = None,
        entities: list[JSON] | None = None,
        thread_id: int | None = None,
        deliver: bool = True,
    ) -> JSON:
        """The user sends ``text``; returns the Update dict (queued unless ``deliver=False``).

        ``bot_command`` entities are added for ``/cmd`` and ``/cmd@bot`` tokens.
        ``chat_type`` defaults to private for positive ids, (super)group for negative ones.
        ``thread_id`` sends it in a forum topic (see ``make_forum``/``create_topic``).
        """
        if entities is None:
            entities = command_entities(text)
        topic = {"message_thread_id": thread_id, "is_topic_message": True} if thread_id else {}
        return self._user_message(
            chat_id,
            {"text": text, **({"entities": entities} if entities else {}), **topic},
            user_id=user_id,
            chat_type=chat_type,
            username=username,
            first_name=first_name,
            chat_title=chat_title,
            reply_to=reply_to,
            deliver=deliver,
        )

    def send_command(
        self, chat_id: int, command: str, args: str = "", *, mention: bool = False, **kw: Any
    ) -> JSON:
        """``send_command(42, "start", "x")`` sends "/start x" ("/start@<bot> x" if mention)."""
        cmd = "/" + command.lstrip("/")
        if mention and "@" not in cmd:
            cmd += f"@{self.bot_username}"
        return self.send_text(chat_id, f"{cmd} {args}".rstrip(), **kw)

    def send_document(
        self,
        chat_id: int,
        filename: str,
        content: bytes,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
        reply_to: int | None = None,
        user_id: int | None = None,
        chat_type: str | None = None,
        deliver: bool = True,
    ) -> JSON:
        """The user sends a document; it is stored so getFile + download work."""
        meta = self.add_file(content, filename, mime_type)
        body: JSON = {"document": {k: v for k, v in meta.items() if k != "file_path"}}
        if caption:
            body["caption"] = caption
            if entities := command_entities(caption):
                body["caption_entities"] = entities
        return self._user_message(
            chat_id, body, user_id=user_id, chat_type=chat_type, reply_to=reply_to, deliver=deliver
        )

    def _user_message(
        self,
        chat_id: int,
        body: JSON,
        *,
        user_id: int | None,
        chat_type: str | None,
        username: str | None = "alice",
        first_name: str = "Alice",
        chat_title: str | None = None,
        reply_to: int | None = None,
        deliver: bool = True,
    ) -> JSON:
        with self._cond:
            chat = self._chat(
                chat_id,
                chat_type=chat_type,
                username=username,
                first_name=first_name,
                chat_title=chat_title,
            )
            uid = (
                user_id if user_id is not None else (chat_id if chat["type"] == "private" else 111)
            )
            msg: JSON = {
                "message_id": self._new_message_id(chat_id),
                "date": int(time.time()),
                "chat": chat,
                "from": self._user(uid, username, first_name),
                **body,
            }
            if reply_to is not None:
                msg["reply_to_message"] = copy.deepcopy(self.messages[(chat_id, reply_to)])
            self.messages[(chat_id, msg["message_id"])] = msg
            return self._enqueue("message", copy.deepcopy(msg), deliver)

    def edit_user_message(
        self, chat_id: int, message_id: int, text: str, *, deliver: bool = True
    ) -> JSON:
        """The user edits their message ``message_id`` to ``text``: an ``edited_message`` update."""
        with self._cond:
            msg = copy.deepcopy(self.messages[(chat_id, message_id)])
            msg.pop("entities", None)
            msg["text"] = text
            if entities := command_entities(text):
                msg["entities"] = entities
            msg["edit_date"] = int(time.time())
            self.messages[(chat_id, message_id)] = msg
            return self._enqueue("edited_message", copy.deepcopy(msg), deliver)

    def press_button(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        check: bool = True,
        deliver: bool = True,
    ) -> str:
        """The user presses an inline button; returns the callback_query id.

        With ``check`` the message must exist and carry a button with this callback_data.
        """
        with self._cond:
            msg = self.messages.get((chat_id, message_id))
            if check:
                assert msg is not None, f"no message {message_id} in chat {chat_id}"
                rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
                datas = [b.get("callback_data") for r in rows for b in r]
                assert data in datas, f"no button with callback_data {data!r} (have {datas})"
            chat = self._chat(chat_id)
            uid = (
                user_id if user_id is not None else (chat_id if chat["type"] == "private" else 111)
            )
            qid = f"{self.bot_id}{self._next_query:08d}"
            self._next_query += 1
            query: JSON = {
                "id": qid,
                "from": self._user(uid, "alice", "Alice"),
                "chat_instance": f"-{abs(chat_id)}77",
                "data": data,
            }
            if msg is not None:
                query["message"] = copy.deepcopy({k: v for k, v in msg.items() if k != "_deleted"})
            self._queries[qid] = query
            self._query_updates[qid] = self._enqueue("callback_query", query, deliver)
            return qid

    def callback_update(self, callback_query_id: str) -> JSON:
        """The Update dict created by :meth:`press_button` (for ``deliver=False`` use)."""
        with self._cond:
            return copy.deepcopy(self._query_updates[callback_query_id])

    def my_chat_member(
        self,
        chat_id: int,
        new_status: str = "kicked",
        *,
        old_status: str = "member",
        user_id: int | None = None,
        deliver: bool = True,
    ) -> JSON:
        """The bot's membership changed (e.g. the user blocked it: "kicked")."""
        with self._cond:
            chat = self._chat(chat_id)
            uid = (
                user_id if user_id is not None else (chat_id if chat["type"] == "private" else 111)
            )
            now = int(time.time())
            payload = {
                "chat": chat,
                "from": self._user(uid, "alice", "Alice"),
                "date": now,
                "old_chat_member": member_json(self.bot_user, old_status),
                "new_chat_member": member_json(self.bot_user, new_status),
            }
            return self._enqueue("my_chat_member", payload, deliver)

    def push_update(self, update: JSON) -> JSON:
        """Queue a raw update (``update_id`` is assigned)."""
        kind, payload = next((k, v) for k, v in update.items() if k != "update_id")
        return self._enqueue(kind, copy.deepcopy(payload), True)

    @staticmethod
    def to_update(update: JSON, bot: Any) -> Any:
        """``telegram.Update.de_json(update, bot)`` for ``Application.process_update``."""
        from telegram import Update

        return Update.de_json(copy.deepcopy(update), bot)

    # ------------------------------------------------------------ control API: reading
    def sent(self, chat_id: int | None = None) -> list[JSON]:
        """Records of accepted bot messages (edits applied, previous versions in "edits"):
        method, chat_id, message_id, text (as sent), plain (after parsing), entities,
        parse_mode, reply_markup, caption, document, reply_to_message_id, params, deleted."""
        with self._cond:
            return copy.deepcopy(
                [r for r in self._sent if chat_id is None or r["chat_id"] == chat_id]
            )

    def texts(self, chat_id: int | None = None) -> list[str]:
        """Plain texts (after HTML parsing) of sent messages."""
        return [r["plain"] or "" for r in self.sent(chat_id)]

    def calls(self, method: str) -> list[JSON]:
        """Logged requests of one method (case-insensitive)."""
        with self._cond:
            return copy.deepcopy(
                [r for r in self.requests if r["method"].lower() == method.lower()]
            )

    def clear_log(self) -> None:
        """Forget sent records, requests, rejections, chat actions and answers."""
        with self._cond:
            for log in (self._sent, self.requests, self.rejected, self.chat_actions):
                log.clear()
            self._sent_by_key.clear()
            self.answers.clear()

    def pending_updates(self) -> list[JSON]:
        with self._cond:
            return copy.deepcopy(self._updates)

    def get_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        with self._cond:
            return copy.deepcopy(self.commands.get(self.scope_key(scope, language_code), []))

    # ------------------------------------------------------------ waiting
    def _waiter(
        self, cond: int | Callable[[list[JSON]], Any], chat_id: int | None
    ) -> Callable[[], list[JSON] | None]:
        def check() -> list[JSON] | None:
            records = self.sent(chat_id)
            ok = len(records) >= cond if isinstance(cond, int) else cond(records)
            return records if ok else None

        return check

    def _timeout_msg(self, what: str, timeout: float) -> str:
        with self._cond:
            tail = [(r["method"], r["status"]) for r in self.requests[-8:]]
            return (
                f"timed out after {timeout}s waiting for {what}; sent={self.texts()!r} "
                f"rejected={self.rejected[-3:]!r} last requests={tail!r}"
            )

    async def wait_for(
        self,
        cond: int | Callable[[list[JSON]], Any] = 1,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Await until ``sent(chat_id)`` has ``cond`` records (int) or ``cond(records)`` is
        truthy; returns the records.  Raises TimeoutError with a diagnostic message."""
        check = self._waiter(cond, chat_id)
        deadline = time.monotonic() + timeout
        while (records := check()) is None:
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_msg(f"sent messages {cond!r}", timeout))
            await asyncio.sleep(0.01)
        return records

    async def wait_until(
        self, predicate: Callable[[], Any], *, timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Await an arbitrary predicate over the fake's state (e.g. ``lambda: fake.answers``)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_msg(what, timeout))
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self,
        cond: int | Callable[[list[JSON]], Any] = 1,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Blocking variant of :meth:`wait_for` (for a bot running in another thread)."""
        check = self._waiter(cond, chat_id)
        deadline = time.monotonic() + timeout
        with self._cond:
            while (records := check()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(self._timeout_msg(f"sent messages {cond!r}", timeout))
                self._cond.wait(remaining)
            return records


def fake_telegram() -> Iterator[FakeTelegram]:
    """Generator behind the ``fake_api`` fixture: a started fake, stopped afterwards."""
    fake = FakeTelegram().start()
    try:
        yield fake
    finally:
        fake.stop()
