"""/brief through process_update against the fake Bot API, and ``briefbot brief``."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from factories import CHAT, App, read_ids, running_app, say
from fakebot import FakeTelegram
from sqlalchemy import func, select, update

from bot.cli import main
from bot.context import AppContext
from storage import chats
from storage.models import Article, ArticleTopic, Briefing, BriefingStory


@pytest.fixture
def today_ctx(seeded_ctx: AppContext) -> AppContext:
    """The seeded store, its articles made today's news (the seeds' relative dates count
    from the files' mtime, which may be old)."""
    recent = datetime.now(UTC) - timedelta(hours=3)
    with seeded_ctx.sessions() as session, session.begin():
        session.execute(update(Article).where(Article.sort_time < recent).values(sort_time=recent))
    return seeded_ctx


@pytest.fixture
async def app(fake_api: FakeTelegram, today_ctx: AppContext) -> AsyncIterator[App]:
    async with running_app(today_ctx, fake_api) as application:
        yield application


def _count(ctx: AppContext, model: type) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def test_brief_on_the_seeds(app: App, fake_api: FakeTelegram, seeded_ctx: AppContext) -> None:
    messages = await say(app, fake_api, "/brief")
    text = "\n".join(m["plain"] for m in messages)
    assert all(len(m["plain"]) <= 4096 for m in messages)
    assert text.startswith("7 stories in ") and "since" in text.splitlines()[0]
    # the two Greenland pieces are one story: one entry, two reports
    assert text.count("Greenland") >= 1
    assert "Trump: US has to have Greenland" in text
    assert "Greenland envoy intends" not in text
    assert "2 reports" in text
    # one entry's /read_ per story (other reports have their own, each once)
    assert len(re.findall(r"^/read_\d+$", text, re.M)) == 7 == len(set(read_ids(text))) - 1
    assert "/subscribe" in text  # no subscriptions yet: a hint
    assert any(e["type"] == "bold" for m in messages for e in m["entities"])
    assert _count(seeded_ctx, Briefing) == 1
    assert _count(seeded_ctx, BriefingStory) == 7

    again = await say(app, fake_api, "/brief")
    assert [m["plain"] for m in again] == [m["plain"] for m in messages]
    assert _count(seeded_ctx, Briefing) == 1  # today's briefing shown again, not recomposed


async def test_brief_follows_subscriptions(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    with seeded_ctx.sessions() as session, session.begin():
        chats.ensure_chat(session, CHAT)
        chats.add_subscription(session, CHAT, chats.TOPIC, "china")
    [message] = await say(app, fake_api, "/brief")
    ids = read_ids(message["plain"])
    assert message["plain"].startswith(f"{len(ids)} stories in China since")
    assert "Foxconn" in message["plain"] and "/subscribe" not in message["plain"]
    with seeded_ctx.sessions() as session:
        tagged = set(
            session.scalars(
                select(ArticleTopic.article_id).where(ArticleTopic.topic_slug == "china")
            )
        )
    assert set(ids) <= tagged


async def test_brief_on_a_quiet_day_is_one_friendly_line(
    app: App, fake_api: FakeTelegram, seeded_ctx: AppContext
) -> None:
    with seeded_ctx.sessions() as session, session.begin():
        chats.ensure_chat(session, CHAT)
        chats.add_subscription(session, CHAT, chats.TOPIC, "sport")
    [message] = await say(app, fake_api, "/brief")
    assert message["plain"].startswith("Nothing new in Sport since yesterday")
    assert "\n" not in message["plain"]
    assert _count(seeded_ctx, Briefing) == 0  # nothing stored for an empty briefing


def test_cli_brief_prints_plain_text(
    today_ctx: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", today_ctx.settings.database_url)
    assert main(["brief", "--topics", "china,security", "--since", "2d"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(f"since {datetime.now(UTC) - timedelta(days=2):%A}")
    assert "== China ==" in out and "/read_" in out and "<b>" not in out
    assert main(["brief", "--topics", "nonsense"]) == 2
    assert "unknown topic" in capsys.readouterr().err
    assert main(["brief", "--since", "soon"]) == 2
    assert _count(today_ctx, Briefing) == 0  # the CLI only prints
