"""Terminal chat: the same Application and handlers, with stdin/stdout as the chat.

A custom PTB transport (:class:`TerminalRequest`) answers the Bot API calls the handlers
make by printing messages as readable text; input lines become updates fed to
``Application.process_update``. Inline buttons are shown as numbered choices: typing the
number presses the button.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.format import visible_text

TERMINAL_CHAT_ID = 0
TERMINAL_USER = {"id": TERMINAL_CHAT_ID, "is_bot": False, "first_name": "terminal"}
BOT_USER = {"id": 1, "is_bot": True, "first_name": "briefbot", "username": "briefbot"}
CHAT = {"id": TERMINAL_CHAT_ID, "type": "private", "first_name": "terminal"}


class TerminalRequest(BaseRequest):
    """A Bot API transport that prints what the bot sends instead of calling Telegram.

    Args:
        out: where replies are written.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.next_message_id = 1
        self.choices: list[str] = []  # callback data of the numbered buttons on screen
        self.choices_message_id = 0
        self.messages: dict[int, str] = {}

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Answer one Bot API call locally."""
        api_method = url.rsplit("/", 1)[-1].lower()
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        result: Any = True
        if api_method == "getme":
            result = BOT_USER
        elif api_method in ("sendmessage", "editmessagetext"):
            result = self._show(params, edited=api_method == "editmessagetext")
        elif api_method == "answercallbackquery" and params.get("text"):
            self._print(f"({params['text']})")
        elif api_method == "getupdates":
            result = []
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _show(self, params: dict[str, Any], *, edited: bool) -> dict[str, Any]:
        text = str(params.get("text", ""))
        message_id = int(params.get("message_id") or 0) if edited else 0
        if not message_id:
            message_id = self.next_message_id
            self.next_message_id += 1
        self.messages[message_id] = text
        shown = visible_text(text) if params.get("parse_mode") == "HTML" else text
        self._print(shown)
        markup = params.get("reply_markup")
        if markup:
            rows = markup if isinstance(markup, dict) else json.loads(str(markup))
            buttons = [
                (button["text"], button["callback_data"])
                for row in rows.get("inline_keyboard", [])
                for button in row
                if button.get("callback_data")
            ]
            if buttons:  # buttons stay pressable until a message with new ones arrives
                self.choices = [data for _, data in buttons]
                self.choices_message_id = message_id
                labels = (f"[{n}] {label}" for n, (label, _) in enumerate(buttons, 1))
                self._print("  ".join(labels))
        return {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": CHAT,
            "from": BOT_USER,
            "text": visible_text(text),
        }

    def no_button(self, typed: str) -> None:
        """Say that the number typed names no button on screen."""
        shown = len(self.choices)
        if shown:
            where = f"the buttons are 1–{shown}" if shown > 1 else "the only button is 1"
        else:
            where = "no buttons are shown"
        self._print(
            f"No button {typed[:20]} ({where}). To search for a number: /search {typed[:20]}"
        )

    def _print(self, text: str) -> None:
        self.out.write(text.rstrip() + "\n\n")
        self.out.flush()


def message_update(update_id: int, text: str) -> dict[str, Any]:
    """Build the Update JSON of the terminal user sending ``text``."""
    message: dict[str, Any] = {
        "message_id": 100_000 + update_id,
        "date": int(time.time()),
        "chat": CHAT,
        "from": TERMINAL_USER,
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": update_id, "message": message}


def button_update(update_id: int, data: str, message_id: int, text: str) -> dict[str, Any]:
    """Build the Update JSON of the terminal user pressing a button."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": TERMINAL_USER,
            "chat_instance": "terminal",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": CHAT,
                "from": BOT_USER,
                "text": text,
            },
        },
    }


async def run_terminal_chat(
    application: Application,
    transport: TerminalRequest,
    lines: Iterable[str],
    *,
    prompt: bool = False,
) -> None:
    """Feed each input line to the application as an update until input ends.

    Args:
        application: built with ``request=transport``.
        transport: the terminal transport the application uses.
        lines: input lines (``sys.stdin``).
        prompt: print a "> " prompt (interactive terminals only).
    """
    update_id = 0
    async with application:
        for raw in _prompted(lines, prompt, transport.out):
            line = raw.strip()
            if not line:
                continue
            if line in {"/quit", "/exit"}:
                break
            number = int(line[:9]) if line.isascii() and line.isdigit() else None
            if number is not None and not 1 <= number <= len(transport.choices):
                transport.no_button(line)  # numbers press buttons: never a search for "9"
                continue
            update_id += 1
            if number is not None:
                data = transport.choices[number - 1]
                shown_id = transport.choices_message_id
                text = transport.messages.get(shown_id, "")
                payload = button_update(update_id, data, shown_id, text)
            else:
                payload = message_update(update_id, line)
            await application.process_update(Update.de_json(payload, application.bot))


def _prompted(lines: Iterable[str], prompt: bool, out: TextIO) -> Iterable[str]:
    if prompt:
        out.write("> ")
        out.flush()
    for line in lines:
        yield line
        if prompt:
            out.write("> ")
            out.flush()


def interactive() -> bool:
    """True when stdin is a terminal (not a pipe)."""
    return sys.stdin.isatty()
