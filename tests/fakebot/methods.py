"""Bot API method handlers of the fake server (what the bot under test calls)."""

from __future__ import annotations

import copy
import json
import re
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from .chats import ChatsMixin
from .markup import HtmlParseError, parse_html, utf16_len
from .state import DEFAULT_ALLOWED, JSON, ApiError, bad_request

BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class Params:
    """Request parameters.  Form posts carry every value as a string (PTB JSON-encodes
    non-strings, e.g. ``reply_markup``); JSON bodies carry typed values."""

    def __init__(self, raw: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> None:
        self.raw = raw
        self.files = files  # multipart part name -> (filename, content)

    def get_str(self, name: str) -> str | None:
        v = self.raw.get(name)
        return None if v is None else v if isinstance(v, str) else json.dumps(v)

    def get_json(self, name: str) -> Any:
        v = self.raw.get(name)
        if isinstance(v, str):
            try:
                return json.loads(v)
            except ValueError:
                if name == "reply_markup":
                    raise bad_request("can't parse reply keyboard markup JSON object") from None
                raise bad_request(f"can't parse {name} JSON object") from None
        return v

    def get_int(self, name: str, *, required: bool = False) -> int | None:
        v = self.raw.get(name)
        if v is None or v == "":
            if required:
                raise bad_request(
                    f"{name} is empty"
                    if name != "message_id"
                    else "message identifier is not specified"
                )
            return None
        try:
            return int(v)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        v = self.raw.get(name)
        return v is True or (isinstance(v, str) and v.lower() in ("true", "1"))

    def chat_id(self) -> int:
        v = self.raw.get("chat_id")
        if v is None or v == "":
            raise bad_request("chat_id is empty")
        try:
            return int(v)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None  # @channelusername unsupported


Handler = Callable[[Params], Any]


class BotApiMethods(ChatsMixin):
    """Implements the Bot API methods; :meth:`call` is the single entry point."""

    def __init__(self, token: str, bot_username: str, *, strict_html: bool) -> None:
        super().__init__(token, bot_username, strict_html=strict_html)
        self._handlers: dict[str, Handler] = {
            name.lower(): getattr(self, f"_m_{name}")
            for name in (
                "getMe", "getUpdates", "sendMessage", "editMessageText",
                "editMessageReplyMarkup", "deleteMessage", "answerCallbackQuery",
                "sendChatAction", "setMyCommands", "deleteMyCommands", "getMyCommands",
                "getFile", "sendDocument", "setWebhook", "deleteWebhook", "getWebhookInfo",
                "close", "logOut", "getChat", "getChatMember",
            )
        }  # fmt: skip

    # ------------------------------------------------------------ dispatch
    def call(self, method: str, params: Params) -> tuple[int, JSON]:
        """Run one API call; returns (HTTP status, response body) and logs it."""
        key = method.lower()
        with self._cond:
            holds = self._hold.get(key)
            hold = holds.pop(0) if holds else 0.0
        if hold:
            time.sleep(hold)  # a slow API: the call still takes effect, the reply comes late
        try:
            with self._cond:
                injected = self._fail_next.get(key)
                if injected:
                    raise injected.pop(0)
                until, error = self._fail_until.get(key, (0.0, None))
                if error is not None and time.monotonic() < until:
                    raise error
                if key in self._stubs:
                    stub = self._stubs[key]
                    result = stub(params.raw) if callable(stub) else copy.deepcopy(stub)
                elif key in self._handlers:
                    result = None if key == "getupdates" else self._handlers[key](params)
                else:
                    raise ApiError(404, "Not Found")
            if key == "getupdates" and key not in self._stubs:
                result = self._m_getUpdates(params)  # blocks: runs outside the lock
            status, body = 200, {"ok": True, "result": result}
        except ApiError as err:
            status, body = err.code, err.payload()
        with self._cond:
            entry = {
                "method": method,
                "params": params.raw,
                "status": status,
                "response": body,
                "time": time.time(),
            }
            self.requests.append(entry)
            # a long poll superseded by a newer getUpdates (client gone) is not a bot error
            if status != 200 and not (status == 409 and "terminated" in body["description"]):
                self.rejected.append({"method": method, "params": params.raw, **body})
            self._cond.notify_all()
        return status, body

    # ------------------------------------------------------------ validation
    def _parse_text(
        self, text: str, parse_mode: str | None, entities: Any
    ) -> tuple[str, list[JSON]]:
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                return parse_html(text, strict_ampersand=self.strict_html)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if mode in ("markdown", "markdownv2"):
            return text.strip(), []  # not validated (documented gap)
        if mode:
            raise bad_request(f"unsupported parse_mode {parse_mode!r}")
        return text.strip(), list(entities or [])

    def _check_markup(self, markup: Any) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup  # reply keyboard / remove / force reply: accepted as-is
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        if sum(len(r) for r in rows) > 100:
            raise bad_request("REPLY_MARKUP_TOO_LONG")
        for row in rows:
            for btn in row:
                if not isinstance(btn, dict) or not btn.get("text"):
                    raise bad_request("can't parse inline keyboard button: Text must be non-empty")
                actions = [a for a in BUTTON_ACTIONS if a in btn]
                if not actions:
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in btn:
                    size = len(str(btn["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= 64:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in btn:
                    url = str(btn["url"])
                    parts = urllib.parse.urlsplit(url)
                    ok = (parts.scheme in ("http", "https") and bool(parts.netloc)) or (
                        parts.scheme == "tg"
                    )
                    if not ok:
                        raise bad_request(
                            f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                        )
        return markup

    def _existing(self, chat_id: int, message_id: int, *, action: str) -> JSON:
        msg = self.messages.get((chat_id, message_id))
        if msg is None or msg.get("_deleted"):
            raise bad_request(f"message to {action} not found")
        return msg

    # ------------------------------------------------------------ storing bot messages
    def _store_sent(self, method: str, chat_id: int, p: Params, body: JSON) -> JSON:
        """Create the Message JSON for an accepted bot message and its record in sent()."""
        reply_to = p.get_int("reply_to_message_id")
        rp = p.get_json("reply_parameters")
        if isinstance(rp, dict) and rp.get("message_id"):
            reply_to = int(rp["message_id"])
        target = None if reply_to is None else self.messages.get((chat_id, reply_to))
        if reply_to is not None and target is None:
            lenient = isinstance(rp, dict) and rp.get("allow_sending_without_reply")
            if not (lenient or p.get_bool("allow_sending_without_reply")):
                raise bad_request("message to be replied not found")
        thread = p.get_int("message_thread_id")
        self.check_post(chat_id, thread)
        self._check_rate(chat_id)
        mid = self._new_message_id(chat_id)
        msg: JSON = {
            "message_id": mid,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self.bot_user,
            **body,
        }
        if thread is not None and self._chat(chat_id).get("is_forum"):
            msg.update(message_thread_id=thread, is_topic_message=True)
        if target is not None:
            msg["reply_to_message"] = {k: v for k, v in target.items() if k != "_deleted"}
        self.messages[(chat_id, mid)] = msg
        record = {
            "method": method, "chat_id": chat_id, "message_id": mid, "text": p.get_str("text"),
            "plain": body.get("text", body.get("caption")),
            "entities": body.get("entities", body.get("caption_entities", [])),
            "parse_mode": p.get_str("parse_mode"), "reply_markup": p.get_json("reply_markup"),
            "caption": p.get_str("caption"), "document": body.get("document"),
            "reply_to_message_id": reply_to, "params": p.raw, "edits": [], "deleted": False,
            "message_thread_id": thread,
        }  # fmt: skip
        self._sent.append(record)
        self._sent_by_key[(chat_id, mid)] = record
        return copy.deepcopy(msg)

    # ------------------------------------------------------------ methods
    def _m_getMe(self, p: Params) -> JSON:
        return self.bot_user

    def _m_getUpdates(self, p: Params) -> list[JSON]:
        offset = p.get_int("offset")
        limit = min(max(p.get_int("limit") or 100, 1), 100)
        try:
            timeout = float(p.get_str("timeout") or 0)
        except ValueError:
            raise bad_request("invalid timeout specified") from None
        allowed = p.get_json("allowed_updates")
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is "
                    "active; use deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an older pending long poll ends with 409
            if allowed is not None:
                self.allowed_updates = frozenset(allowed) or DEFAULT_ALLOWED
            if offset is not None and offset < 0:
                self._updates = self._updates[offset:]
            elif offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while True:
                self._updates = [u for u in self._updates if self._allowed(u)]
                if self._updates or self._stopping or time.monotonic() >= deadline:
                    return copy.deepcopy(self._updates[:limit])
                self._cond.wait(max(0.0, deadline - time.monotonic()))
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make "
                        "sure that only one bot instance is running",
                    )
                if self.webhook:
                    return []

    def _allowed(self, update: JSON, allowed: frozenset[str] | None = None) -> bool:
        kinds = [k for k in update if k != "update_id"]
        return bool(kinds) and kinds[0] in (allowed or self.allowed_updates)

    def _m_sendMessage(self, p: Params) -> JSON:
        chat_id = p.chat_id()
        self._check_chat(chat_id)
        text = p.get_str("text")
        if not text or not text.strip():
            raise bad_request("message text is empty")
        plain, entities = self._parse_text(text, p.get_str("parse_mode"), p.get_json("entities"))
        if not plain:
            raise bad_request("message text is empty")
        if utf16_len(plain) > 4096:
            raise bad_request("message is too long")
        markup = self._check_markup(p.get_json("reply_markup"))
        body: JSON = {"text": plain}
        if entities:
            body["entities"] = entities
        if markup and "inline_keyboard" in markup:
            body["reply_markup"] = markup
        return self._store_sent("sendMessage", chat_id, p, body)

    def _m_sendDocument(self, p: Params) -> JSON:
        chat_id = p.chat_id()
        self._check_chat(chat_id)
        doc = p.get_str("document") or ""
        upload = p.files.get("document") or p.files.get(doc.removeprefix("attach://"))
        if upload is not None:
            meta = self.add_file(upload[1], upload[0])
        elif doc in self.files:
            meta = self.files[doc]["meta"]
        else:
            raise bad_request(
                "wrong file identifier/HTTP URL specified"
                if doc
                else "there is no document in the request"
            )
        body: JSON = {"document": {k: v for k, v in meta.items() if k != "file_path"}}
        caption = p.get_str("caption")
        if caption:
            plain, ents = self._parse_text(
                caption, p.get_str("parse_mode"), p.get_json("caption_entities")
            )
            if utf16_len(plain) > 1024:
                raise bad_request("message caption is too long")
            body["caption"] = plain
            if ents:
                body["caption_entities"] = ents
        markup = self._check_markup(p.get_json("reply_markup"))
        if markup and "inline_keyboard" in markup:
            body["reply_markup"] = markup
        return self._store_sent("sendDocument", chat_id, p, body)

    def add_file(self, content: bytes, filename: str, mime_type: str | None = None) -> JSON:
        """Store a file (downloadable via getFile); returns Document-like metadata."""
        with self._cond:
            n = self._next_file
            self._next_file += 1
            ext = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
            meta: JSON = {
                "file_id": f"BQACAgFakeFile{n:06d}", "file_unique_id": f"AgADFake{n:06d}",
                "file_name": filename, "file_size": len(content),
                "file_path": f"documents/file_{n}.{ext}",
            }  # fmt: skip
            if mime_type:
                meta["mime_type"] = mime_type
            self.files[meta["file_id"]] = {"meta": meta, "content": content}
            return meta

    def _edit_target(self, p: Params) -> tuple[int, int, JSON]:
        if p.get_str("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = p.chat_id()
        self._check_chat(chat_id)
        mid = p.get_int("message_id", required=True)
        assert mid is not None
        msg = self._existing(chat_id, mid, action="edit")
        if msg.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return chat_id, mid, msg

    def _apply_edit(self, chat_id: int, mid: int, msg: JSON, changes: JSON, p: Params) -> JSON:
        """Apply an accepted edit to the stored Message and the sent() record."""
        self._check_rate(chat_id)
        record = self._sent_by_key.get((chat_id, mid))
        if record is not None:
            keys = ("text", "plain", "entities", "parse_mode", "reply_markup")
            record["edits"].append({k: record[k] for k in keys})
            if "text" in changes:
                record.update(
                    text=p.get_str("text"),
                    plain=changes["text"],
                    entities=changes["entities"],
                    parse_mode=p.get_str("parse_mode"),
                )
            record["reply_markup"] = changes["reply_markup"]
        if "text" in changes:
            msg["text"] = changes["text"]
            msg.pop("entities", None)
            if changes["entities"]:
                msg["entities"] = changes["entities"]
        msg.pop("reply_markup", None)
        if changes["reply_markup"] and "inline_keyboard" in changes["reply_markup"]:
            msg["reply_markup"] = changes["reply_markup"]
        msg["edit_date"] = int(time.time())
        return copy.deepcopy({k: v for k, v in msg.items() if k != "_deleted"})

    def _m_editMessageText(self, p: Params) -> JSON:
        chat_id, mid, msg = self._edit_target(p)
        text = p.get_str("text")
        if not text or not text.strip():
            raise bad_request("message text is empty")
        plain, entities = self._parse_text(text, p.get_str("parse_mode"), p.get_json("entities"))
        if not plain:
            raise bad_request("message text is empty")
        if utf16_len(plain) > 4096:
            raise bad_request("MESSAGE_TOO_LONG")
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        markup = self._check_markup(p.get_json("reply_markup"))
        if (
            plain == msg["text"]
            and entities == msg.get("entities", [])
            and self.same_markup(markup, msg.get("reply_markup"))
        ):
            raise bad_request(NOT_MODIFIED)
        return self._apply_edit(
            chat_id, mid, msg, {"text": plain, "entities": entities, "reply_markup": markup}, p
        )

    def _m_editMessageReplyMarkup(self, p: Params) -> JSON:
        chat_id, mid, msg = self._edit_target(p)
        markup = self._check_markup(p.get_json("reply_markup"))
        if self.same_markup(markup, msg.get("reply_markup")):
            raise bad_request(NOT_MODIFIED)
        return self._apply_edit(chat_id, mid, msg, {"reply_markup": markup}, p)

    def _m_deleteMessage(self, p: Params) -> bool:
        chat_id = p.chat_id()
        mid = p.get_int("message_id", required=True)
        assert mid is not None
        msg = self._existing(chat_id, mid, action="delete")
        msg["_deleted"] = True
        if (chat_id, mid) in self._sent_by_key:
            self._sent_by_key[(chat_id, mid)]["deleted"] = True
        return True

    def _m_answerCallbackQuery(self, p: Params) -> bool:
        qid = p.get_str("callback_query_id") or ""
        if qid not in self._queries or qid in self.answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.get_str("text")
        if text is not None and utf16_len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.answers[qid] = {
            "text": text,
            "show_alert": p.get_bool("show_alert"),
            "url": p.get_str("url"),
            "cache_time": p.get_int("cache_time"),
        }
        return True

    def _m_sendChatAction(self, p: Params) -> bool:
        chat_id = p.chat_id()
        self._check_chat(chat_id)
        action = p.get_str("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append({"chat_id": chat_id, "action": action, "time": time.time()})
        return True

    def _m_setMyCommands(self, p: Params) -> bool:
        commands = p.get_json("commands")
        if not isinstance(commands, list):
            raise bad_request('parameter "commands" is required')
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for cmd in commands:
            if not isinstance(cmd, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self.scope_key(p.get_json("scope"), p.get_str("language_code"))] = commands
        return True

    def _m_deleteMyCommands(self, p: Params) -> bool:
        self.commands.pop(self.scope_key(p.get_json("scope"), p.get_str("language_code")), None)
        return True

    def _m_getMyCommands(self, p: Params) -> list[JSON]:
        return self.commands.get(
            self.scope_key(p.get_json("scope"), p.get_str("language_code")), []
        )

    def _m_getFile(self, p: Params) -> JSON:
        entry = self.files.get(p.get_str("file_id") or "")
        if entry is None:
            raise bad_request("invalid file_id")
        if len(entry["content"]) > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        meta = entry["meta"]
        return {k: meta[k] for k in ("file_id", "file_unique_id", "file_size", "file_path")}

    def _m_setWebhook(self, p: Params) -> bool:
        url = p.get_str("url") or ""
        if not url:
            return self._m_deleteWebhook(p)
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get_str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.get_json("allowed_updates")
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": frozenset(allowed or ()) or DEFAULT_ALLOWED,
            "max_connections": p.get_int("max_connections") or 40,
        }
        self.webhook_error = None
        return True

    def _m_deleteWebhook(self, p: Params) -> bool:
        self.webhook = None
        if p.get_bool("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_getWebhookInfo(self, p: Params) -> JSON:
        info: JSON = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info.update(
                url=self.webhook["url"],
                max_connections=self.webhook["max_connections"],
                allowed_updates=sorted(self.webhook["allowed_updates"]),
            )
            if self.webhook_error:
                info.update(
                    last_error_date=self.webhook_error[0], last_error_message=self.webhook_error[1]
                )
        return info

    def _m_close(self, p: Params) -> bool:
        return True

    def _m_logOut(self, p: Params) -> bool:
        return True
