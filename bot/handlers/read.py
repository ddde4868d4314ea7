"""/read_<id> (and the Read buttons): the full cleaned article.

A short article comes as up to :data:`SEND_WHOLE` messages; a longer one as one message
per page, turned with ◀ ▶ buttons (``article:<id>:<page>``) that edit it in place.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.handlers.common import page_buttons, send, show
from bot.render import article_page, article_pages
from briefings import browse as service
from storage.errors import NotFound

READ_COMMAND = re.compile(r"^/read_(\d{1,12})(?:@\w+)?(?:\s|$)")
SEND_WHOLE = 3  # messages: longer articles are paged


async def read_command(update: Update, context: BotContext) -> None:
    """Send the full article named by /read_<id>."""
    message = update.effective_message
    match = READ_COMMAND.match(message.text or "") if message else None
    if match is None:
        await send(update, context, "Usage: /read_&lt;id&gt; — the id is shown under each story.")
        return
    await _read(update, context, int(match.group(1)))


async def read_button(update: Update, context: BotContext) -> None:
    """Send the full article of a Read button (``read:<id>``)."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    await _read(update, context, int((update.callback_query.data or "read:0").split(":")[1]))


async def page_button(update: Update, context: BotContext) -> None:
    """Turn a long article's page (``article:<id>:<page>``), editing the message in place."""
    assert update.callback_query is not None
    _, article_id, page = (update.callback_query.data or "article:0:0").split(":")
    await _read(update, context, int(article_id), int(page))


async def _read(
    update: Update, context: BotContext, article_id: int, page: int | None = None
) -> None:
    ctx = context.app
    try:  # a megabyte of text takes a moment to split: not on the event loop
        pages = await ctx.db(
            lambda session: article_pages(service.read_article(session, article_id))
        )
    except NotFound:
        reply = send if page is None else show
        await reply(update, context, f"There is no article {article_id}. Try /latest or /search.")
        return
    if page is None and len(pages) <= SEND_WHOLE:
        for text in pages:
            await send(update, context, text)
        return
    shown = min(page or 0, len(pages) - 1)
    nav = f"article:{article_id}:{{page}}"
    buttons = page_buttons([], start=0, page=shown, has_next=shown + 1 < len(pages), nav=nav)
    text = article_page(pages, shown)
    if page is None:  # a new message, also from a Read button under a list
        await send(update, context, text, buttons)
    else:
        await show(update, context, text, buttons)


HANDLERS = [
    MessageHandler(filters.Regex(r"^/read_\d"), read_command),
    CallbackQueryHandler(read_button, pattern=r"^read:\d{1,12}$"),
    CallbackQueryHandler(page_button, pattern=r"^article:\d{1,12}:\d{1,6}$"),
]
