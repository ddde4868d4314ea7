"""/search <query> and plain text as a search, with paginated ranked results."""

from __future__ import annotations

import hashlib

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.format import esc
from bot.handlers.common import args_text, page_buttons, show, typing
from bot.render import page_text
from briefings import browse as service
from briefings.errors import BadQuery

MAX_QUERY = 500
USAGE = (
    "Usage: /search &lt;words&gt; [topic:x] [source:y] [since:2d|today|yesterday|2026-11-30]"
    " — e.g. <code>/search DeepSeek</code>, <code>/search tariffs since:2d</code>, "
    "<code>/search chips topic:china</code>"
)


async def search(update: Update, context: BotContext) -> None:
    """Search the archive: /search <words> [topic:x] [source:y] [since:2d]."""
    query = args_text(context)
    if not query:
        await show(update, context, USAGE)
        return
    await _results(update, context, query[:MAX_QUERY], 0)


async def plain_text(update: Update, context: BotContext) -> None:
    """Treat plain text in a private chat as a search."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await _results(update, context, message.text[:MAX_QUERY], 0)


async def search_button(update: Update, context: BotContext) -> None:
    """Show another page of a search (``search:<page>:<key>``)."""
    assert update.callback_query is not None
    _, page, key = (update.callback_query.data or "search:0:").split(":", 2)
    query = context.app.saved_searches.get(key)
    if query is None:
        await update.callback_query.answer("That search has expired: please send it again.")
        return
    await _results(update, context, query, int(page))


def _remember(context: BotContext, query: str) -> str:
    key = hashlib.sha256(query.encode()).hexdigest()[:16]
    saved = context.app.saved_searches
    if len(saved) > 10_000:
        saved.clear()
    saved[key] = query
    return key


async def _results(update: Update, context: BotContext, query: str, page: int) -> None:
    ctx = context.app
    if update.callback_query is None:
        await typing(update, context)
    try:
        result = await ctx.db(
            lambda session: service.search(
                session,
                query,
                page=page,
                taxonomy=ctx.taxonomy,
                timezone=ctx.settings.default_timezone,
            )
        )
    except BadQuery as exc:
        await show(update, context, f"{esc(str(exc))}\n\n{USAGE}")
        return
    shown = esc(query if len(query) <= 60 else query[:59] + "…")
    if not result.items:
        text = f"Nothing found for “{shown}”." if page == 0 else "No more results."
        await show(update, context, text + " Try fewer or other words, or /topics.")
        return
    start = page * service.PAGE_SIZE
    header = f"<b>Results for “{shown}”</b> (page {page + 1})"
    text = page_text(header, result.items, start=start, snippet=True)
    nav = f"search:{{page}}:{_remember(context, query)}"
    ids = [view.id for view in result.items]
    buttons = page_buttons(ids, start=start, page=page, has_next=result.has_next, nav=nav)
    await show(update, context, text, buttons)


HANDLERS = [
    CommandHandler("search", search),
    CallbackQueryHandler(search_button, pattern=r"^search:\d{1,4}:[0-9a-f]{16}$"),
    MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, plain_text),
]
