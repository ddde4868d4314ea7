"""Instant alerts and backlogs: matching, batching, the hourly cap, quiet hours, exactly once."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from delivery_worker import fast_config, fixed_clock, migrated_store
from factories import CHAT, App, buttons, press, running_app, say
from fakebot import FakeTelegram
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot

from bot.alerts import AlertConfig, AlertDeliverer, match_now
from bot.context import AppContext
from bot.digest import briefing_composer
from bot.jobs import alerts_job
from briefings.alerts.index import FollowIndex, follow_tokens
from briefings.alerts.service import set_instant
from storage import chats, documents
from storage.matching import articles_holding, matching_article_ids, term_postings
from storage.models import AlertQueue, Briefing, BriefingStory, Delivery
from storage.search import query_terms

ROOT = Path(__file__).resolve().parent.parent
_ids = itertools.count(1)


def add_story(
    sessions: sessionmaker[Session],
    title: str,
    body: str = "",
    topics: dict[str, float] | None = None,
) -> tuple[int, int]:
    """Store one article in a story of its own (published an hour ago); (article, story)."""
    n = next(_ids)
    body = body or f"{title}. The first sentence of report {n}. A second sentence follows."
    with sessions() as session, session.begin():
        document = documents.upsert_document(
            session, content_hash=f"{n:064d}", path=f"doc{n}.txt", raw=b"x", file_time=None
        )
        new = documents.NewArticle(
            uid=f"uid{n}", content_hash=f"hash{n}", title=title, body=body, source="Example News",
            byline=None, published=datetime.now(UTC) - timedelta(hours=1), dateline=None,
            url=None, summary=[f"Summary of {title}."], keyphrases=[], language="en",
            minhash=None, topics=list((topics or {}).items()),
        )  # fmt: skip
        story = documents.new_story(session).id
        article = documents.store_article(session, document, new, position=0, story_id=story)
        return article.id, story


def instant_follow(sessions: sessionmaker[Session], chat_id: int, key: str) -> None:
    """An instant follow, set up as /alert does (which also starts the matching cursor)."""
    now = datetime.now(UTC)
    with sessions() as session, session.begin():
        chats.ensure_chat(session, chat_id, kind="private" if chat_id > 0 else "group")
        chats.add_subscription(session, chat_id, chats.FOLLOW, key)
        sub = chats.subscriptions(session, chat_id, chats.FOLLOW)[-1]
        assert set_instant(session, chat_id, sub.id, True, now)


def queue_rows(sessions: sessionmaker[Session]) -> list[tuple[int, int]]:
    with sessions() as session:
        return list(session.execute(select(AlertQueue.chat_id, AlertQueue.story_id)).tuples())


def alert_rows(sessions: sessionmaker[Session]) -> list[Delivery]:
    with sessions() as session:
        query = select(Delivery).where(Delivery.kind == "alert").order_by(Delivery.slot)
        return list(session.scalars(query))


@pytest.fixture
async def app(fake_api: FakeTelegram, ctx: AppContext) -> AsyncIterator[App]:
    async with running_app(ctx, fake_api) as application:
        yield application


# ---------------------------------------------------------------- matching
@pytest.fixture(scope="module")
def matching_store(module_migrated_url: str) -> tuple[sessionmaker[Session], list[int]]:
    """One store per engine holding eight one-article stories, for read-only matching tests."""
    sessions = migrated_store(module_migrated_url)
    texts = [
        "Chips and tariffs: a new trade fight", "Tariffs hit chip makers", "Chip sports gear",
        "Covid-19 cases fall", "The covid vaccine at 19 sites", "Chips ahoy for sports fans",
        "Zurich and Zürich banks", "Unrelated weather report",
    ]  # fmt: skip
    return sessions, [add_story(sessions, title)[0] for title in texts]


@pytest.mark.parametrize(
    "key", ["chips", "chips tariffs", "chips -sports", "covid-19", "tariff", "zürich", "nothing"]
)
def test_the_index_matches_what_the_daily_follow_matches(
    matching_store: tuple[sessionmaker[Session], list[int]], key: str
) -> None:
    sessions, ids = matching_store
    after = min(ids) - 1
    terms = follow_tokens(key, query_terms)
    assert terms is not None
    index = FollowIndex()
    index.add(1, terms)
    with sessions() as session:
        postings = term_postings(session, index.terms(), after_id=after, up_to=max(ids))
        include = " ".join(w for w in key.split() if not w.startswith("-"))
        expected = set(matching_article_ids(session, include, min_id=after + 1))
        for word in (w[1:] for w in key.split() if w.startswith("-")):
            expected -= set(matching_article_ids(session, word, min_id=after + 1))
        assert index.match(postings).get(1, set()) == expected
        # common words read only up to a limit (here 1) and checked on candidates: the same
        window = {"after_id": after, "up_to": max(ids)}
        capped = term_postings(session, index.terms(), limit=1, **window)
        truncated = {term for term, found in capped.items() if len(found) > 1}
        full = index.needs_full(truncated)
        capped.update(term_postings(session, full, **window))
        lookups: list[str] = []

        def holding(term: str, anchors: set[str]) -> set[int]:
            lookups.append(term)
            return articles_holding(session, term, anchors, **window)

        assert index.match(capped, truncated - full, holding).get(1, set()) == expected
        assert len(lookups) == len(set(lookups))  # one lookup per term at most
    if key in ("chips", "tariff"):  # stemming like the index: chip/chips, tariff/tariffs
        assert len(expected) >= 2


def test_matching_reads_only_new_articles_and_queues_each_story_once(sqlite_url: str) -> None:
    sessions = migrated_store(sqlite_url)
    add_story(sessions, "Old chips story")  # before the follow: never alerted
    instant_follow(sessions, 501, "chips")
    instant_follow(sessions, 502, "chips -sports")
    _, story = add_story(sessions, "New chips story")
    add_story(sessions, "Chips at the sports desk")
    first = match_now(sessions, datetime.now(UTC))
    assert (first.articles, first.follows, first.queued) == (2, 2, 3)
    assert match_now(sessions, datetime.now(UTC)).queued == 0  # the cursor moved on
    assert (502, story) in queue_rows(sessions)
    assert sorted(chat for chat, _ in queue_rows(sessions)) == [501, 501, 502]


# ---------------------------------------------------------------- through the bot
async def test_an_ingested_story_reaches_an_instant_follow_once_and_not_the_briefing(
    app: App, fake_api: FakeTelegram, ctx: AppContext, tmp_path: Path
) -> None:
    [reply] = await say(app, fake_api, "/follow --now semiconductor tariffs")
    assert "Alerts on" in reply["plain"]
    with ctx.sessions() as session:
        [sub] = chats.subscriptions(session, CHAT, chats.FOLLOW)
        assert sub.delivery == "instant"
    dump = tmp_path / "news.txt"
    dump.write_text(
        "Semiconductor tariffs rattle chip makers\n\n"
        "Washington announced new semiconductor tariffs on Monday, rattling chip makers "
        "across Asia. Officials said the tariffs would take effect next month. Analysts "
        "expect prices of consumer electronics to rise. Several companies said they were "
        "reviewing their supply chains in response to the announcement.\n",
        encoding="utf-8",
    )
    report = await asyncio.to_thread(ctx.ingestor.ingest_paths, [dump])  # the ingest path
    assert not report.errors, report.errors
    before = len(fake_api.sent(CHAT))
    await alerts_job(app)
    await alerts_job(app)  # a second run (or replica) sends nothing more
    [message] = fake_api.sent(CHAT)[before:]
    assert "Semiconductor tariffs rattle chip makers" in message["plain"]
    assert "/read_" in message["plain"] and "1 new story" in message["plain"]
    [row] = alert_rows(ctx.sessions)
    assert (row.status, row.messages_sent) == ("sent", 1)
    with ctx.sessions() as session, session.begin():  # the next daily briefing leaves it out
        composed = briefing_composer(ctx.taxonomy)(session, CHAT, datetime.now(UTC))
        assert not any("Semiconductor tariffs" in text for text in composed.messages)
        assert session.scalar(select(Briefing.kind).where(Briefing.id == row.briefing_id)) == (
            "alert"
        )


@pytest.mark.slow
async def test_many_matches_batch_into_one_message_with_a_button_for_the_rest(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    await say(app, fake_api, "/alert lithium")
    titles = [f"Lithium deal number {i}" for i in range(8)]
    for title in titles:
        add_story(ctx.sessions, title)
    before = len(fake_api.sent(CHAT))
    await alerts_job(app)
    [message] = fake_api.sent(CHAT)[before:]
    assert "8 new stories" in message["plain"] and "…and 3 more" in message["plain"]
    assert sum(title in message["plain"] for title in titles) == 5
    assert list(buttons(message)) == ["Show 3 more"]
    await press(app, fake_api, message, buttons(message)["Show 3 more"])
    [more] = fake_api.sent(CHAT)[before + 1 :]
    assert sum(title in more["plain"] for title in titles) == 3
    shown = message["plain"] + more["plain"]
    assert all(title in shown for title in titles)
    with ctx.sessions() as session:  # all eight are recorded: none repeats in the briefing
        sent = session.scalars(select(BriefingStory.story_id).where(BriefingStory.chat_id == CHAT))
        assert len(list(sent)) == 8


async def test_alerts_lists_and_switches_follows(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    await say(app, fake_api, "/follow cobalt")
    await say(app, fake_api, "/alert nickel")
    [listing] = await say(app, fake_api, "/alerts")
    assert "📰 cobalt" in listing["plain"] and "⚡ nickel" in listing["plain"]
    await press(app, fake_api, listing, buttons(listing)["📰 cobalt → instant"])
    with ctx.sessions() as session:
        modes = {s.key: s.delivery for s in chats.subscriptions(session, CHAT, chats.FOLLOW)}
    assert modes == {"cobalt": "instant", "nickel": "instant"}


# ---------------------------------------------------------------- cap and quiet hours
async def _run(bot: Bot, sessions: sessionmaker[Session], at: datetime, **alert: Any) -> None:
    match_now(sessions, at)
    config = AlertConfig(**alert)
    await AlertDeliverer(bot, sessions, fast_config(), config, clock=fixed_clock(at)).run()


async def test_the_hourly_cap_holds_alerts_and_sends_them_batched_later(
    bot: Bot, fake_api: FakeTelegram, sqlite_url: str
) -> None:
    sessions = migrated_store(sqlite_url)
    instant_follow(sessions, 601, "graphite")
    t0 = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    for minute, count in ((0, 1), (1, 1), (2, 2), (3, 1)):
        for i in range(count):
            add_story(sessions, f"Graphite news {minute}.{i}")
        await _run(bot, sessions, t0 + timedelta(minutes=minute), per_hour=2)
    assert len(fake_api.sent(601)) == 2  # the cap: two alerts in the hour
    assert len(queue_rows(sessions)) == 3  # the rest wait
    await _run(bot, sessions, t0 + timedelta(minutes=61), per_hour=2)
    texts = fake_api.texts(601)
    assert len(texts) == 3 and "3 new stories" in texts[2]
    assert all(f"Graphite news {m}" in texts[2] for m in ("2.0", "2.1", "3.0"))
    assert queue_rows(sessions) == []


async def test_quiet_hours_hold_alerts_until_they_end_in_the_chats_zone(
    bot: Bot, fake_api: FakeTelegram, sqlite_url: str
) -> None:
    from briefings.digest.schedule import parse_quiet_hours

    sessions = migrated_store(sqlite_url)
    instant_follow(sessions, 602, "uranium")
    with sessions() as session, session.begin():
        chats.ensure_chat(session, 602).timezone = "Europe/Berlin"
    quiet = parse_quiet_hours("22:00-07:00")
    night = datetime(2026, 1, 10, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    add_story(sessions, "Uranium price jumps")
    await _run(bot, sessions, night, quiet=quiet)
    await _run(bot, sessions, night.replace(hour=5, day=11), quiet=quiet)  # 06:00 Berlin
    assert fake_api.sent(602) == [] and len(queue_rows(sessions)) == 1
    await _run(bot, sessions, night.replace(hour=6, minute=1, day=11), quiet=quiet)  # 07:01
    [text] = fake_api.texts(602)
    assert "Uranium price jumps" in text


# ---------------------------------------------------------------- backlog
async def test_a_new_subscription_gets_todays_backlog_once(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    ai = [add_story(ctx.sessions, f"AI lab story {i}", topics={"ai": 0.9})[1] for i in range(5)]
    add_story(ctx.sessions, "A sports story", topics={"sports": 0.9})
    before = len(fake_api.sent(CHAT))
    await say(app, fake_api, "/subscribe ai")
    await fake_api.wait_for(before + 2, chat_id=CHAT)
    backlog = fake_api.sent(CHAT)[before + 1]
    assert backlog["plain"].startswith("Here is what you missed today:")
    assert backlog["plain"].count("/read_") == 3 and "sports" not in backlog["plain"]

    def settled() -> bool:  # the alerts job may have planned the chat too: one sends, one is empty
        statuses = Counter(row.status for row in alert_rows(ctx.sessions))
        return statuses["sent"] == 1 and set(statuses) <= {"sent", "empty"}

    await fake_api.wait_until(settled)
    with ctx.sessions() as session, session.begin():
        sent = set(
            session.scalars(select(BriefingStory.story_id).where(BriefingStory.chat_id == CHAT))
        )
        assert len(sent) == 3 and sent <= set(ai)
        composed = briefing_composer(ctx.taxonomy)(session, CHAT, datetime.now(UTC))
    text = "\n".join(composed.messages)
    assert sum(f"AI lab story {i}" in text for i in range(5)) == 2  # only the two not sent yet


async def test_a_new_follow_gets_its_backlog_too(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    add_story(ctx.sessions, "Helium shortage deepens")
    before = len(fake_api.sent(CHAT))
    await say(app, fake_api, "/follow helium")
    await fake_api.wait_for(before + 2, chat_id=CHAT)
    assert "Helium shortage deepens" in fake_api.sent(CHAT)[before + 1]["plain"]


# ---------------------------------------------------------------- crashes
def one_story_for_all(sessions: sessionmaker[Session], chat_ids: list[int], word: str) -> datetime:
    """Every chat follows ``word`` instantly; one matching story is ingested and queued."""
    for chat_id in chat_ids:
        instant_follow(sessions, chat_id, word)
    add_story(sessions, f"{word.title()} breakthrough announced")
    now = datetime.now(UTC)
    assert match_now(sessions, now).queued == len(chat_ids)
    return now


def alert_worker(
    url: str,
    fake: FakeTelegram,
    at: datetime,
    *,
    rate: int,
    workers: int,
    lease: float | None = None,
) -> list[str]:
    """The command line of an alert-delivery worker process (tests/delivery_worker.py)."""
    return [
        sys.executable, str(ROOT / "tests" / "delivery_worker.py"), "--alerts",
        "--db", url, "--base-url", fake.base_url, "--token", fake.token,
        "--now", at.isoformat(), "--rate", str(rate), "--workers", str(workers),
        *(["--lease", str(lease)] if lease is not None else []),
    ]  # fmt: skip


@pytest.mark.slow
def test_sigkill_mid_alert_fan_out_then_restart_sends_each_alert_once(
    database_url: str, fake_api: FakeTelegram
) -> None:
    sessions = migrated_store(database_url)
    chat_ids = list(range(3000, 3120))
    now = one_story_for_all(sessions, chat_ids, "vanadium")
    workers = 8

    def worker(at: datetime, lease: float) -> list[str]:
        return alert_worker(database_url, fake_api, at, rate=60, workers=workers, lease=lease)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(worker(now, 300), env=env, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        fake_api.wait_for_sync(40, timeout=120)  # mid fan-out
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    assert len(fake_api.sent()) < len(chat_ids)
    second = subprocess.run(
        worker(now + timedelta(minutes=1), 30), env=env, cwd=ROOT, capture_output=True,
        timeout=240,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr.decode()[-2000:]
    copies = Counter(record["chat_id"] for record in fake_api.sent())
    assert set(copies) == set(chat_ids)  # none lost …
    duplicates = sum(count - 1 for count in copies.values())
    assert duplicates <= workers  # … and only a message in flight at the kill may repeat
    assert queue_rows(sessions) == []
    rows = alert_rows(sessions)
    assert {r.status for r in rows} <= {"sent", "empty"}
    assert sum(r.status == "sent" for r in rows) == len(chat_ids)
    with sessions() as session:  # each chat's story recorded once: never in its briefing
        recorded = session.scalars(select(BriefingStory.chat_id)).all()
    assert sorted(recorded) == chat_ids


def test_settings_read_the_alert_knobs() -> None:
    from bot.settings import Settings, SettingsError

    settings = Settings.from_env({"ALERTS_PER_HOUR": "3", "ALERT_BATCH_STORIES": "4"})
    assert (settings.alerts_per_hour, settings.alert_batch_stories) == (3, 4)
    assert Settings().alerts_per_hour == 6
    with pytest.raises(SettingsError, match="ALERTS_PER_HOUR"):
        Settings.from_env({"ALERTS_PER_HOUR": "0"})
    config = AlertConfig.from_settings(replace(settings, quiet_hours="22:00-07:00"))
    assert (config.per_hour, config.batch) == (3, 4)
    assert config.quiet_now(datetime(2026, 1, 1, 23, 0, tzinfo=UTC), None)
    assert not config.quiet_now(datetime(2026, 1, 1, 23, 0, tzinfo=UTC), "America/New_York")


def test_alerts_held_for_a_day_are_dropped_by_housekeeping(sqlite_url: str) -> None:
    from storage import alerts

    sessions = migrated_store(sqlite_url)
    instant_follow(sessions, 603, "tungsten")
    add_story(sessions, "Tungsten mine reopens")
    long_ago = datetime.now(UTC) - timedelta(days=2)
    assert match_now(sessions, long_ago).queued == 1
    add_story(sessions, "Tungsten prices climb")
    assert match_now(sessions, datetime.now(UTC)).queued == 1
    with sessions() as session, session.begin():
        assert alerts.prune_queue(session, datetime.now(UTC) - timedelta(days=1)) == 1
    assert len(queue_rows(sessions)) == 1


@pytest.mark.slow
async def test_a_deferred_batch_is_resumed_with_its_more_button(
    bot: Bot, fake_api: FakeTelegram, sqlite_url: str
) -> None:
    sessions = migrated_store(sqlite_url)
    instant_follow(sessions, 604, "bismuth")
    for i in range(7):
        add_story(sessions, f"Bismuth report {i}")
    at = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    match_now(sessions, at)
    fake_api.fail_next("sendMessage", 500, "Internal Server Error")
    config = fast_config(network_retries=0)
    first = AlertDeliverer(bot, sessions, config, AlertConfig(), clock=fixed_clock(at))
    assert (await first.run()).deferred == 1
    assert fake_api.sent(604) == [] and queue_rows(sessions) == []  # taken into the batch
    later = at + timedelta(minutes=5)
    resumed = AlertDeliverer(bot, sessions, config, AlertConfig(), clock=fixed_clock(later))
    report = await resumed.run()
    assert (report.resumed, report.sent) == (1, 1)
    [message] = fake_api.sent(604)
    assert list(buttons(message)) == ["Show 2 more"] and "7 new stories" in message["plain"]


@pytest.mark.slow
@pytest.mark.postgres
def test_two_alert_replicas_on_postgresql_send_each_alert_once(
    postgres_url: str, fake_api: FakeTelegram
) -> None:
    sessions = migrated_store(postgres_url)
    chat_ids = list(range(4000, 4200))
    now = one_story_for_all(sessions, chat_ids, "rhodium")

    def command(at: datetime) -> list[str]:
        return alert_worker(postgres_url, fake_api, at, rate=400, workers=16)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # a millisecond apart: different batch slots, so only the queue's one-taker rule (and
    # not the slot's unique key) keeps the two from sending a chat's alert twice
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    at = [now, now + timedelta(milliseconds=1)]
    replicas = [subprocess.Popen(command(t), env=env, cwd=ROOT, **pipes) for t in at]
    for replica in replicas:
        _, err = replica.communicate(timeout=300)
        assert replica.returncode == 0, err.decode()[-2000:]
    copies = Counter(record["chat_id"] for record in fake_api.sent())
    assert copies == Counter(chat_ids)  # every chat once: none lost, none twice
    assert queue_rows(sessions) == []
