"""Helpers for bot tests: an Application wired to the fake Bot API, users acting on it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from fakebot import FakeTelegram
from telegram.ext import Application

from bot.app import build_application
from bot.context import AppContext
from storage import documents

CHAT = 4242  # a private chat (user id == chat id)
ADMIN = 777  # in make_settings' admin_ids
GROUP = -100123

App = Application


def point_at_fake(ctx: AppContext, fake: FakeTelegram, **overrides: Any) -> AppContext:
    """Rewire ``ctx.settings`` to talk to the fake server (plus any overrides); return ctx."""
    ctx.settings = replace(
        ctx.settings,
        telegram_bot_token=fake.token,
        telegram_api_base_url=fake.base_url,
        telegram_file_base_url=fake.base_file_url,
        **overrides,
    )
    return ctx


@asynccontextmanager
async def running_app(ctx: AppContext, fake: FakeTelegram, **overrides: Any) -> AsyncIterator[App]:
    """An initialised and started (not polling) Application on ``ctx`` talking to ``fake``."""
    point_at_fake(ctx, fake, **overrides)
    application = build_application(ctx.settings, ctx)
    async with application:
        await application.start()  # not polling: stop() awaits background work (/reingest)
        try:
            yield application
        finally:
            await application.stop()


async def say(app: App, fake: FakeTelegram, text: str, **kw: Any) -> list[dict[str, Any]]:
    """Send ``text`` as the user via ``process_update``; return the bot's new messages.

    ``chat_id`` defaults to :data:`CHAT`; other keywords go to ``fake.send_text``.
    """
    chat = kw.pop("chat_id", CHAT)
    before = len(fake.sent(chat))
    update = fake.send_text(chat, text, deliver=False, **kw)
    await app.process_update(fake.to_update(update, app.bot))
    assert not fake.rejected, fake.rejected
    return fake.sent(chat)[before:]


async def press(
    app: App, fake: FakeTelegram, message: dict[str, Any], data: str, **kw: Any
) -> None:
    """Press an inline button of ``message`` as the user."""
    query_id = fake.press_button(
        message["chat_id"], message["message_id"], data, deliver=False, **kw
    )
    update = fake.callback_update(query_id)
    await app.process_update(fake.to_update(update, app.bot))
    assert not fake.rejected, fake.rejected


async def press_label(app: App, fake: FakeTelegram, message: dict[str, Any], label: str) -> None:
    """Press the button of ``message`` whose label is ``label``."""
    await press(app, fake, message, buttons(message)[label])


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """The message's inline buttons as {label: callback data}."""
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


def current(fake: FakeTelegram, message: dict[str, Any]) -> dict[str, Any]:
    """The latest version of a sent message (after edits)."""
    return next(
        m for m in fake.sent(message["chat_id"]) if m["message_id"] == message["message_id"]
    )


def read_ids(text: str) -> list[int]:
    """Article ids of the /read_<id> commands in a text."""
    return [int(n) for n in re.findall(r"/read_(\d+)", text)]


def new_article(uid: str, title: str, body: str, **kw: object) -> documents.NewArticle:
    """A derived article ready for ``storage.documents.store_article``; ``kw`` overrides."""
    values: dict[str, object] = {
        "uid": uid,
        "content_hash": f"hash-{uid}",
        "title": title,
        "body": body,
        "source": "Example News",
        "byline": None,
        "published": None,
        "dateline": None,
        "url": None,
        "summary": [],
        "keyphrases": [],
        "language": "en",
        "minhash": None,
        "topics": [],
    }
    values.update(kw)
    return documents.NewArticle(**values)  # type: ignore[arg-type]
