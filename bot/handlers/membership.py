"""The bot's own membership: blocked or removed → deliveries stop; back → they resume.

In a channel the bot must be an administrator who can post: demoted counts as removed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ChatMemberHandler

from bot.context import BotContext
from storage import chat_state, chats

GONE = {ChatMember.BANNED, ChatMember.LEFT}  # "kicked" (blocked in private chats), "left"


async def on_my_chat_member(update: Update, context: BotContext) -> None:
    """Deactivate a chat's deliveries when the bot is blocked or removed; reactivate on return."""
    change = update.my_chat_member
    if change is None:
        return
    new = change.new_chat_member
    member = new.status not in GONE and getattr(new, "is_member", True) is not False
    chat = change.chat
    if chat.type == ChatType.CHANNEL:  # a channel gets briefings only while we may post
        posts = getattr(new, "can_post_messages", None) is not False
        member = new.status == ChatMember.ADMINISTRATOR and posts
    ctx = context.app

    def record(session: Session) -> None:
        if member:
            row = chats.ensure_chat(session, chat.id, kind=chat.type, title=chat.title)
            row.active = True
        else:
            chat_state.set_chat_active(session, chat.id, False)

    await ctx.db(record)


HANDLERS = [ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)]
