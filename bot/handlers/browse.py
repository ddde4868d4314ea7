"""/topics and /latest [topic], with inline buttons and ◀ ▶ pagination edited in place."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.format import esc
from bot.handlers.common import Buttons, args_text, page_buttons, show
from bot.render import page_text, topics_text
from briefings import browse as service


async def topics(update: Update, context: BotContext) -> None:
    """List topics with counts and trending terms; each topic is a button."""
    ctx = context.app
    overview = await ctx.db(lambda session: service.topics_overview(session, ctx.taxonomy))
    buttons: Buttons = []
    row: list[tuple[str, str]] = []
    for item in overview.topics[:40]:
        row.append((item.label, f"latest:{item.slug}:0"))
        if len(row) == 3:
            buttons.append(row)
            row = []
    buttons.append(row)
    await show(update, context, topics_text(overview), buttons)


async def latest(update: Update, context: BotContext) -> None:
    """Show the newest stories, optionally of one topic: /latest [topic]."""
    ctx = context.app
    topic = None
    wanted = args_text(context)
    if wanted:
        topic = service.find_topic(ctx.taxonomy, wanted)
        if topic is None:
            await show(
                update,
                context,
                f"I don't know the topic “{esc(wanted[:100])}”. "
                "Usage: /latest [topic] — see /topics.",
            )
            return
    await _latest_page(update, context, topic.slug if topic else None, 0)


async def latest_button(update: Update, context: BotContext) -> None:
    """Open a page of latest stories from a button (``latest:<slug|->:<page>``)."""
    assert update.callback_query is not None
    _, slug, page = (update.callback_query.data or "latest:-:0").split(":")
    await _latest_page(update, context, None if slug == "-" else slug, max(int(page), 0))


async def _latest_page(update: Update, context: BotContext, slug: str | None, page: int) -> None:
    ctx = context.app
    result = await ctx.db(lambda session: service.latest(session, topic=slug, page=page))
    topic = ctx.taxonomy.get(slug) if slug else None
    label = topic.label if topic else "all topics"
    if not result.items:
        await show(update, context, f"No stories in {esc(label)} yet.")
        return
    start = page * service.PAGE_SIZE
    header = f"<b>Latest in {esc(label)}</b> (page {page + 1})"
    text = page_text(header, result.items, start=start)
    nav = f"latest:{slug or '-'}:{{page}}"
    ids = [view.id for view in result.items]
    buttons = page_buttons(ids, start=start, page=page, has_next=result.has_next, nav=nav)
    await show(update, context, text, buttons)


HANDLERS = [
    CommandHandler("topics", topics),
    CommandHandler("latest", latest),
    CallbackQueryHandler(topics, pattern=r"^topics$"),
    CallbackQueryHandler(latest_button, pattern=r"^latest:[a-z0-9-]+:\d{1,5}$"),
]
