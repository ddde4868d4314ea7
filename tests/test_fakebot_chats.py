"""The fake Bot API's channels, forum threads, chat members and group limit, driven by PTB."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fakebot import FakeTelegram
from telegram import (
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter

from bot.sendgate import GROUP_SPACING, SendGate, chat_spacing, retry_seconds

CHANNEL, FORUM, GROUP = -1004000, -1004001, -4002


async def test_twenty_messages_a_minute_per_group_and_channel(
    fake_api: FakeTelegram, fake_app: Any
) -> None:
    bot = fake_app.bot
    fake_api.add_channel(CHANNEL, "newsroom")
    for chat in (GROUP, CHANNEL):
        for _ in range(20):
            await bot.send_message(chat, "hello")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(chat, "one too many")
        assert 55 <= retry_seconds(caught.value) <= 60
    await bot.send_message(GROUP - 1, "another group has its own minute")
    for _ in range(25):  # private chats are not limited per minute
        await bot.send_message(4242, "hi")


async def test_the_group_limit_can_be_turned_off(fake_api: FakeTelegram, fake_app: Any) -> None:
    fake_api.set_group_limit(None)
    for _ in range(25):
        await fake_app.bot.send_message(GROUP, "hello")
    fake_api.set_group_limit(2, window=60)
    await fake_app.bot.send_message(GROUP, "1")
    await fake_app.bot.send_message(GROUP, "2")
    with pytest.raises(RetryAfter):
        await fake_app.bot.send_message(GROUP, "3")


async def test_forum_threads_record_ids_and_refuse_closed_or_deleted_ones(
    fake_api: FakeTelegram, fake_app: Any
) -> None:
    fake_api.make_forum(FORUM)
    a, b = fake_api.create_topic(FORUM, "A"), fake_api.create_topic(FORUM, "B")
    sent = await fake_app.bot.send_message(FORUM, "in A", message_thread_id=a)
    assert (sent.message_thread_id, sent.is_topic_message) == (a, True)
    await fake_app.bot.send_message(FORUM, "in General")
    assert [(r["message_thread_id"], r["plain"]) for r in fake_api.sent(FORUM)] == [
        (a, "in A"),
        (None, "in General"),
    ]
    fake_api.close_topic(FORUM, a)
    with pytest.raises(BadRequest, match=r"(?i)topic_closed"):
        await fake_app.bot.send_message(FORUM, "closed", message_thread_id=a)
    fake_api.reopen_topic(FORUM, a)
    await fake_app.bot.send_message(FORUM, "open again", message_thread_id=a)
    fake_api.delete_topic(FORUM, b)
    for thread in (b, 999):  # deleted, and never existed
        with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
            await fake_app.bot.send_message(FORUM, "gone", message_thread_id=thread)
    update = fake_api.send_text(FORUM, "/route ai", thread_id=a, deliver=False)
    message = Update.de_json(update, fake_app.bot).message
    assert message is not None and message.is_topic_message and message.message_thread_id == a
    assert message.chat.is_forum


async def test_channels_by_username_roles_and_posting_rights(
    fake_api: FakeTelegram, fake_app: Any
) -> None:
    bot = fake_app.bot
    fake_api.add_channel(
        CHANNEL, "@newsroom", title="Newsroom", admins={1: "creator", 2: "administrator"}
    )
    chat = await bot.get_chat("@newsroom")
    assert (chat.id, chat.type, chat.title, chat.username) == (
        CHANNEL,
        "channel",
        "Newsroom",
        "newsroom",
    )
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.get_chat("@nobody")
    assert isinstance(await bot.get_chat_member(CHANNEL, 1), ChatMemberOwner)
    admin = await bot.get_chat_member("@newsroom", 2)
    assert isinstance(admin, ChatMemberAdministrator) and admin.can_post_messages
    assert isinstance(await bot.get_chat_member(CHANNEL, 3), ChatMemberLeft)  # never joined
    fake_api.set_member(CHANNEL, 3, "member")
    assert isinstance(await bot.get_chat_member(CHANNEL, 3), ChatMemberMember)
    me = await bot.get_chat_member(CHANNEL, bot.id)
    assert isinstance(me, ChatMemberAdministrator)
    await bot.send_message(CHANNEL, "a post")
    fake_api.set_member(CHANNEL, bot.id, "member")  # demoted
    with pytest.raises(BadRequest, match=r"(?i)need administrator rights"):
        await bot.send_message(CHANNEL, "not allowed")
    fake_api.bot_membership(CHANNEL, "left", deliver=False)  # removed
    with pytest.raises(Forbidden):
        await bot.send_message(CHANNEL, "not a member")
    update = Update.de_json(fake_api.bot_membership(CHANNEL, "administrator"), bot)
    assert update.my_chat_member is not None
    assert isinstance(update.my_chat_member.new_chat_member, ChatMemberAdministrator)
    assert update.my_chat_member.old_chat_member.status == "left"
    await bot.send_message(CHANNEL, "back")


async def test_forwarded_channel_posts_carry_their_origin(
    fake_api: FakeTelegram, fake_app: Any
) -> None:
    fake_api.add_channel(CHANNEL, "newsroom")
    update = Update.de_json(
        fake_api.forward_channel_post(4242, CHANNEL, deliver=False), fake_app.bot
    )
    assert update.message is not None and update.message.forward_origin is not None
    assert update.message.forward_origin.chat.id == CHANNEL  # type: ignore[attr-defined]


def _most_in_a_minute(arrivals: list[float]) -> int:
    return max(sum(1 for t in arrivals if start <= t < start + 60.0) for start in arrivals)


@pytest.mark.parametrize("chat", [CHANNEL, FORUM, GROUP])
def test_group_spacing_stays_under_twenty_a_minute_even_with_latency(chat: int) -> None:
    """The gate's turns for a group or channel, each reaching the server up to 0.15 s late."""
    assert chat_spacing(chat) == GROUP_SPACING > 3.0
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    async def turns(spacing: float) -> list[float]:
        gate = SendGate(30.0, clock=lambda: clock[0], sleep=sleep)
        out = []
        for _ in range(45):
            await gate.wait(chat, spacing)
            gate.done()
            out.append(clock[0])
        return out

    # the worst case: the first message of a minute is slow, the rest are not
    for spacing, most in ((chat_spacing(chat), 19), (3.0, 21)):
        clock[0] = 0.0
        at = asyncio.run(turns(spacing))
        arrivals = [t + (0.15 if i % 19 == 0 else 0.0) for i, t in enumerate(at)]
        assert _most_in_a_minute(arrivals) == most  # 3 s apart could tip the window over
