"""/read_<id> (and the Read buttons): the full cleaned article over several messages."""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.context import app_context
from bot.handlers.common import send
from bot.render import article_messages
from briefings import browse as service
from storage.errors import NotFound

READ_COMMAND = re.compile(r"^/read_(\d{1,12})(?:@\w+)?(?:\s|$)")


async def read_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the full article named by /read_<id>."""
    message = update.effective_message
    match = READ_COMMAND.match(message.text or "") if message else None
    if match is None:
        await send(update, context, "Usage: /read_&lt;id&gt; — the id is shown under each story.")
        return
    await _read(update, context, int(match.group(1)))


async def read_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the full article of a Read button (``read:<id>``)."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _read(update, context, int((update.callback_query.data or "read:0").split(":")[1]))


async def _read(update: Update, context: ContextTypes.DEFAULT_TYPE, article_id: int) -> None:
    ctx = app_context(context)
    try:
        with ctx.sessions() as session:
            view = service.read_article(session, article_id)
    except NotFound:
        await send(update, context, f"There is no article {article_id}. Try /latest or /search.")
        return
    for text in article_messages(view):
        await send(update, context, text)


HANDLERS = [
    MessageHandler(filters.Regex(r"^/read_\d"), read_command),
    CallbackQueryHandler(read_button, pattern=r"^read:\d{1,12}$"),
]
