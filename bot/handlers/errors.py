"""The last-resort error handler and the reply to unknown commands."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import MessageHandler, filters

from bot.context import BotContext
from bot.format import cut_html, esc
from bot.handlers.common import send

log = logging.getLogger(__name__)


async def error_handler(update: object, context: BotContext) -> None:
    """Log the exception, apologise to the user, and alert the admins."""
    error = context.error
    # BadRequest subclasses NetworkError but means we sent something Telegram rejects: a bug
    if isinstance(error, (NetworkError, RetryAfter, Forbidden)) and not isinstance(
        error, BadRequest
    ):
        log.warning("telegram error: %s", error)
        return
    log.error("unhandled error while handling an update", exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await send(update, context, "Sorry, something went wrong. The admins have been told.")
        except Exception:
            log.warning("could not apologise to chat %s", update.effective_chat.id)
    text = f"⚠️ briefbot error: <code>{cut_html(esc(repr(error)), 3000)}</code>"
    for admin in context.app.settings.admin_ids:
        try:
            await context.bot.send_message(admin, text, parse_mode=ParseMode.HTML)
        except Exception:
            log.warning("could not alert admin %s", admin)


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command we don't know with a pointer to /help."""
    await send(update, context, "I don't know that command. Send /help to see what I can do.")


# in groups, only commands addressed to us (/cmd@thisbot): others may be for other bots;
# the gate (bot/handlers/gate.py) has already dropped those addressed to another bot
UNKNOWN = MessageHandler(
    filters.COMMAND & (filters.ChatType.PRIVATE | filters.Regex(r"^/\w+@\w+")), unknown_command
)
