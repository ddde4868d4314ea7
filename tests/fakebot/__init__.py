"""A faithful fake Telegram Bot API server for briefbot's tests.

Fixtures (import them into tests/conftest.py: ``from fakebot import fake_api, fake_app``):

* ``fake_api`` -> a started :class:`FakeTelegram` (stopped after the test).
* ``fake_app`` -> async; a PTB ``Application`` built against ``fake_api`` and initialized
  (no handlers, not polling); shut down afterwards.  Handy for direct ``app.bot`` calls and
  ``app.process_update(fake.to_update(upd, app.bot))`` tests.

Example::

    async def test_start(fake_api):
        app = (ApplicationBuilder().token(fake_api.token).base_url(fake_api.base_url)
               .base_file_url(fake_api.base_file_url).build())
        app.add_handler(CommandHandler("start", on_start))
        async with app:
            await app.updater.start_polling(poll_interval=0.0)
            await app.start()
            try:
                fake_api.send_command(42, "start")
                [reply] = await fake_api.wait_for(1, chat_id=42)
                assert "Welcome" in reply["plain"]
            finally:
                await app.updater.stop()
                await app.stop()
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .markup import HtmlParseError, parse_html, utf16_len
from .server import DEFAULT_TOKEN, FakeTelegram, fake_telegram
from .state import ApiError


@pytest.fixture
def fake_api() -> Iterator[FakeTelegram]:
    """A started fake Telegram Bot API server (function scope)."""
    yield from fake_telegram()


@pytest.fixture
async def fake_app(fake_api: FakeTelegram) -> AsyncIterator[Any]:
    """An initialized PTB Application talking to ``fake_api`` (no updater running)."""
    from telegram.ext import ApplicationBuilder

    app = (
        ApplicationBuilder()
        .token(fake_api.token)
        .base_url(fake_api.base_url)
        .base_file_url(fake_api.base_file_url)
        .build()
    )
    await app.initialize()
    try:
        yield app
    finally:
        await app.shutdown()


__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "FakeTelegram",
    "HtmlParseError",
    "fake_api",
    "fake_app",
    "fake_telegram",
    "parse_html",
    "utf16_len",
]
