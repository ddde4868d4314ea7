"""Channels: linked by their administrators from a private chat, briefed by the delivery job."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from factories import CHAT, App, running_app, say
from fakebot import FakeTelegram
from routehelp import backlog_settled, deliver, deliveries, make_due, read_ids, seeded_store

from bot.context import AppContext
from briefings.alerts.service import follow_modes
from storage import chats
from storage import deliveries as log_
from storage.models import Chat

CHANNEL = -1003000
OWNER = CHAT  # the private chat's user administers the channel
STRANGER = 6262


@pytest.fixture
async def app(fake_api: FakeTelegram, ctx: AppContext) -> AsyncIterator[App]:
    async with running_app(ctx, fake_api) as application:
        yield application


def _chat(ctx: AppContext, chat_id: int) -> Chat | None:
    with ctx.sessions() as session:
        return session.get(Chat, chat_id)


def _topics(ctx: AppContext, chat_id: int) -> list[str]:
    with ctx.sessions() as session:
        return [s.key for s in chats.subscriptions(session, chat_id, chats.TOPIC)]


async def _link(app: App, fake: FakeTelegram, **kw: object) -> str:
    [reply] = await say(app, fake, "/channel @newsroom", **kw)
    return str(reply["plain"])


async def test_an_admin_links_a_channel_and_manages_it_from_the_private_chat(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    fake_api.add_channel(CHANNEL, "newsroom", title="Newsroom", admins={OWNER: "creator"})
    assert "Linked the channel Newsroom" in await _link(app, fake_api)
    channel = _chat(ctx, CHANNEL)
    assert channel is not None and (channel.kind, channel.active) == ("channel", True)
    assert _chat(ctx, CHAT).managing_id == CHANNEL  # type: ignore[union-attr]
    asked = [
        (c["params"]["chat_id"], c["params"]["user_id"]) for c in fake_api.calls("getChatMember")
    ]
    assert asked == [(str(CHANNEL), str(OWNER)), (str(CHANNEL), str(fake_api.bot_id))]
    [reply] = await say(app, fake_api, "/subscribe ai")
    assert reply["plain"].startswith("📢 Newsroom\nSubscribed to Artificial Intelligence")
    assert _topics(ctx, CHANNEL) == ["ai"] and _topics(ctx, CHAT) == []
    await say(app, fake_api, "/settime 07:30")
    await say(app, fake_api, "/timezone Europe/Berlin")
    await say(app, fake_api, "/follow chips")
    channel = _chat(ctx, CHANNEL)
    assert channel is not None
    assert (channel.briefing_time, channel.timezone) == ("07:30", "Europe/Berlin")
    [prefs] = await say(app, fake_api, "/subscriptions")
    assert (
        prefs["plain"].startswith("📢 Newsroom\nYour subscriptions") and "chips" in prefs["plain"]
    )
    assert len(fake_api.calls("getChatMember")) == 2 + 5  # every change asked Telegram again
    [state] = await say(app, fake_api, "/channel")
    assert "You manage the channel Newsroom" in state["plain"]
    await say(app, fake_api, "/channel off")
    await say(app, fake_api, "/subscribe china")
    assert _topics(ctx, CHAT) == ["china"] and _topics(ctx, CHANNEL) == ["ai"]


async def test_a_non_admin_cannot_link_or_change_a_channel(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    fake_api.add_channel(CHANNEL, "newsroom", title="Newsroom", admins={STRANGER: "creator"})
    fake_api.set_member(CHANNEL, OWNER, "member")  # a subscriber of the channel, not an admin
    reply = await _link(app, fake_api)
    assert "Only an administrator of Newsroom can link or change it" in reply
    assert _chat(ctx, CHANNEL) is None
    assert _chat(ctx, CHAT).managing_id is None  # type: ignore[union-attr]
    [reply] = await say(app, fake_api, "/subscribe ai")  # applies to the private chat only
    assert reply["plain"].startswith("Subscribed to Artificial Intelligence")
    assert _topics(ctx, CHAT) == ["ai"]
    update = fake_api.send_text(CHAT, "/channel @nosuchchannel", deliver=False)
    await app.process_update(fake_api.to_update(update, app.bot))  # getChat: chat not found
    assert "I can't find @nosuchchannel" in fake_api.sent(CHAT)[-1]["plain"]
    fake_api.clear_log()
    [group] = await say(app, fake_api, "/channel @newsroom", chat_id=-100777)
    assert "in a private chat" in group["plain"]


async def test_the_bot_must_be_a_posting_admin_of_the_channel(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    fake_api.add_channel(CHANNEL, "newsroom", admins={OWNER: "administrator"}, bot_status="member")
    assert "Make me an administrator of" in await _link(app, fake_api)
    fake_api.set_member(CHANNEL, fake_api.bot_id, "administrator", can_post_messages=False)
    assert "Make me an administrator of" in await _link(app, fake_api)
    assert _chat(ctx, CHANNEL) is None
    fake_api.set_member(CHANNEL, fake_api.bot_id, "administrator")
    [linked] = await say(app, fake_api, "/channel https://t.me/newsroom")  # a link works too
    assert "Linked the channel" in linked["plain"]


async def test_an_admin_who_was_demoted_is_refused_at_the_next_change(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    fake_api.add_channel(CHANNEL, "newsroom", title="Newsroom", admins={OWNER: "administrator"})
    await _link(app, fake_api)
    await say(app, fake_api, "/subscribe ai")
    fake_api.set_member(CHANNEL, OWNER, "member")
    [reply] = await say(app, fake_api, "/subscribe china")
    assert "Only an administrator of Newsroom" in reply["plain"]
    assert "manages its own settings again" in reply["plain"]
    assert _topics(ctx, CHANNEL) == ["ai"] and _topics(ctx, CHAT) == []
    assert _chat(ctx, CHAT).managing_id is None  # type: ignore[union-attr]


async def test_forwarding_a_channel_post_links_the_channel(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    fake_api.add_channel(CHANNEL, "newsroom", title="Newsroom", admins={OWNER: "creator"})
    update = fake_api.forward_channel_post(CHAT, CHANNEL, deliver=False)
    await app.process_update(fake_api.to_update(update, app.bot))
    [reply] = fake_api.sent(CHAT)
    assert "Linked the channel Newsroom" in reply["plain"]
    assert _chat(ctx, CHAT).managing_id == CHANNEL  # type: ignore[union-attr]
    [found] = await say(app, fake_api, "plain words are still a search")
    assert "Linked" not in found["plain"]


async def test_my_chat_member_deactivates_and_reactivates_a_channel(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    fake_api.add_channel(CHANNEL, "newsroom", admins={OWNER: "creator"})
    await _link(app, fake_api)

    async def becomes(status: str) -> bool:
        update = fake_api.bot_membership(CHANNEL, status, deliver=False)
        await app.process_update(fake_api.to_update(update, app.bot))
        row = _chat(ctx, CHANNEL)
        assert row is not None
        return row.active

    assert await becomes("member") is False  # demoted: it cannot post any more
    assert await becomes("administrator") is True
    assert await becomes("left") is False  # removed
    assert await becomes("administrator") is True


@pytest.mark.slow
async def test_a_channels_briefing_is_posted_to_the_channel(
    fake_api: FakeTelegram, database_url: str
) -> None:
    store = seeded_store(database_url)
    fake_api.add_channel(CHANNEL, "newsroom", title="Newsroom", admins={OWNER: "creator"})
    async with running_app(store, fake_api) as application:
        await _link(application, fake_api)
        slugs = " ".join(topic.slug for topic in store.taxonomy.topics)
        await say(application, fake_api, f"/subscribe {slugs}")
        await backlog_settled(store, CHANNEL)  # what the channel missed today: issue 14
        backlogs = [r for r in fake_api.sent(CHAT) if "missed today" in r["plain"]]
        assert backlogs == []  # the backlog went to the channel, not to its admin
        fake_api.clear_log()
        make_due(store, CHANNEL)
        await deliver(application)
        [row] = deliveries(store, CHANNEL)
        assert row.status == log_.SENT and row.messages_sent >= 1
        posted = fake_api.sent(CHANNEL)
        assert len(posted) == row.messages_sent and read_ids(posted)
        assert fake_api.sent(CHAT) == []  # nothing to the private chat that manages it


async def test_instant_alerts_are_set_for_the_managed_channel(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    fake_api.add_channel(CHANNEL, "newsroom", title="Newsroom", admins={OWNER: "creator"})
    await _link(app, fake_api)
    [reply] = await say(app, fake_api, "/alert chips -sports")
    assert "Newsroom" in reply["plain"] and "Alerts on for chips -sports" in reply["plain"]
    with ctx.sessions() as session:
        assert [m.key for m in follow_modes(session, CHANNEL) if m.instant] == ["chips -sports"]
        assert follow_modes(session, CHAT) == []  # not the private chat that manages it
    [listing] = await say(app, fake_api, "/alerts")
    assert "Newsroom" in listing["plain"] and "chips -sports" in listing["plain"]
    fake_api.set_member(CHANNEL, OWNER, "member")  # demoted: refused, nothing changes
    [refused] = await say(app, fake_api, "/alert greenland")
    assert "administrator" in refused["plain"]
    with ctx.sessions() as session:
        assert [m.key for m in follow_modes(session, CHANNEL)] == ["chips -sports"]
