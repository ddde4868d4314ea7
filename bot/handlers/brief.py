"""/brief: today's briefing for this chat, composed from its subscriptions and stored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.digest import brief_messages
from bot.handlers.common import send, typing
from storage import chats


async def brief(update: Update, context: BotContext) -> None:
    """Send today's briefing (shown again if already composed today, else composed now)."""
    ctx = context.app
    chat = update.effective_chat
    if chat is None:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    await typing(update, context)
    now = datetime.now(UTC)

    def compose(session: Session) -> list[str]:
        chats.ensure_chat(session, chat.id, kind=chat.type)
        return brief_messages(
            session,
            chat_id=chat.id,
            taxonomy=ctx.taxonomy,
            now=now,
            default_timezone=ctx.settings.default_timezone,
        )

    messages = await ctx.db(compose)
    for text in messages:
        await send(update, context, text)


HANDLERS = [
    CommandHandler("brief", brief),
    CallbackQueryHandler(brief, pattern=r"^brief$"),
]
