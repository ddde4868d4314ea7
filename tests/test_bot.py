"""Every command through ``Application.process_update`` against the fake Bot API (real HTTP)."""

from __future__ import annotations

import re
import ssl
from collections.abc import AsyncIterator

import pytest
from factories import CHAT, buttons, point_at_fake, press, say
from fakebot import FakeTelegram
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.app import _set_commands, build_application, tls_context
from bot.context import AppContext


@pytest.fixture
async def app(fake_api: FakeTelegram, seeded_ctx: AppContext) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    point_at_fake(seeded_ctx, fake_api)
    application = build_application(seeded_ctx.settings, seeded_ctx)
    async with application:
        yield application


async def test_start_and_help(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    [welcome] = await say(app, fake_api, "/start")
    assert "briefings" in welcome["plain"]
    assert "Topics" in buttons(welcome)
    [help_] = await say(app, fake_api, "/help")
    for command in ("/topics", "/latest", "/search", "/read_"):
        assert command in help_["plain"]


async def test_topics_lists_counts_and_trending(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    [reply] = await say(app, fake_api, "/topics")
    assert "China" in reply["plain"] and "Trending" in reply["plain"]
    assert re.search(r"China: \d+ · \d+", reply["plain"])
    assert any(data.startswith("latest:") for data in buttons(reply).values())


async def test_latest_paginates_in_place(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    [page1] = await say(app, fake_api, "/latest")
    assert "page 1" in page1["plain"]
    assert len(re.findall(r"/read_\d+", page1["plain"])) == 5
    await press(app, fake_api, page1, buttons(page1)["▶"])
    [edited] = fake_api.sent(CHAT)
    assert "page 2" in edited["plain"]
    assert "◀" in buttons(edited)


async def test_latest_unknown_topic_gets_usage(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    [reply] = await say(app, fake_api, "/latest nonsense-topic")
    assert "Usage: /latest" in reply["plain"]


async def test_search_finds_seed_articles(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    [reply] = await say(app, fake_api, "/search Hangzhou")
    assert "Hangzhou" in reply["plain"]
    assert any(e["type"] == "bold" for e in reply["entities"])
    [nothing] = await say(app, fake_api, '/search "zzqx NEAR( AND *')
    assert "Nothing found" in nothing["plain"]
    [usage] = await say(app, fake_api, "/search")
    assert "Usage" in usage["plain"]


async def test_hostile_long_search_is_safe(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    query = ('"NEAR(a b) AND * -x 🎉 <b>&amp; ' * 400)[:10_000]
    replies = await say(app, fake_api, "/search " + query)
    assert len(replies) == 1


async def test_plain_text_is_a_search(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    [reply] = await say(app, fake_api, "Greenland")
    assert "Greenland" in reply["plain"]


async def test_read_sends_the_full_article(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    [results] = await say(app, fake_api, "/search coder village")
    article_id = re.search(r"/read_(\d+)", results["plain"]).group(1)  # type: ignore[union-attr]
    messages = await say(app, fake_api, f"/read_{article_id}")
    text = "\n".join(m["plain"] for m in messages)
    assert "It was a sunny Saturday afternoon" in text
    assert "explore their own way" in text
    [missing] = await say(app, fake_api, "/read_999999")
    assert "no article" in missing["plain"]


async def test_unknown_command_gets_help_pointer(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    [reply] = await say(app, fake_api, "/frobnicate")
    assert "/help" in reply["plain"]


async def test_command_menu_is_registered(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    await _set_commands(app)
    names = [c["command"] for c in fake_api.get_commands()]
    assert {"topics", "latest", "search", "help"} <= set(names)


async def test_errors_apologise_and_alert_admins(app: Application, fake_api: FakeTelegram) -> None:  # type: ignore[type-arg]
    from telegram.error import BadRequest
    from telegram.ext import CommandHandler

    async def boom(update: object, context: object) -> None:
        raise BadRequest("Message is too long")

    app.add_handler(CommandHandler("boom", boom), group=-5)
    replies = await say(app, fake_api, "/boom")
    assert any("something went wrong" in reply["plain"] for reply in replies)
    [alert] = fake_api.sent(777)
    assert "Message is too long" in alert["plain"]


async def test_long_error_alert_is_cut_between_entities(
    app: Application, fake_api: FakeTelegram
) -> None:  # type: ignore[type-arg]
    from telegram.error import BadRequest
    from telegram.ext import CommandHandler

    async def boom(update: object, context: object) -> None:
        raise BadRequest("&" * 5000)  # escaped, a plain cut at 3000 lands inside "&amp;"

    app.add_handler(CommandHandler("boom", boom), group=-5)
    await say(app, fake_api, "/boom")
    [alert] = fake_api.sent(777)
    assert alert["plain"].startswith("⚠️ briefbot error: BadRequest('&&&")
    assert 500 < alert["plain"].count("&") < 600


def test_telegram_transport_verifies_certificates_with_ptb_pool_sizes(
    seeded_ctx: AppContext,
) -> None:
    """Both Bot API clients share one TLS context that checks certificates and host names."""
    application = build_application(seeded_ctx.settings, seeded_ctx)
    updates, calls = application.bot._request  # (getUpdates, every other call)
    for request, pool in ((updates, 1), (calls, 256)):
        assert isinstance(request, HTTPXRequest)
        assert request._client_kwargs["verify"] is tls_context()
        assert request._client_kwargs["limits"].max_connections == pool
    assert tls_context().verify_mode == ssl.CERT_REQUIRED and tls_context().check_hostname
