"""Forum groups: briefings go to the thread they were asked in, and routed topics to theirs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from delivery_worker import SLOT, fast_config, fixed_clock, migrated_store
from factories import App, running_app, say
from fakebot import FakeTelegram
from routehelp import (
    backlog_settled,
    deliver,
    deliveries,
    first_section,
    make_due,
    read_ids,
    seeded_store,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from telegram import Bot

from bot.context import AppContext
from bot.delivery import Composed, Deliverer
from bot.routing import split, thread_gone
from briefings.digest.briefing import BriefingEntry, ComposedBriefing
from storage import deliveries as log_
from storage import routing
from storage.models import Briefing, Chat, ChatRoute, Delivery, Subscription

FORUM = -1002000
ASKER = 5151


@pytest.fixture
def store(migrated_url: str) -> AppContext:
    return seeded_store(migrated_url)


@pytest.fixture
async def app(fake_api: FakeTelegram, store: AppContext) -> AsyncIterator[App]:
    fake_api.make_forum(FORUM, title="Newsroom forum")
    async with running_app(store, fake_api) as application:
        yield application


def _in(fake: FakeTelegram, thread: int | None) -> list[dict[str, object]]:
    return [r for r in fake.sent(FORUM) if r["message_thread_id"] == thread]


async def _subscribe_everything(app: App, fake: FakeTelegram, ctx: AppContext, thread: int) -> None:
    slugs = " ".join(topic.slug for topic in ctx.taxonomy.topics)
    [reply] = await say(app, fake, f"/subscribe {slugs}", chat_id=FORUM, user_id=ASKER,
                        thread_id=thread)  # fmt: skip
    assert reply["message_thread_id"] == thread  # the reply stays in the topic
    assert "Subscribed to" in reply["plain"]
    await backlog_settled(ctx, FORUM)  # what the group missed today comes first: issue 14


@pytest.mark.slow
async def test_a_subscription_in_a_topic_delivers_to_that_thread(
    app: App, fake_api: FakeTelegram, store: AppContext
) -> None:
    markets = fake_api.create_topic(FORUM, "Markets")
    await _subscribe_everything(app, fake_api, store, markets)
    with store.sessions() as session:
        assert session.get(Chat, FORUM).thread_id == markets  # type: ignore[union-attr]
    fake_api.clear_log()
    make_due(store, FORUM)
    await deliver(app)
    [row] = deliveries(store, FORUM)
    assert row.status == log_.SENT and row.messages_sent >= 1
    sent = fake_api.sent(FORUM)
    assert len(sent) == row.messages_sent
    assert {r["message_thread_id"] for r in sent} == {markets}
    assert read_ids(sent)
    # asked again in General: the General topic (no thread) becomes the default
    await say(app, fake_api, "/follow chips", chat_id=FORUM, user_id=ASKER)
    with store.sessions() as session:
        assert session.get(Chat, FORUM).thread_id is None  # type: ignore[union-attr]


@pytest.mark.slow
async def test_a_routing_table_sends_each_topics_stories_to_its_thread(
    app: App, fake_api: FakeTelegram, store: AppContext
) -> None:
    general_news, routed = fake_api.create_topic(FORUM, "News"), fake_api.create_topic(FORUM, "X")
    await _subscribe_everything(app, fake_api, store, general_news)
    slug = first_section(store, FORUM)  # a topic the briefing has stories of
    label = store.taxonomy.get(slug).label  # type: ignore[union-attr]
    [reply] = await say(app, fake_api, f"/route {slug}", chat_id=FORUM, user_id=ASKER,
                        thread_id=routed)  # fmt: skip
    assert reply["message_thread_id"] == routed and label in reply["plain"]
    [listing] = await say(app, fake_api, "/route", chat_id=FORUM, user_id=ASKER)
    assert f"{label} → topic #{routed}" in listing["plain"]
    fake_api.clear_log()
    make_due(store, FORUM)
    await deliver(app)
    [row] = deliveries(store, FORUM)
    assert row.status == log_.SENT
    there, rest = _in(fake_api, routed), _in(fake_api, general_news)
    assert there and rest and len(there) + len(rest) == row.messages_sent == len(fake_api.sent())
    assert there[0]["plain"].split("\n")[0].endswith(f"in {label}")  # its own opening line
    assert all(f"\n{label}\n" not in f"\n{r['plain']}\n" for r in rest)  # no section here
    ids = read_ids(fake_api.sent(FORUM))
    assert len(ids) == len(set(ids))  # every story once, in one thread or the other
    with store.sessions() as session:
        briefing = session.get(Briefing, row.briefing_id)
        assert briefing is not None and briefing.threads == [
            r["message_thread_id"] for r in fake_api.sent(FORUM)
        ]
    [gone] = await say(app, fake_api, f"/unroute {slug}", chat_id=FORUM, user_id=ASKER)
    assert "Removed 1 route" in gone["plain"]
    with store.sessions() as session:
        assert routing.routing(session, FORUM).routes == {}


@pytest.mark.slow
async def test_a_closed_thread_turns_its_route_off_and_the_group_is_told(
    app: App, fake_api: FakeTelegram, store: AppContext
) -> None:
    news, routed = fake_api.create_topic(FORUM, "News"), fake_api.create_topic(FORUM, "X")
    await _subscribe_everything(app, fake_api, store, news)
    slug = first_section(store, FORUM)
    label = store.taxonomy.get(slug).label  # type: ignore[union-attr]
    await say(app, fake_api, f"/route {slug}", chat_id=FORUM, user_id=ASKER, thread_id=routed)
    fake_api.close_topic(FORUM, routed)
    fake_api.clear_log()
    make_due(store, FORUM)
    await deliver(app)
    [row] = deliveries(store, FORUM)
    assert row.status == log_.SENT  # the rest of the briefing was not lost
    [refused] = [r for r in fake_api.rejected if r["method"] == "sendMessage"]
    assert refused["description"] == "Bad Request: TOPIC_CLOSED"
    general = _in(fake_api, None)
    [notice] = [r for r in general if "can no longer post" in r["plain"]]
    assert label in notice["plain"] and "topic_closed" in notice["plain"].casefold()
    assert _in(fake_api, routed) == []
    assert len(general) - 1 + len(_in(fake_api, news)) == row.messages_sent
    ids = read_ids(fake_api.sent(FORUM))
    assert ids and len(ids) == len(set(ids))
    with store.sessions() as session:
        [route] = session.scalars(select(ChatRoute).where(ChatRoute.chat_id == FORUM)).all()
        assert not route.active and route.error == "Topic_closed"  # as PTB words it
    fake_api.clear_log()
    [listing] = await say(app, fake_api, "/route", chat_id=FORUM, user_id=ASKER)
    assert "off: Topic_closed" in listing["plain"]
    # /route again in a live topic turns it back on
    await say(app, fake_api, f"/route {slug}", chat_id=FORUM, user_id=ASKER, thread_id=news)
    with store.sessions() as session:
        assert routing.routing(session, FORUM).routes == {slug: news}


async def test_a_resumed_delivery_meets_the_lost_thread_again_without_a_second_notice(
    fake_api: FakeTelegram, bot: Bot, sqlite_url: str
) -> None:
    """A run that lost a thread (told the group, sent 2 of 4) resumes: General, no notice."""
    sessions = migrated_store(sqlite_url)
    fake_api.make_forum(FORUM)
    gone, kept = fake_api.create_topic(FORUM), fake_api.create_topic(FORUM)
    fake_api.delete_topic(FORUM, gone)
    day_ago, now = SLOT - timedelta(days=1), SLOT + timedelta(minutes=5)
    with sessions() as session, session.begin():
        # as the interrupted run left it: the default thread already fell back to General
        session.add(Chat(id=FORUM, kind="supergroup", timezone="UTC", briefing_time="08:00",
                         thread_id=None, created_at=day_ago))  # fmt: skip
        session.flush()
        session.add(Subscription(chat_id=FORUM, kind="topic", key="ai", created_at=day_ago))
        briefing = Briefing(chat_id=FORUM, created_at=SLOT, story_ids=[],
                            messages=[f"part {i}" for i in range(1, 5)],
                            threads=[gone, kept, gone, kept])  # fmt: skip
        session.add(briefing)
        session.flush()
        session.add(Delivery(chat_id=FORUM, slot=SLOT, status=log_.RETRY, attempts=1,
                             briefing_id=briefing.id, messages_sent=2, claimed_at=SLOT,
                             next_attempt_at=now - timedelta(minutes=1)))  # fmt: skip

    def compose(session: Session, chat_id: int, now: datetime) -> Composed:
        raise AssertionError("a resumed delivery sends the stored briefing")

    deliverer = Deliverer(bot, sessions, compose, fast_config(), clock=fixed_clock(now))
    report = await deliverer.run()
    assert (report.resumed, report.sent, report.lost_threads) == (1, 1, 0)
    assert [(r["message_thread_id"], r["plain"]) for r in fake_api.sent(FORUM)] == [
        (None, "part 3"),
        (kept, "part 4"),
    ]
    [refused] = fake_api.rejected
    assert refused["description"] == "Bad Request: message thread not found"
    with sessions() as session:
        row = session.scalars(select(Delivery)).one()
        assert (row.status, row.messages_sent) == (log_.SENT, 4)


def _entry(story: int) -> BriefingEntry:
    return BriefingEntry(story, story, f"Story {story}", "Outlet", (), ("A summary.",),
                         datetime(2026, 5, 4, tzinfo=UTC))  # fmt: skip


def test_split_puts_routed_sections_in_their_threads_and_the_rest_first() -> None:
    composed = ComposedBriefing(
        "3 stories", [("AI", [_entry(1)]), ("World", [_entry(2)]), ("Markets", [_entry(3)])],
        [1, 2, 3], False, SLOT, section_keys=["ai", "world", "markets"],
    )  # fmt: skip
    plan = routing.Routing(default_thread=7, routes={"ai": 9, "markets": 9, "world": 7})
    parts = split(composed, plan)
    assert [(thread, [label for label, _ in sections]) for thread, sections in parts] == [
        (7, ["World"]),
        (9, ["AI", "Markets"]),
    ]
    assert split(composed, routing.Routing()) == [(None, composed.sections)]


@pytest.mark.parametrize(
    ("error", "gone"),
    [
        ("Bad Request: message thread not found", True),
        ("Bad Request: TOPIC_CLOSED", True),
        ("Bad Request: TOPIC_DELETED", True),
        ("Bad Request: can't parse entities: unclosed tag", False),
        ("Bad Request: chat not found", False),
    ],
)
def test_thread_errors_are_told_apart(error: str, gone: bool) -> None:
    assert thread_gone(error) is gone


@pytest.mark.slow
async def test_a_backlog_comes_to_the_topic_that_subscribed(
    app: App, fake_api: FakeTelegram, store: AppContext
) -> None:
    news = fake_api.create_topic(FORUM, "News")
    await _subscribe_everything(app, fake_api, store, news)

    def backlog(records: list[dict[str, object]]) -> list[dict[str, object]]:
        return [r for r in records if "missed today" in str(r["plain"])]

    sent = await fake_api.wait_for(backlog, chat_id=FORUM, timeout=30)  # sent in the background
    assert {r["message_thread_id"] for r in backlog(sent)} == {news}
