"""Replies a user would call wrong (issue 12), each through the production wiring."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from conftest import SEEDS
from factories import (
    ADMIN,
    CHAT,
    App,
    buttons,
    current,
    new_article,
    press,
    read_ids,
    running_app,
    say,
)
from fakebot import FakeTelegram
from sqlalchemy import update

from bot.cli import main
from bot.context import AppContext
from storage import documents
from storage.models import Article, Briefing

SEED = sorted(SEEDS.iterdir())[0]


def _dated(ctx: AppContext, ago: timedelta) -> None:
    """Make every stored article ``ago`` old (the seeds' own dates depend on file times)."""
    with ctx.sessions() as session, session.begin():
        session.execute(update(Article).values(sort_time=datetime.now(UTC) - ago))


@pytest.fixture
async def app(fake_api: FakeTelegram, seeded_ctx: AppContext) -> AsyncIterator[App]:
    async with running_app(seeded_ctx, fake_api) as application:
        yield application


def _chat(
    script: str, url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """Run ``briefbot chat`` in-process on ``url`` with ``script`` as stdin; its output."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    assert main(["chat"]) == 0
    return capsys.readouterr().out


def test_one_file_read_is_singular(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _chat(f"/ingest {SEED}\n", sqlite_url, monkeypatch, capsys)
    assert "1 file read, 0 articles stored, 0 duplicates, 1 unchanged, 0 errors" in out


async def test_sources_do_not_count_unknown_outlet(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    with seeded_ctx.sessions() as session, session.begin():
        # every seed article names its outlet now: make one that does not
        first = min(a.id for a in session.query(Article))
        session.execute(update(Article).where(Article.id == first).values(source=None))
    with seeded_ctx.sessions() as session:
        known = {a.source for a in session.query(Article) if a.source}
        unknown = session.query(Article).filter(Article.source.is_(None)).count()
    assert known and unknown
    [reply] = await say(app, fake_api, "/sources", chat_id=ADMIN)
    lines = reply["plain"].splitlines()
    assert lines[0] == f"Sources ({len(known)} outlets)"
    assert f"no outlet given: {unknown}" in lines[1:]
    assert not any(line.startswith("unknown outlet") for line in lines)


async def test_help_shows_admin_commands_to_admins_only(app: App, fake_api: FakeTelegram) -> None:
    [admin_help] = await say(app, fake_api, "/help", chat_id=ADMIN)
    [user_help] = await say(app, fake_api, "/help")
    for command in ("/stats", "/sources", "/reingest", "/ingest", "/reload_topics"):
        assert command in admin_help["plain"]
        assert command not in user_help["plain"]
    assert user_help["plain"] in admin_help["plain"]


async def test_read_links_the_source(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    url = "https://news.example.org/a?b=1&c=<2>"
    with seeded_ctx.sessions() as session, session.begin():
        first, second = session.query(Article).order_by(Article.id).limit(2)
        first.url, second.url = url, "javascript:alert(1)"
        ids = first.id, second.id
    [linked, *_] = await say(app, fake_api, f"/read_{ids[0]}")
    assert "Source: news.example.org" in linked["plain"]
    assert {"type": "text_link", "url": url} in [
        {k: e.get(k) for k in ("type", "url")} for e in linked["entities"]
    ]
    [unlinked, *_] = await say(app, fake_api, f"/read_{ids[1]}")
    assert "Source: javascript:alert(1)" in unlinked["plain"]
    assert not any(e["type"] == "text_link" for e in unlinked["entities"])


def test_a_number_without_its_button_is_not_a_search(
    seeded_ctx: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _chat("9\n/latest\n9\n2\n", seeded_ctx.settings.database_url, monkeypatch, capsys)
    assert "Nothing found" not in out and "Results for" not in out
    assert "No button 9 (no buttons are shown)" in out
    assert "No button 9 (the buttons are 1–6)" in out
    assert out.count("Latest in all topics") == 1  # "2" pressed a button: no new page


@pytest.mark.parametrize("since", ["2d", "1h"])
def test_cli_brief_ends_without_chat_hints(
    seeded_ctx: AppContext,
    since: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _dated(seeded_ctx, timedelta(hours=3))
    monkeypatch.setenv("DATABASE_URL", seeded_ctx.settings.database_url)
    assert main(["brief", "--since", since]) == 0
    out = capsys.readouterr().out.strip()
    last = out.splitlines()[-1]
    assert "/subscribe" not in out and "/latest" not in out
    if since == "2d":
        assert last == "Read a story in full: briefbot chat, then its /read_<id>."
    else:
        assert out.startswith("Nothing new since") and "\n" not in out


async def test_briefing_names_each_report_with_its_read(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    _dated(seeded_ctx, timedelta(hours=3))
    with seeded_ctx.sessions() as session, session.begin():
        greenland = session.query(Article).filter(Article.title.contains("Greenland")).all()
        assert len(greenland) == 2 and len({a.story_id for a in greenland}) == 1
        for article, outlet in zip(greenland, ("First & Co", "Second Outlet"), strict=True):
            article.source = outlet
        outlets = {a.id: a.source for a in greenland}
    messages = await say(app, fake_api, "/brief")
    text = "\n".join(m["plain"] for m in messages)
    [entry] = [block for block in text.split("\n\n") if "2 reports" in block]
    assert set(read_ids(entry)) == set(outlets)  # both reports can be opened
    [lead] = [int(line[6:]) for line in entry.splitlines() if line.startswith("/read_")]
    [other] = set(outlets) - {lead}
    assert f"Reports: {outlets[other]} /read_{other}" in entry.splitlines()
    [opened, *_] = await say(app, fake_api, f"/read_{other}")
    assert opened["plain"].startswith(next(a.title for a in greenland if a.id == other))


@pytest.mark.parametrize(
    ("query", "reply"),
    [
        ("Greenland since:-1d", "I can't read since:-1d. Use since:today, since:yesterday"),
        ("Greenland since:soon", "I can't read since:soon."),
        ("Greenland topic:bogus", "I don't know the topic “bogus”; try /topics."),
        ("Greenland source:nosuchoutlet", "No outlet's name contains “nosuchoutlet”."),
        ("Greenland topic:", "topic: needs a value"),
        ("since:2d", "Add the words to search for"),
    ],
)
async def test_search_rejects_unusable_filters(
    app: App, fake_api: FakeTelegram, query: str, reply: str
) -> None:
    [answer] = await say(app, fake_api, f"/search {query}")
    assert reply in answer["plain"] and "Usage: /search" in answer["plain"]
    assert "Nothing found" not in answer["plain"]


@pytest.mark.parametrize("since", ["today", "yesterday", "3d", "12h", "1w", "TODAY"])
async def test_search_accepts_since_words_and_counts(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext, since: str
) -> None:
    _dated(seeded_ctx, timedelta(minutes=5))
    [answer] = await say(app, fake_api, f"/search Greenland since:{since} topic:Europe")
    assert "Results for" in answer["plain"], answer["plain"]


async def test_search_since_excludes_older_articles(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    _dated(seeded_ctx, timedelta(days=3))
    old = datetime.now(UTC) - timedelta(days=3)
    [answer] = await say(app, fake_api, "/search Greenland since:yesterday")
    assert "Nothing found" in answer["plain"]
    day = (old - timedelta(days=1)).strftime("%Y-%m-%d")
    [found] = await say(app, fake_api, f"/search Greenland since:{day}")
    assert "Results for" in found["plain"]


async def test_brief_after_subscribe_follows_the_new_subscriptions(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    _dated(seeded_ctx, timedelta(hours=3))
    first = await say(app, fake_api, "/brief")
    assert first[0]["plain"].startswith("7 stories in ")
    await say(app, fake_api, "/subscribe china")
    [china] = await say(app, fake_api, "/brief")
    note, opening = china["plain"].splitlines()[:3:2]
    assert (
        note
        == "Your subscriptions changed since today's earlier briefing: composed again for them."
    )
    assert opening.startswith("3 stories in China since")
    assert "Greenland" not in china["plain"]
    [again] = await say(app, fake_api, "/brief")  # unchanged since: shown again, no note
    assert again["plain"] == china["plain"].split("\n\n", 1)[1]
    await say(app, fake_api, "/unsubscribe all")
    back = await say(app, fake_api, "/brief")
    assert back[0]["plain"].startswith("Your subscriptions changed")
    with seeded_ctx.sessions() as session:
        stored = session.query(Briefing).order_by(Briefing.id).all()
    assert [b.composed_for for b in stored] == [[], ["topic:china"], []]


def _store_long_article(ctx: AppContext, size: int) -> tuple[int, str]:
    """Store an article of about ``size`` characters (markup-like text included)."""
    words = ["alpha", "&", "beta", "<gamma>", "delta", "🎉", "epsilon", "zeta"]
    paragraphs, total, n = [], 0, 0
    while total < size:
        n += 1
        paragraph = " ".join(f"{words[i % len(words)]}{n}" for i in range(40 + n % 200)) + "."
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    body = "\n\n".join(paragraphs)
    with ctx.sessions() as session, session.begin():
        document = documents.upsert_document(
            session, content_hash=f"long{size}", path="long.txt", raw=None, file_time=None
        )
        story = documents.new_story(session)
        article = documents.store_article(
            session,
            document,
            new_article(f"long{size}", "A very long read", body, url="https://example.org/long"),
            position=0,
            story_id=story.id,
        )
        return article.id, body


@pytest.mark.slow
async def test_read_pages_a_megabyte_article_in_place(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    article_id, _ = _store_long_article(seeded_ctx, 1_000_000)
    [message] = await say(app, fake_api, f"/read_{article_id}")
    pages = int(re.search(r"Page 1 of (\d+)$", message["plain"]).group(1))  # type: ignore[union-attr]
    assert 200 < pages < 300 and message["plain"].startswith("A very long read")
    assert list(buttons(message)) == ["▶"]
    await press(app, fake_api, message, buttons(message)["▶"])
    [second] = fake_api.sent(CHAT)[-1:]
    assert second["message_id"] == message["message_id"] and len(fake_api.sent(CHAT)) == 1
    assert second["plain"].endswith(f"Page 2 of {pages}") and list(buttons(second)) == ["◀", "▶"]
    last = f"article:{article_id}:{pages - 1}"
    await press(app, fake_api, second, last, check=False)
    final = current(fake_api, message)
    assert final["plain"].endswith(f"Page {pages} of {pages}") and list(buttons(final)) == ["◀"]
    assert all(len(data.encode()) <= 64 for data in buttons(final).values())


@pytest.mark.slow
async def test_read_pages_cover_the_whole_article(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    article_id, body = _store_long_article(seeded_ctx, 30_000)
    [message] = await say(app, fake_api, f"/read_{article_id}")
    seen = []
    while True:
        shown = current(fake_api, message)
        seen.append(shown["plain"].rsplit("\n\n", 1)[0])
        if "▶" not in buttons(shown):
            break
        await press(app, fake_api, shown, buttons(shown)["▶"])
    assert 8 <= len(seen) <= 12 and len(fake_api.sent(CHAT)) == 1
    assert seen[0].startswith("A very long read\n") and "Source: example.org" in seen[0]
    text = "\n\n".join(seen)
    assert text.split()[text.split().index("example.org") + 1 :] == body.split()
