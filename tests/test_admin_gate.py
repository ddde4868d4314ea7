"""The admin gate decides on the parse that dispatches: no spelling of a command slips past it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from conftest import SEEDS
from factories import ADMIN, CHAT, App, running_app, say
from fakebot import FakeTelegram
from telegram.ext import CommandHandler

from bot.context import AppContext
from bot.handlers import admin
from bot.handlers.gate import REFUSAL
from storage.models import Article, SourceDocument

SEED = sorted(SEEDS.iterdir())[0]
ADMIN_COMMANDS = sorted(
    name
    for handler in admin.HANDLERS
    if isinstance(handler, CommandHandler)
    for name in handler.commands
)


@pytest.fixture
async def app(fake_api: FakeTelegram, seeded_ctx: AppContext) -> AsyncIterator[App]:
    async with running_app(seeded_ctx, fake_api) as application:
        yield application


async def _process(app: App, fake: FakeTelegram, update: dict[str, Any]) -> None:
    """Process ``update`` and wait for any background work it started (an ingest)."""
    before = asyncio.all_tasks()
    await app.process_update(fake.to_update(update, app.bot))
    started = asyncio.all_tasks() - before - {asyncio.current_task()}
    if started:
        await asyncio.wait_for(asyncio.gather(*started), timeout=30)


def _counts(ctx: AppContext) -> tuple[int, int]:
    with ctx.sessions() as session:
        return session.query(SourceDocument).count(), session.query(Article).count()


def test_the_admin_commands_are_the_admin_handlers_and_the_admin_menu() -> None:
    assert sorted(name for name, _ in admin.MENU) == ADMIN_COMMANDS
    assert {"stats", "sources", "reingest", "ingest", "reload_topics"} <= set(ADMIN_COMMANDS)


@pytest.mark.parametrize("suffix", ["", ".", ",", "!", "@briefbot_test_bot", "@briefbot_test_bot."])
async def test_every_spelling_of_every_admin_command_is_refused(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext, suffix: str
) -> None:
    before = _counts(seeded_ctx)
    for name in ADMIN_COMMANDS:
        [reply] = await say(app, fake_api, f"/{name}{suffix}")
        assert reply["plain"] == REFUSAL, f"/{name}{suffix}"
    assert _counts(seeded_ctx) == before
    assert not fake_api.calls("getFile")


async def test_admins_get_the_same_spellings_answered(app: App, fake_api: FakeTelegram) -> None:
    [reply] = await say(app, fake_api, "/stats.", chat_id=ADMIN)
    assert "Store statistics" in reply["plain"]
    [group] = await say(app, fake_api, "/sources@briefbot_test_bot,", chat_id=ADMIN)
    assert group["plain"].startswith("Sources (")


async def test_an_edited_message_cannot_smuggle_an_admin_command(
    app: App, fake_api: FakeTelegram
) -> None:
    sent = fake_api.send_text(CHAT, "/topics", deliver=False)
    await app.process_update(fake_api.to_update(sent, app.bot))
    before = len(fake_api.sent(CHAT))
    edited = fake_api.edit_user_message(
        CHAT, sent["message"]["message_id"], "/stats.", deliver=False
    )
    await app.process_update(fake_api.to_update(edited, app.bot))
    assert [r["plain"] for r in fake_api.sent(CHAT)[before:]] == [REFUSAL]


@pytest.mark.parametrize(
    "caption",
    ["/ingest", "/ingest.", "/ingest@briefbot_test_bot", "/ingest@bötname", "/ingest@" + "a" * 65],
)
async def test_a_non_admins_document_is_never_ingested(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext, caption: str
) -> None:
    before = _counts(seeded_ctx)
    update = fake_api.send_document(
        CHAT,
        "mine.txt",
        b"Title\n\n" + b"Words of a non-admin. " * 40,
        caption=caption,
        deliver=False,
    )
    await _process(app, fake_api, update)
    replies = [r["plain"] for r in fake_api.sent(CHAT)]
    assert replies in ([], [REFUSAL]), replies  # addressed elsewhere: ignored; else refused
    assert not fake_api.calls("getFile")
    assert _counts(seeded_ctx) == before


@pytest.mark.parametrize("reply_text", ["/ingest", "/ingest.", "/ingest@briefbot_test_bot!"])
async def test_replying_ingest_to_a_document_is_refused_to_non_admins(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext, reply_text: str
) -> None:
    before = _counts(seeded_ctx)
    document = fake_api.send_document(CHAT, "mine.txt", b"Words. " * 100, deliver=False)
    await _process(app, fake_api, document)
    shown = len(fake_api.sent(CHAT))
    reply = fake_api.send_text(
        CHAT, reply_text, reply_to=document["message"]["message_id"], deliver=False
    )
    await _process(app, fake_api, reply)
    assert [r["plain"] for r in fake_api.sent(CHAT)[shown:]] == [REFUSAL]
    assert not fake_api.calls("getFile")
    assert _counts(seeded_ctx) == before


async def test_an_admins_caption_addressed_to_another_bot_is_ignored(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    before = _counts(seeded_ctx)
    update = fake_api.send_document(
        ADMIN, "x.txt", SEED.read_bytes(), caption="/ingest@other_bot", deliver=False
    )
    await _process(app, fake_api, update)
    assert fake_api.sent(ADMIN) == [] and not fake_api.calls("getFile")
    assert _counts(seeded_ctx) == before
