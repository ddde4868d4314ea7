"""Subscriptions: the service functions on both engines, and every command through the bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conftest import make_settings
from factories import CHAT, App, buttons, current, press, press_label, running_app, say
from fakebot import FakeTelegram

from bot.app import build_context
from bot.context import AppContext
from briefings import subscriptions as subs
from briefings.errors import InvalidSetting
from storage import chats
from storage.models import Chat


@pytest.fixture
async def app(fake_api: FakeTelegram, ctx: AppContext) -> AsyncIterator[App]:
    async with running_app(ctx, fake_api, default_timezone="Europe/Lisbon") as application:
        yield application


def _chat(ctx: AppContext, chat_id: int = CHAT) -> Chat | None:
    with ctx.sessions() as session:
        return session.get(Chat, chat_id)


def _keys(ctx: AppContext, kind: str, chat_id: int = CHAT) -> list[str]:
    with ctx.sessions() as session:
        return [s.key for s in chats.subscriptions(session, chat_id, kind)]


# ---------------------------------------------------------------- pure parsing
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("chips", "chips"),
        ("Chips  TARIFFS -Sports", "chips tariffs -sports"),
        ("chips chips -x -x", "chips -x"),
        ('"chips," (tariffs)!', "chips tariffs"),
        ("-- chips - -", "chips"),
        ("Zürich 🎉 ai", "zürich ai"),
    ],
)
def test_parse_follow_normalises(text: str, key: str) -> None:
    assert subs.parse_follow(text).key == key


@pytest.mark.parametrize(
    "text", ["", "-sports", "-a -b", "!!! ???", "🎉", "x" * 41, " ".join("abcdefghijk")]
)
def test_parse_follow_rejects(text: str) -> None:
    with pytest.raises(InvalidSetting):
        subs.parse_follow(text)


def test_follow_matching_uses_whole_words_and_exclusions() -> None:
    query = subs.parse_follow("chip tariffs -sports")
    assert query.matches("New TARIFFS on every chip, says Commerce")
    assert not query.matches("Chips and tariffs")  # "chips" is not the word "chip"
    assert not query.matches("chip tariffs hit sports gear")


@pytest.mark.parametrize(
    ("text", "value"),
    [("7:30", "07:30"), ("07:30", "07:30"), ("0730", "07:30"), ("23.59", "23:59")],
)
def test_parse_time(text: str, value: str) -> None:
    assert subs.parse_time(text) == value


@pytest.mark.parametrize("text", ["24:00", "7:60", "noon", "", "7", "-1:00", "07:30:00"])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(InvalidSetting):
        subs.parse_time(text)


def test_parse_timezone() -> None:
    assert subs.parse_timezone("europe/berlin") == "Europe/Berlin"
    assert subs.parse_timezone("Tokyo") == "Asia/Tokyo"
    assert subs.parse_timezone("America/New York") == "America/New_York"
    assert subs.parse_timezone("UTC") == "UTC"
    with pytest.raises(InvalidSetting, match="Europe/Berlin"):
        subs.parse_timezone("Europe/Berlim")
    for bad in ("Mars/Olympus", "../../etc/passwd", "", "/", "localtime"):
        with pytest.raises(InvalidSetting):
            subs.parse_timezone(bad)


# ---------------------------------------------------------------- service on both engines
def test_subscription_services_on_both_engines(migrated_url: str) -> None:
    ctx = build_context(make_settings(migrated_url))
    taxonomy = ctx.taxonomy
    with ctx.sessions() as session, session.begin():
        chats.ensure_chat(session, 5, kind="private")
        topics, unknown = subs.resolve_topics(taxonomy, "ai, China, nonsense")
        assert [t.slug for t in topics] == ["ai", "china"] and unknown == ["nonsense"]
        added, already = subs.subscribe(session, 5, topics)
        assert len(added) == 2 and not already
        assert subs.subscribe(session, 5, topics[:1]) == ([], topics[:1])
        assert subs.toggle_topic(session, 5, "climate") is True
        assert subs.toggle_topic(session, 5, "ai") is False
        assert subs.set_briefing_time(session, 5, "6:05") == "06:05"
        assert subs.set_timezone(session, 5, "asia/tokyo") == "Asia/Tokyo"
        query, new = subs.follow(session, 5, "Chips -Sports")
        assert new and query.key == "chips -sports"
        assert subs.follow(session, 5, "chips   -sports")[1] is False
        subs.follow(session, 5, "greenland")
    with ctx.sessions() as session:
        prefs = subs.preferences(session, taxonomy, 5, default_time="08:00", default_timezone="UTC")
    assert {t.slug for t in prefs.topics} == {"china", "climate"}
    assert [key for _, key in prefs.follows] == ["chips -sports", "greenland"]
    assert (prefs.briefing_time, prefs.timezone) == ("06:05", "Asia/Tokyo")
    assert not prefs.time_is_default and not prefs.timezone_is_default
    with ctx.sessions() as session, session.begin():
        assert subs.unfollow(session, 5, "CHIPS -sports") == 1
        assert subs.unfollow(session, 5, "nothing") == 0
        follow_id = prefs.follows[1][0]
        assert subs.unfollow_id(session, 6, follow_id) is None  # not that chat's follow
        assert subs.unfollow_id(session, 5, follow_id) == "greenland"
        removed, absent = subs.unsubscribe(session, 5, [taxonomy.get("china"), taxonomy.get("ai")])  # type: ignore[list-item]
        assert removed == 1 and [t.slug for t in absent] == ["ai"]
        assert subs.unsubscribe(session, 5, None) == (1, [])
    with ctx.sessions() as session:
        prefs = subs.preferences(session, taxonomy, 9, default_time="08:00", default_timezone="UTC")
    assert prefs.topics == [] and prefs.time_is_default and prefs.timezone == "UTC"
    ctx.sessions.kw["bind"].dispose()


def test_too_many_follows_are_refused(ctx: AppContext) -> None:
    with ctx.sessions() as session, session.begin():
        chats.ensure_chat(session, 5)
        for n in range(subs.MAX_FOLLOWS):
            subs.follow(session, 5, f"word{n}")
        with pytest.raises(InvalidSetting, match="at most"):
            subs.follow(session, 5, "one more")
        assert subs.follow(session, 5, "word0")[1] is False  # a repeat is still fine


# ---------------------------------------------------------------- through the bot
async def test_subscribe_keyboard_toggles_in_place(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    [menu] = await say(app, fake_api, "/subscribe")
    labels = buttons(menu)
    assert "China" in labels and "Done" in labels and not any("✅" in k for k in labels)
    assert len(labels) <= 100
    assert all(len(data.encode()) <= 64 for data in labels.values())
    await press_label(app, fake_api, menu, "China")
    toggled = current(fake_api, menu)
    assert "✅ China" in buttons(toggled) and len(fake_api.sent(CHAT)) == 1  # edited, not sent
    assert _keys(ctx, chats.TOPIC) == ["china"]
    await press_label(app, fake_api, toggled, "✅ China")
    assert "China" in buttons(current(fake_api, menu)) and _keys(ctx, chats.TOPIC) == []
    await press_label(app, fake_api, current(fake_api, menu), "Artificial Intelligence")
    await press_label(app, fake_api, current(fake_api, menu), "Done")
    done = current(fake_api, menu)
    assert "Your subscriptions" in done["plain"] and "Artificial Intelligence" in done["plain"]
    await press_label(app, fake_api, done, "Change topics")
    assert "✅ Artificial Intelligence" in buttons(current(fake_api, menu))
    assert len(fake_api.sent(CHAT)) == 1


async def test_subscribe_and_unsubscribe_with_arguments(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    [reply] = await say(app, fake_api, "/subscribe ai, china, <b>bogus</b>")
    assert "Subscribed to Artificial Intelligence, China" in reply["plain"]
    assert "Unknown topics: <b>bogus</b>" in reply["plain"]
    [again] = await say(app, fake_api, "/subscribe Climate & Energy")
    assert "Subscribed to Climate & Energy" in again["plain"]
    [repeat] = await say(app, fake_api, "/subscribe china")
    assert "Already subscribed to China" in repeat["plain"]
    [usage] = await say(app, fake_api, "/subscribe <nothing> & such")
    assert "Usage: /subscribe" in usage["plain"] and "<nothing>" in usage["plain"]
    assert sorted(_keys(ctx, chats.TOPIC)) == ["ai", "china", "climate"]
    [removed] = await say(app, fake_api, "/unsubscribe china sport")
    assert "Unsubscribed from China" in removed["plain"]
    assert "not subscribed to Sport" in removed["plain"]
    [usage] = await say(app, fake_api, "/unsubscribe zzz")
    assert "Usage: /unsubscribe" in usage["plain"]
    await say(app, fake_api, "/follow chips")
    [everything] = await say(app, fake_api, "/unsubscribe ALL")
    assert (
        "Unsubscribed from 2 topics" in everything["plain"] and "/unfollow" in everything["plain"]
    )
    assert _keys(ctx, chats.TOPIC) == [] and _keys(ctx, chats.FOLLOW) == ["chips"]
    [menu] = await say(app, fake_api, "/unsubscribe")
    assert "Done" in buttons(menu)


async def test_subscriptions_shows_defaults_then_settings(app: App, fake_api: FakeTelegram) -> None:
    [empty] = await say(app, fake_api, "/subscriptions")
    assert "none yet" in empty["plain"]
    assert "08:00 (default)" in empty["plain"] and "Europe/Lisbon (default)" in empty["plain"]
    await say(app, fake_api, "/subscribe ai")
    await say(app, fake_api, "/follow <script> & tariffs -sport")
    await say(app, fake_api, "/settime 6:45")
    await say(app, fake_api, "/timezone asia/tokyo")
    [full] = await say(app, fake_api, "/subscriptions")
    assert "Artificial Intelligence" in full["plain"]
    assert "script tariffs -sport" in full["plain"]
    assert "06:45 (/settime)" in full["plain"] and "Asia/Tokyo (/timezone)" in full["plain"]


async def test_settime_validates(app: App, fake_api: FakeTelegram, ctx: AppContext) -> None:
    [usage] = await say(app, fake_api, "/settime")
    assert "Usage: /settime HH:MM" in usage["plain"]
    [bad] = await say(app, fake_api, "/settime 25:99 <b>")
    assert "Usage: /settime" in bad["plain"] and "24-hour" in bad["plain"]
    assert _chat(ctx) is None or _chat(ctx).briefing_time is None  # type: ignore[union-attr]
    [ok] = await say(app, fake_api, "/settime 7:05")
    assert "07:05" in ok["plain"]
    assert _chat(ctx).briefing_time == "07:05"  # type: ignore[union-attr]


async def test_timezone_validates(app: App, fake_api: FakeTelegram, ctx: AppContext) -> None:
    [usage] = await say(app, fake_api, "/timezone")
    assert "Usage: /timezone Area/City" in usage["plain"]
    [bad] = await say(app, fake_api, "/timezone Europe/Berlim")
    assert "unknown time zone" in bad["plain"] and "Europe/Berlin" in bad["plain"]
    [hostile] = await say(app, fake_api, "/timezone <i>&amp;" + "x" * 5000)
    assert "Usage" in hostile["plain"]
    [ok] = await say(app, fake_api, "/timezone america/new_york")
    assert "America/New_York" in ok["plain"]
    assert _chat(ctx).timezone == "America/New_York"  # type: ignore[union-attr]


async def test_follow_and_unfollow(app: App, fake_api: FakeTelegram, ctx: AppContext) -> None:
    [usage] = await say(app, fake_api, "/follow")
    assert "Usage: /follow" in usage["plain"]
    [negative] = await say(app, fake_api, "/follow -sports -football")
    assert "at least one word" in negative["plain"] and "Usage" in negative["plain"]
    [ok] = await say(app, fake_api, "/follow Chips TARIFFS -sports")
    assert "Following chips tariffs -sports" in ok["plain"]
    [same] = await say(app, fake_api, "/follow chips tariffs -SPORTS")
    assert "already follow" in same["plain"]
    await say(app, fake_api, "/follow greenland")
    await say(app, fake_api, "/follow deepseek")
    [none] = await say(app, fake_api, "/unfollow nothing here")
    assert "don't follow" in none["plain"]
    [one] = await say(app, fake_api, "/unfollow chips tariffs -sports")
    assert "Removed 1 follow" in one["plain"]
    [menu] = await say(app, fake_api, "/unfollow")
    assert set(buttons(menu)) == {"✖ greenland", "✖ deepseek"}
    await press_label(app, fake_api, menu, "✖ greenland")
    assert "Stopped following greenland" in current(fake_api, menu)["plain"]
    assert _keys(ctx, chats.FOLLOW) == ["deepseek"]
    [gone] = await say(app, fake_api, "/unfollow all")
    assert "Removed 1 follow" in gone["plain"]
    [nothing] = await say(app, fake_api, "/unfollow")
    assert "You follow no keywords" in nothing["plain"]


async def test_stale_unfollow_button_is_harmless(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    await say(app, fake_api, "/follow greenland")
    [menu] = await say(app, fake_api, "/unfollow")
    await say(app, fake_api, "/unfollow all")
    await press(app, fake_api, menu, buttons(menu)["✖ greenland"])
    assert "already removed" in current(fake_api, menu)["plain"]


async def test_deep_link_subscribes_and_shows_in_subscriptions(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    [welcome] = await say(app, fake_api, "/start topic_middle_east")
    assert "subscribed to Middle East" in welcome["plain"]
    [prefs] = await say(app, fake_api, "/subscriptions")
    assert "Middle East" in prefs["plain"]
    assert _chat(ctx).kind == "private"  # type: ignore[union-attr]


async def test_subscriptions_in_a_group_apply_to_the_group(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    [reply] = await say(
        app, fake_api, "/subscribe@briefbot_test_bot china", chat_id=-500, chat_title="News <fans>"
    )
    assert "Subscribed to China" in reply["plain"]
    assert _keys(ctx, chats.TOPIC, -500) == ["china"] and _keys(ctx, chats.TOPIC) == []
    group = _chat(ctx, -500)
    assert group is not None and group.kind == "group" and group.title == "News <fans>"


async def test_help_explains_the_subscription_commands(app: App, fake_api: FakeTelegram) -> None:
    [help_] = await say(app, fake_api, "/help")
    for command in ("/subscribe", "/unsubscribe", "/subscriptions", "/settime", "/timezone"):
        assert command in help_["plain"], command
    assert "/follow" in help_["plain"] and "/unfollow" in help_["plain"]
