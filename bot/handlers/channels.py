"""/channel: link a channel you administer and manage its briefings from a private chat.

Linking (``/channel @name``, or forwarding one of the channel's posts) asks Telegram with
``getChatMember`` whether the sender is an administrator of that channel and whether the bot
may post there; nothing the user sends is trusted. After that the private chat *manages* the
channel: the settings commands (/subscribe, /follow, /settime, …) apply to it, each change
checking the sender's role again. ``/channel off`` manages the private chat itself again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session
from telegram import Chat, ChatMember, Message, MessageOriginChannel, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.format import esc
from bot.handlers.common import args_text, show
from storage import chats, routing

log = logging.getLogger(__name__)

ADMINS = (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
USAGE = (
    "Usage: /channel @name — manage a channel you administer from here (add me to it as an "
    "administrator who can post first; forwarding one of its posts works too). "
    "/channel off manages this chat again; /channel shows which one you manage."
)
SETTINGS = "/subscribe, /unsubscribe, /follow, /unfollow, /settime, /timezone and /subscriptions"


@dataclass(frozen=True)
class Target:
    """The chat a settings command applies to: the chat itself, or a channel it manages."""

    chat_id: int
    kind: str
    title: str | None = None
    channel: bool = False  # a channel managed from this private chat

    def note(self) -> str:
        """A first line naming the channel a reply is about ("" for the chat itself)."""
        return f"📢 <b>{esc(self.title or 'your channel')}</b>\n" if self.channel else ""


def _title(chat: Chat) -> str | None:
    return (chat.title or chat.full_name or chat.username or "")[:300] or None


async def admin_problem(
    context: BotContext, channel_id: int, user_id: int, title: str | None, *, bot_too: bool
) -> str | None:
    """Why ``user_id`` may not manage the channel (asked of Telegram), or None if they may."""
    name = f"<b>{esc(title or 'that channel')}</b>"
    try:
        member = await context.bot.get_chat_member(channel_id, user_id)
    except TelegramError as exc:
        log.info("getChatMember(%s, %s) failed: %s", channel_id, user_id, exc)
        return f"I can't check your role in {name} (is it still there, and am I in it?)."
    if member.status not in ADMINS:
        return f"Only an administrator of {name} can link or change it, and you are not one."
    if not bot_too:
        return None
    try:
        me = await context.bot.get_chat_member(channel_id, context.bot.id)
    except TelegramError:
        me = None
    posts = me is not None and getattr(me, "can_post_messages", None) is not False
    if me is None or me.status != ChatMember.ADMINISTRATOR or not posts:
        return f"Make me an administrator of {name} who can post messages, then try again."
    return None


async def target_of(update: Update, context: BotContext) -> Target | None:
    """The chat this settings command applies to; None when refused (the user was told).

    A private chat managing a channel gets the channel, once Telegram confirms the sender
    still administers it; otherwise the pointer is cleared and the sender told why.
    """
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    here = Target(chat.id, chat.type, _title(chat))
    if chat.type != ChatType.PRIVATE or user is None:
        return here
    ctx = context.app

    def managed(session: Session) -> tuple[int, str | None] | None:
        channel = routing.managing(session, chat.id)
        return None if channel is None else (channel.id, channel.title)

    found = await ctx.db(managed)
    if found is None:
        return here
    channel_id, title = found
    problem = await admin_problem(context, channel_id, user.id, title, bot_too=False)
    if problem is None:
        return Target(channel_id, ChatType.CHANNEL, title, channel=True)
    await ctx.db(lambda session: routing.set_managing(session, chat.id, None))
    await show(update, context, f"{problem}\nThis chat manages its own settings again.")
    return None


async def channel(update: Update, context: BotContext) -> None:
    """Link or pick a channel to manage: /channel [@name|off] (no argument: which one)."""
    chat = update.effective_chat
    assert chat is not None
    if chat.type != ChatType.PRIVATE:
        await show(update, context, "Link channels in a private chat with me: /channel @name.")
        return
    wanted = args_text(context)
    ctx = context.app
    if wanted.casefold() == "off":
        await ctx.db(lambda session: routing.set_managing(session, chat.id, None))
        await show(update, context, f"{SETTINGS} apply to this chat again.")
        return
    if wanted:
        name = wanted.removeprefix("https://").removeprefix("t.me/").lstrip("@")  # a t.me link too
        ref: str | int = int(wanted) if wanted.lstrip("-").isdigit() else "@" + name
        await _link(update, context, ref)
        return

    def managed_title(session: Session) -> str | None:
        managed = routing.managing(session, chat.id)
        return None if managed is None else managed.title or str(managed.id)

    title = await ctx.db(managed_title)
    if title is None:
        await show(update, context, f"You manage this chat's own briefings.\n{USAGE}")
    else:
        await show(
            update, context, f"You manage the channel <b>{esc(title)}</b> from here: {SETTINGS} "
            "apply to it. /channel off manages this chat again.",
        )  # fmt: skip


async def forwarded(update: Update, context: BotContext) -> None:
    """Link the channel a forwarded post comes from."""
    message = update.effective_message
    origin = message.forward_origin if message is not None else None
    if isinstance(origin, MessageOriginChannel):
        await _link(update, context, origin.chat.id)


async def _link(update: Update, context: BotContext, ref: str | int) -> None:
    """Check the sender and the bot with Telegram, then manage the channel from here."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    shown = esc(str(ref)[:100])
    try:
        found = await context.bot.get_chat(ref)
    except TelegramError:
        await show(update, context, f"I can't find {shown}. Add me to the channel as an "
                   "administrator first, then try again.")  # fmt: skip
        return
    if found.type != ChatType.CHANNEL:
        await show(update, context, f"{shown} is not a channel. {USAGE}")
        return
    problem = await admin_problem(context, found.id, user.id, found.title, bot_too=True)
    if problem is not None:
        log.info("user %s refused linking channel %s", user.id, found.id)
        await show(update, context, problem)
        return
    ctx = context.app

    def link(session: Session) -> None:
        row = chats.ensure_chat(session, found.id, kind=ChatType.CHANNEL, title=found.title)
        row.active = True
        routing.set_managing(session, chat.id, found.id)

    await ctx.db(link)
    await show(
        update, context, f"Linked the channel <b>{esc(found.title or shown)}</b>: {SETTINGS} "
        "now apply to it, and its briefings are posted there. /channel off manages this chat "
        "again.",
    )  # fmt: skip


class _ChannelPost(filters.MessageFilter):
    """A message forwarded from a channel."""

    def filter(self, message: Message) -> bool:
        return isinstance(message.forward_origin, MessageOriginChannel)


HANDLERS = [
    CommandHandler("channel", channel),
    MessageHandler(filters.ChatType.PRIVATE & _ChannelPost(), forwarded),
]
