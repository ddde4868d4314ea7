"""End to end: the real Application polling (and on a webhook) against the fake Bot API."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from factories import ADMIN, App, buttons, point_at_fake, read_ids
from fakebot import FakeTelegram

from bot.app import build_application
from bot.context import AppContext
from storage import chats

USER = 5151
GROUP = -4040
BOT = "briefbot_test_bot"


@asynccontextmanager
async def polling(ctx: AppContext, fake: FakeTelegram) -> AsyncIterator[App]:
    """The bot's Application long-polling the fake server."""
    point_at_fake(ctx, fake)
    application = build_application(ctx.settings, ctx)
    assert application.updater is not None
    async with application:
        await application.updater.start_polling(poll_interval=0.0, timeout=5)
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


async def reply_to(fake: FakeTelegram, chat: int, text: str, n: int = 1, **kw: Any) -> list[Any]:
    """Send ``text`` as a user and wait for ``n`` new bot messages in ``chat``."""
    before = len(fake.sent(chat))
    fake.send_text(chat, text, **kw)
    records = await fake.wait_for(before + n, chat_id=chat, timeout=10)
    assert not fake.rejected, fake.rejected
    return records[before:]


async def edited(fake: FakeTelegram, message: dict[str, Any], label: str) -> dict[str, Any]:
    """Press ``label`` on ``message`` and wait until the message is edited."""
    edits = len(message.get("edits") or [])
    fake.press_button(message["chat_id"], message["message_id"], buttons(message)[label])

    def changed(records: list[dict[str, Any]]) -> Any:
        same = [r for r in records if r["message_id"] == message["message_id"]]
        return same and len(same[0].get("edits") or []) > edits

    records = await fake.wait_for(changed, chat_id=message["chat_id"], timeout=10)
    assert not fake.rejected, fake.rejected
    return next(r for r in records if r["message_id"] == message["message_id"])


@pytest.mark.slow
async def test_browsing_over_polling(fake_api: FakeTelegram, seeded_ctx: AppContext) -> None:
    async with polling(seeded_ctx, fake_api):
        [welcome] = await reply_to(fake_api, USER, "/start")
        page1 = await edited(fake_api, welcome, "Latest")  # the welcome turns into the list
        assert "page 1" in page1["plain"] and len(read_ids(page1["plain"])) == 5
        page2 = await edited(fake_api, page1, "▶")
        assert "page 2" in page2["plain"] and "◀" in buttons(page2)
        back = await edited(fake_api, page2, "◀")
        assert "page 1" in back["plain"] and read_ids(back["plain"]) == read_ids(page1["plain"])
        fake_api.press_button(USER, back["message_id"], buttons(back)["Read 1"])
        article = await fake_api.wait_for(2, chat_id=USER)
        first = next(line for line in page1["plain"].splitlines() if line.startswith("1. "))
        assert article[1]["plain"].startswith(first[3:30])
        [topics] = await reply_to(fake_api, USER, "/topics")
        label = next(iter(buttons(topics)))
        opened = await edited(fake_api, topics, label)
        assert f"Latest in {label}" in opened["plain"]
        assert fake_api.answers, "button presses are answered"


@pytest.mark.slow
async def test_deep_link_and_subscriptions_over_polling(
    fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    async with polling(seeded_ctx, fake_api):
        [welcome, backlog] = await reply_to(fake_api, USER, "/start topic_china", n=2)
        assert "subscribed to China" in welcome["plain"]
        assert backlog["plain"].startswith("Here is what you missed today:")  # issue 14
        [bad] = await reply_to(fake_api, USER, "/start topic_<nope>")
        assert "no topic" in bad["plain"]
        [menu] = await reply_to(fake_api, USER, "/subscribe")
        assert "✅ China" in buttons(menu)
        toggled = await edited(fake_api, menu, "Sport")  # the seeds hold no sport story today
        assert "✅ Sport" in buttons(toggled)
        await reply_to(fake_api, USER, "/settime 21:15")
        await reply_to(fake_api, USER, "/timezone Europe/Paris")
        await reply_to(fake_api, USER, "/follow greenland -ice", n=2)  # and its backlog
        [prefs] = await reply_to(fake_api, USER, "/subscriptions")
        for part in ("China", "Sport", "greenland -ice", "21:15", "Europe/Paris"):
            assert part in prefs["plain"]


@pytest.mark.slow
async def test_groups_answer_only_commands_addressed_to_us(
    fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    async with polling(seeded_ctx, fake_api):
        ignored = [
            "Greenland",  # plain text is not a search in groups
            "/latest@some_other_bot",
            "/read_1@some_other_bot",
            "/frobnicate",  # maybe another bot's command
            "/frobnicate@some_other_bot",
            "/stats@some_other_bot",
        ]
        for text in ignored:
            fake_api.send_text(GROUP, text)
        [latest] = await reply_to(fake_api, GROUP, f"/latest@{BOT}")
        assert "Latest in all topics" in latest["plain"]
        assert len(fake_api.sent(GROUP)) == 1, fake_api.texts(GROUP)  # nothing for the others
        [unknown] = await reply_to(fake_api, GROUP, f"/frobnicate@{BOT}")
        assert "/help" in unknown["plain"]
        [found] = await reply_to(fake_api, GROUP, f"/search@{BOT} Greenland")
        assert "Greenland" in found["plain"]
        page2 = await edited(fake_api, latest, "▶")
        assert "page 2" in page2["plain"]
        [sub, backlog] = await reply_to(fake_api, GROUP, "/subscribe ai", n=2)
        assert "Artificial Intelligence" in sub["plain"]
        assert backlog["plain"].startswith("Here is what you missed today:")  # issue 14
        [refused] = await reply_to(fake_api, GROUP, f"/stats@{BOT}")
        assert "not allowed" in refused["plain"]
    with seeded_ctx.sessions() as session:
        assert [s.key for s in chats.subscriptions(session, GROUP)] == ["ai"]


async def test_hostile_input_over_polling(fake_api: FakeTelegram, seeded_ctx: AppContext) -> None:
    hostile = ('"NEAR(a b) AND * -x 🎉 <b>&amp; </i> OR ( ' * 300)[:10_000]
    async with polling(seeded_ctx, fake_api):
        [reply] = await reply_to(fake_api, USER, "/search " + hostile)
        assert "Nothing found" in reply["plain"] or "Results" in reply["plain"]
        [plain] = await reply_to(fake_api, USER, hostile)
        assert "Nothing found" in plain["plain"] or "Results" in plain["plain"]
        for command in ("/follow", "/subscribe", "/timezone", "/settime", "/unfollow", "/latest"):
            [answer] = await reply_to(fake_api, USER, f"{command} {hostile}")
            assert answer["plain"], command
        [admin] = await reply_to(fake_api, ADMIN, "/sources " + hostile)
        assert admin["plain"].startswith("Sources")
        assert any(a["action"] == "typing" for a in fake_api.chat_actions)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_with_secret_token(
    fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    pytest.importorskip("tornado")
    point_at_fake(seeded_ctx, fake_api)
    application = build_application(seeded_ctx.settings, seeded_ctx)
    assert application.updater is not None
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    async with application:
        await application.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="telegram",
            webhook_url=url,
            secret_token="hook-s3cret",
        )
        await application.start()
        try:
            [reply] = await reply_to(fake_api, USER, "/search Hangzhou")
            assert "Hangzhou" in reply["plain"]
            assert fake_api.webhook_deliveries[-1]["status"] == 200
            [sub, backlog] = await reply_to(fake_api, USER, "/subscribe china", n=2)
            assert "Subscribed to China" in sub["plain"]
            assert backlog["plain"].startswith("Here is what you missed today:")  # issue 14
            forged = {
                "update_id": 99,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": USER, "type": "private"},
                    "from": {"id": ADMIN, "is_bot": False, "first_name": "Mallory"},
                    "text": "/reingest",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 9}],
                },
            }
            status, _ = await asyncio.to_thread(
                fake_api.post_to_webhook, forged, secret_token="wrong", url=url
            )
            assert status == 403
            await asyncio.sleep(0.2)
            assert len(fake_api.sent(USER)) == 3  # the forged update did nothing
        finally:
            await application.updater.stop()
            await application.stop()
