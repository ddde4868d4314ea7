"""Tests of the fake Telegram Bot API server (tests/fakebot), driven by PTB itself."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fakebot import FakeTelegram, HtmlParseError, fake_api, fake_app, fake_telegram, parse_html  # noqa: F401
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

Ctx = ContextTypes.DEFAULT_TYPE


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    yield from fake_telegram()


def build_app(
    fake: FakeTelegram, *handlers: BaseHandler[Any, Any, Any]
) -> Application[Any, Any, Any, Any, Any, Any]:
    app = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    for handler in handlers:
        app.add_handler(handler)
    return app


@asynccontextmanager
async def polling(fake: FakeTelegram, *handlers: BaseHandler[Any, Any, Any]) -> AsyncIterator[Any]:
    app = build_app(fake, *handlers)
    assert app.updater is not None
    async with app:
        await app.updater.start_polling(poll_interval=0.0, timeout=5)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


@asynccontextmanager
async def bot_for(fake: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with bot:
        yield bot


# ---------------------------------------------------------------- polling round trips
async def test_command_round_trip_over_polling(fake: FakeTelegram) -> None:
    async def start(update: Update, context: Ctx) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(f"<b>Hi</b> {' '.join(context.args or [])}")

    async with polling(fake, CommandHandler("start", start)):
        fake.send_command(42, "start", "x y")
        fake.send_command(-100777, "start", "grp", mention=True)  # /start@bot in a supergroup
        fake.send_text(42, "not a command")
        [reply] = await fake.wait_for(1, chat_id=42)
        await fake.wait_for(1, chat_id=-100777)
    assert reply["plain"] == "Hi x y" and reply["text"] == "<b>Hi</b> x y"
    assert reply["entities"] == [{"offset": 0, "length": 2, "type": "bold"}]
    assert fake.texts(-100777) == ["Hi grp"]
    assert fake.rejected == []
    assert [c["method"] for c in fake.requests][:2] == ["getMe", "deleteWebhook"]


async def test_long_poll_returns_promptly_and_honours_offset(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        fake.send_text(1, "hello")
        updates = await poll
        assert time.monotonic() - started < 1.5
        assert [u.message.text for u in updates if u.message] == ["hello"]
        again = await bot.get_updates(timeout=0)
        assert [u.update_id for u in again] == [updates[0].update_id]  # not confirmed yet
        assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
        fake.my_chat_member(1)
        fake.press_button(1, 1, "x", check=False)
        only = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
        assert [u.callback_query is not None for u in only] == [True]


async def test_process_update_in_process(fake: FakeTelegram) -> None:
    seen: list[str] = []

    async def echo(update: Update, context: Ctx) -> None:
        assert update.message is not None and update.message.text is not None
        seen.append(update.message.text)
        await update.message.reply_text(update.message.text.upper())

    app = build_app(fake, MessageHandler(filters.TEXT, echo))
    async with app:
        upd = fake.send_text(5, "quiet", deliver=False)
        await app.process_update(fake.to_update(upd, app.bot))
        qid = fake.press_button(5, upd["message"]["message_id"], "d", check=False, deliver=False)
        press = fake.to_update(fake.callback_update(qid), app.bot)
        assert press.callback_query is not None and press.callback_query.data == "d"
    assert seen == ["quiet"] and fake.texts(5) == ["QUIET"]
    assert fake.pending_updates() == []


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "text",
    ["a < b", "a & b", "<b>open", "<b>x</i>", "</b>", "<div>x</div>", "<span>x</span>",
     '<a href="x">y', "<b"],
)  # fmt: skip
async def test_invalid_html_is_rejected(fake: FakeTelegram, text: str) -> None:
    async with bot_for(fake) as bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(1, text, parse_mode="HTML")
    assert fake.sent() == [] and fake.rejected[-1]["error_code"] == 400


def test_html_parser_accepts_documented_markup() -> None:
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        '<strike>k</strike><del>d</del><span class="tg-spoiler">p</span>'
        '<tg-spoiler>q</tg-spoiler><a href="https://x.org/?a=1&amp;b=2">l</a>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji><code>c</code>'
        '<pre><code class="language-python">py</code></pre><blockquote>bq</blockquote>'
        "<blockquote expandable>ex</blockquote> &lt;&gt;&amp;&quot;&#65;&#x42;"
    )
    plain, entities = parse_html(text)
    assert plain.endswith(' <>&"AB')
    types = [e["type"] for e in entities]
    assert "pre" in types and "expandable_blockquote" in types and "custom_emoji" in types
    assert {"offset": 15, "length": 2, "type": "pre", "language": "python"} in entities
    assert entities[types.index("text_link")]["url"] == "https://x.org/?a=1&b=2"
    assert parse_html("  😀 <b>x</b> ") == ("😀 x", [{"offset": 3, "length": 1, "type": "bold"}])
    assert parse_html("a & b", strict_ampersand=False)[0] == "a & b"
    with pytest.raises(HtmlParseError, match=r"(?i)Unsupported start tag"):
        parse_html("<br>")


async def test_text_length_is_counted_in_utf16_units(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        await bot.send_message(1, "x" * 4096)
        await bot.send_message(1, "😀" * 2048)  # 4096 UTF-16 code units
        await bot.send_message(1, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
        for text in ("x" * 4097, "😀" * 2049):
            with pytest.raises(BadRequest, match=r"(?i)too long"):
                await bot.send_message(1, text)
        with pytest.raises(BadRequest, match=r"(?i)text is empty"):
            await bot.send_message(1, "<b> </b>", parse_mode="HTML")
    assert len(fake.sent(1)) == 3


async def test_inline_keyboard_rules(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        ok = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="d" * 64)]])
        await bot.send_message(1, "ok", reply_markup=ok)
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="é" * 33)]])
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(1, "x", reply_markup=too_long)
        many = InlineKeyboardMarkup(
            [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
        )
        with pytest.raises(BadRequest, match=r"(?i)REPLY_MARKUP_TOO_LONG"):
            await bot.send_message(1, "x", reply_markup=many)
        bad_url = InlineKeyboardMarkup([[InlineKeyboardButton("a", url="not a url")]])
        with pytest.raises(BadRequest, match=r"(?i)URL"):
            await bot.send_message(1, "x", reply_markup=bad_url)
    assert fake.sent(1)[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "d" * 64


async def test_exported_fixtures(fake_api: FakeTelegram, fake_app: Any) -> None:  # noqa: F811
    me = await fake_app.bot.get_me()
    assert me.username == fake_api.bot_username and me.id == fake_api.bot_id
    msg = await fake_app.bot.send_message(3, "via fixture")
    assert fake_api.sent(3)[0]["message_id"] == msg.message_id


# ---------------------------------------------------------------- error responses
@pytest.mark.filterwarnings("ignore:.*retry_after:PendingDeprecationWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_rate_limit_blocked_and_migrated(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        fake.set_rate_limit(per_chat=2)
        await bot.send_message(1, "a")
        await bot.send_message(1, "b")
        await bot.send_message(2, "other chat is fine")
        with pytest.raises(RetryAfter) as exc_info:
            await bot.send_message(1, "c")
        assert "retry after 1" in fake.rejected[-1]["description"]
        assert fake.rejected[-1]["parameters"] == {"retry_after": 1}
        assert exc_info.value.message.startswith("Flood control exceeded")
        fake.set_rate_limit(None)

        fake.block(3)
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(3, "x")
        fake.unblock(3)
        await bot.send_message(3, "back")

        fake.migrate(-4, -1004)
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(-4, "x")
        assert migrated.value.new_chat_id == -1004

        fake.fail_next("sendMessage", 502, "Bad Gateway")
        with pytest.raises(Exception, match=r"(?i)Bad Gateway"):
            await bot.send_message(1, "x")
    status = urllib.request.urlopen  # unknown method: 404 like Telegram
    with pytest.raises(urllib.error.HTTPError) as http_err:
        status(f"{fake.base_url}{fake.token}/noSuchMethod", data=b"")
    assert http_err.value.code == 404
    assert json.loads(http_err.value.read()) == {
        "ok": False, "error_code": 404, "description": "Not Found"
    }  # fmt: skip


# ---------------------------------------------------------------- edits, buttons, files
async def test_edits_and_callback_queries(fake: FakeTelegram) -> None:
    async def on_button(update: Update, context: Ctx) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("done")
        await query.edit_message_text(f"<i>chose {query.data}</i>", parse_mode="HTML")

    async with polling(fake, CallbackQueryHandler(on_button)) as app:
        kb = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
        msg = await app.bot.send_message(7, "pick", reply_markup=kb)
        qid = fake.press_button(7, msg.message_id, "a")
        await fake.wait_for(lambda recs: recs[0]["plain"] == "chose a", chat_id=7)
        await fake.wait_until(lambda: qid in fake.answers)
        [record] = fake.sent(7)
        assert record["reply_markup"] is None  # editMessageText without markup drops it
        assert record["edits"][0]["plain"] == "pick" and fake.answers[qid]["text"] == "done"
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await app.bot.answer_callback_query(qid)
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await app.bot.edit_message_text("<i>chose a</i>", 7, msg.message_id, parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await app.bot.edit_message_text("x", 7, 999)
        await app.bot.edit_message_reply_markup(7, msg.message_id, reply_markup=kb)
        assert fake.sent(7)[0]["reply_markup"] == kb.to_dict()
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await app.bot.edit_message_reply_markup(7, msg.message_id, reply_markup=kb)


async def test_document_download_and_commands(fake: FakeTelegram) -> None:
    async def on_doc(update: Update, context: Ctx) -> None:
        assert update.message is not None and update.message.document is not None
        file = await update.message.document.get_file()
        data = await file.download_as_bytearray()
        await update.message.reply_text(f"got {len(data)} bytes: {bytes(data[:5]).decode()}")

    async with polling(fake, MessageHandler(filters.Document.ALL, on_doc)) as app:
        fake.send_document(9, "news.json", b'{"items": []}', caption="dump")
        await fake.wait_for(1, chat_id=9)
        assert fake.texts(9) == ['got 13 bytes: {"ite']
        sent = await app.bot.send_document(9, b"abc", filename="out.txt", caption="<b>r</b>",
                                           parse_mode="HTML")  # fmt: skip
        assert sent.document is not None and sent.caption == "r"
        await app.bot.send_chat_action(9, "typing")
        assert fake.chat_actions[-1]["action"] == "typing"
        await app.bot.set_my_commands([("start", "Start"), ("digest", "Today's digest")])
        await app.bot.set_my_commands([("start", "Старт")], language_code="ru")
        assert [c.command for c in await app.bot.get_my_commands()] == ["start", "digest"]
        assert fake.get_commands(language_code="ru") == [{"command": "start",
                                                          "description": "Старт"}]  # fmt: skip
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await app.bot.set_my_commands([("Bad-Cmd", "x")])


# ---------------------------------------------------------------- webhook mode
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_with_secret_token(fake: FakeTelegram) -> None:
    pytest.importorskip("tornado")

    async def echo(update: Update, context: Ctx) -> None:
        assert update.message is not None
        await update.message.reply_text(f"echo {update.message.text}")

    port = _free_port()
    url = f"http://127.0.0.1:{port}/hook"
    app = build_app(fake, MessageHandler(filters.TEXT, echo))
    assert app.updater is not None
    async with app:
        await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="hook",
                                        webhook_url=url, secret_token="s3cret")  # fmt: skip
        await app.start()
        try:
            fake.send_text(11, "ping")
            await fake.wait_for(1, chat_id=11)
            assert fake.texts(11) == ["echo ping"]
            assert fake.webhook_deliveries[-1]["status"] == 200
            status, _ = await asyncio.to_thread(
                fake.post_to_webhook, {"update_id": 1}, secret_token="wrong", url=url
            )
            assert status == 403
            with pytest.raises(Conflict, match=r"(?i)webhook is active"):
                await app.bot.get_updates()
            info = await app.bot.get_webhook_info()
            assert info.url == url and info.pending_update_count == 0
        finally:
            await app.updater.stop()
            await app.stop()


async def test_misc_rules_and_undelivered_webhook_updates(fake: FakeTelegram) -> None:
    from telegram.error import InvalidToken
    from telegram.ext import ChatMemberHandler

    statuses: list[str] = []

    async def on_member(update: Update, context: Ctx) -> None:
        assert update.my_chat_member is not None
        statuses.append(update.my_chat_member.new_chat_member.status)

    async with polling(fake, ChatMemberHandler(on_member)) as app:
        fake.block(21, notify=True)
        await fake.wait_until(lambda: statuses == ["kicked"], what="my_chat_member")
        msg = await app.bot.send_message(22, "bye")
        assert await app.bot.delete_message(22, msg.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await app.bot.edit_message_text("x", 22, msg.message_id)
        qid = fake.press_button(22, msg.message_id, "x", check=False)
        with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
            await app.bot.answer_callback_query(qid, "x" * 201)
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await app.bot.get_file("nope")

    async with bot_for(fake) as bot:
        await bot.set_webhook(f"http://127.0.0.1:{_free_port()}/nobody-listens")
        fake.send_text(23, "kept")
        await fake.wait_until(lambda: fake.webhook_deliveries, what="a failed delivery")
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1 and info.last_error_message
        await bot.delete_webhook()
        [update] = await bot.get_updates(timeout=0)
        assert update.message is not None and update.message.text == "kept"
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=fake.base_url):
            pass
