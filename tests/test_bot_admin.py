"""Admin commands (/stats, /sources, /reingest, /ingest), the admin gate and the admin menu."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import SEEDS
from factories import ADMIN, CHAT, App, running_app, say
from fakebot import FakeTelegram

from bot.app import _set_commands
from bot.cli import _terminal
from bot.context import AppContext
from storage.models import Article, SourceDocument

SEED = sorted(SEEDS.iterdir())[0]


@pytest.fixture
async def app(fake_api: FakeTelegram, seeded_ctx: AppContext) -> AsyncIterator[App]:
    async with running_app(seeded_ctx, fake_api) as application:
        yield application


@pytest.fixture
async def empty_app(fake_api: FakeTelegram, ctx: AppContext) -> AsyncIterator[App]:
    async with running_app(ctx, fake_api, max_upload_bytes=200_000) as application:
        yield application


def _counts(ctx: AppContext) -> tuple[int, int]:
    with ctx.sessions() as session:
        docs = session.query(SourceDocument).count()
        articles = session.query(Article).count()
    return docs, articles


async def _finished(fake: FakeTelegram, chat: int, marker: str) -> dict[str, Any]:
    """Wait until a message in ``chat`` contains ``marker`` (admin work runs in the background)."""
    records = await fake.wait_for(
        lambda rs: any(marker in (r["plain"] or "") for r in rs), chat_id=chat, timeout=20
    )
    assert not fake.rejected, fake.rejected
    return next(r for r in records if marker in (r["plain"] or ""))


async def test_non_admins_are_refused_and_nothing_happens(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    before = _counts(seeded_ctx)
    for command in (
        "/stats",
        "/sources",
        "/reingest",
        "/ingest",
        "/ingest /etc/passwd",
        "/reload_topics",
    ):
        [reply] = await say(app, fake_api, command)
        assert reply["plain"] == "Sorry, that command is not allowed for you.", command
    update = fake_api.send_document(
        CHAT, "dump.txt", SEED.read_bytes(), caption="/ingest", deliver=False
    )
    await app.process_update(fake_api.to_update(update, app.bot))
    assert fake_api.sent(CHAT)[-1]["plain"].endswith("not allowed for you.")
    assert not fake_api.calls("getFile")
    assert _counts(seeded_ctx) == before
    # in a group, a non-admin addressing the bot is refused too
    [group] = await say(app, fake_api, "/stats@briefbot_test_bot", chat_id=-300)
    assert "not allowed" in group["plain"]


@pytest.mark.slow
async def test_stats_for_admin(app: App, fake_api: FakeTelegram) -> None:
    await say(app, fake_api, "/subscribe china", chat_id=ADMIN)

    def backlog(records: list[dict[str, Any]]) -> bool:  # issue 14: what the topic had today
        return any(r["plain"].startswith("Here is what you missed today:") for r in records)

    await fake_api.wait_for(backlog, chat_id=ADMIN)
    [reply] = await say(app, fake_api, "/stats", chat_id=ADMIN)
    text = reply["plain"]
    assert "Documents: 2 (0 failed)" in text and "Articles: 8" in text
    assert re.search(r"Stories: \d+", text) and re.search(r"Topics: \d+", text)
    assert "subscribers: 1" in text and "Last ingest: " in text and "never" not in text
    assert "Deliveries today: 0 sent, 0 failed, 0 pending" in text
    assert [a["action"] for a in fake_api.chat_actions if a["chat_id"] == ADMIN] == ["typing"]


async def test_reload_topics_adds_a_user_topic_and_keeps_old_ones_on_error(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext, tmp_path: Path
) -> None:
    extra = tmp_path / "mine.toml"
    seeded_ctx.settings = replace(seeded_ctx.settings, topics_file=extra)
    extra.write_text('[[topic]]\nslug = "arctic"\nlabel = "Arctic"\nkeywords = ["Greenland"]\n')
    [reply] = await say(app, fake_api, "/reload_topics", chat_id=ADMIN)
    assert "Reloaded" in reply["plain"] and seeded_ctx.taxonomy.get("arctic") is not None
    [latest] = await say(app, fake_api, "/latest arctic", chat_id=ADMIN)
    assert "No stories in Arctic yet" in latest["plain"]  # stored articles: after /reingest
    extra.write_text("[[topic]]\nslug = 'broken\n")
    [broken] = await say(app, fake_api, "/reload_topics", chat_id=ADMIN)
    assert "not reloaded" in broken["plain"] and seeded_ctx.taxonomy.get("arctic") is not None


async def test_sources_for_admin(app: App, fake_api: FakeTelegram) -> None:
    [reply] = await say(app, fake_api, "/sources", chat_id=ADMIN)
    lines = reply["plain"].splitlines()
    assert lines[0].startswith("Sources (")
    counts = [int(line.rsplit(": ", 1)[1]) for line in lines[1:]]
    assert sum(counts) == 8 and counts == sorted(counts, reverse=True)


async def test_reingest_reports_progress_in_one_message(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    with seeded_ctx.sessions() as session:
        ids = sorted(a.id for a in session.query(Article))
    await say(app, fake_api, "/reingest", chat_id=ADMIN)
    final = await _finished(fake_api, ADMIN, "Re-ingest finished")
    assert "2 files read" in final["plain"] and "0 errors" in final["plain"]
    assert len(fake_api.sent(ADMIN)) == 1  # progress and result edited into one message
    with seeded_ctx.sessions() as session:
        assert sorted(a.id for a in session.query(Article)) == ids  # ids stay stable


async def test_ingest_a_sent_document(
    empty_app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    update = fake_api.send_document(
        ADMIN, "<seed>.txt", SEED.read_bytes(), caption="/ingest", deliver=False
    )
    await empty_app.process_update(fake_api.to_update(update, empty_app.bot))
    report = await _finished(fake_api, ADMIN, "articles stored")
    assert report["plain"].startswith("<seed>.txt: ") and _counts(ctx)[1] > 0
    # the same bytes again, by replying /ingest to the document message
    document = fake_api.send_document(ADMIN, "again.txt", SEED.read_bytes(), deliver=False)
    message_id = document["message"]["message_id"]
    await say(empty_app, fake_api, "/ingest", chat_id=ADMIN, reply_to=message_id)
    await _finished(fake_api, ADMIN, "already ingested")


async def test_ingest_refuses_large_files_and_reports_bad_ones(
    empty_app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    big = fake_api.send_document(ADMIN, "big.txt", b"x" * 200_001, caption="/ingest", deliver=False)
    await empty_app.process_update(fake_api.to_update(big, empty_app.bot))
    await _finished(fake_api, ADMIN, "too large")
    assert not fake_api.calls("getFile")
    bad = fake_api.send_document(
        ADMIN, "junk.bin", bytes(range(256)) * 8, caption="/ingest@briefbot_test_bot", deliver=False
    )
    await empty_app.process_update(fake_api.to_update(bad, empty_app.bot))
    report = await _finished(fake_api, ADMIN, "junk.bin")
    assert "not ingested" in report["plain"] or "no articles" in report["plain"]
    assert _counts(ctx)[1] == 0


async def test_ingest_usage_and_no_server_paths_from_telegram(
    empty_app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    [usage] = await say(empty_app, fake_api, "/ingest", chat_id=ADMIN)
    assert "caption /ingest" in usage["plain"]
    [refused] = await say(empty_app, fake_api, f"/ingest {SEEDS}", chat_id=ADMIN)
    assert "only in the terminal" in refused["plain"]
    assert _counts(ctx) == (0, 0)


async def test_admin_commands_only_in_admin_menus(app: App, fake_api: FakeTelegram) -> None:
    await _set_commands(app)
    default = {c["command"] for c in fake_api.get_commands()}
    admin = {c["command"] for c in fake_api.get_commands({"type": "chat", "chat_id": ADMIN})}
    assert {"subscribe", "follow", "settime", "timezone"} <= default
    assert not default & {"stats", "sources", "reingest", "ingest"}
    assert {"stats", "sources", "reingest", "ingest", "search"} <= admin


@pytest.mark.slow
def test_terminal_chat_runs_admin_commands_and_ingests_paths(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = f"/stats\n/ingest {SEEDS}\n/sources\n/reingest\n/subscribe china\n/subscriptions\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    assert _terminal(ctx.settings, ctx) == 0
    out = capsys.readouterr().out
    assert "Articles: 0" in out
    assert "Ingest finished" in out and "2 files read, 8 articles stored" in out
    assert "Sources (" in out and "Re-ingest finished" in out
    assert "Subscribed to China" in out and "Topics: China" in out
    assert _counts(ctx) == (2, 8)
