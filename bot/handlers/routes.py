"""/route and /unroute: in a forum group, send one news topic's stories to one thread."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.format import esc
from bot.handlers.common import args_text, show
from briefings import subscriptions as subs
from briefings.topics.taxonomy import Topic
from storage import chats, routing

USAGE_ROUTE = (
    "Usage: send <code>/route &lt;topic&gt;</code> in a topic of this group, e.g. "
    "<code>/route ai</code>: stories of that news topic then come to that thread. "
    "/route lists the routes; <code>/unroute &lt;topic&gt;</code> removes one."
)
NOT_A_FORUM = (
    "Routes need a group with topics (a forum). Here the whole briefing comes to this chat."
)


def _labels(topics: list[Topic]) -> str:
    return ", ".join(f"<b>{esc(topic.label)}</b>" for topic in topics)


async def route(update: Update, context: BotContext) -> None:
    """Route news topics to the thread it is sent in: /route <topic…> (no argument: list)."""
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None and message is not None
    if not chat.is_forum:
        await show(update, context, NOT_A_FORUM)
        return
    wanted = args_text(context)
    if not wanted:
        await _list(update, context)
        return
    if not message.is_topic_message or message.message_thread_id is None:
        await show(update, context, "Send /route in the topic that should get the stories.")
        return
    ctx = context.app
    topics, unknown = subs.resolve_topics(ctx.taxonomy, wanted)
    if not topics:
        await show(update, context, f"I don't know “{esc(wanted[:100])}”. {USAGE_ROUTE}")
        return
    thread, now = message.message_thread_id, datetime.now(UTC)

    def set_routes(session: Session) -> set[str]:
        chats.ensure_chat(session, chat.id, kind=chat.type, title=chat.title)
        for topic in topics:
            routing.set_route(session, chat.id, topic.slug, thread, now)
        return subs.subscribed_slugs(session, chat.id)

    subscribed = await ctx.db(set_routes)
    lines = [f"Stories about {_labels(topics)} in this group's briefings now come to this topic."]
    missing = [topic for topic in topics if subscribed and topic.slug not in subscribed]
    if missing:
        slugs = " ".join(topic.slug for topic in missing)
        lines.append(f"The group is not subscribed to {_labels(missing)}: /subscribe {slugs}")
    if unknown:
        lines.append(f"Unknown topics: {esc(', '.join(unknown)[:300])} (see /topics).")
    lines.append("/route lists the routes.")
    await show(update, context, "\n".join(lines))


async def _list(update: Update, context: BotContext) -> None:
    chat = update.effective_chat
    assert chat is not None
    ctx = context.app

    def read(session: Session) -> tuple[list[tuple[str, int, bool, str | None]], int | None]:
        found = routing.routes(session, chat.id)
        rows = [(r.topic_slug, r.thread_id, r.active, r.error) for r in found]
        return rows, routing.routing(session, chat.id).default_thread

    rows, thread = await ctx.db(read)
    default = "the General topic" if thread is None else f"topic #{thread}"
    lines = [f"<b>Routes</b> (the rest of the briefing goes to {default})"]
    for slug, thread, active, error in rows:
        topic = ctx.taxonomy.get(slug)
        label = esc(topic.label if topic else slug)
        state = "" if active else f" — off: {esc((error or 'refused')[:100])}"
        lines.append(f"• <b>{label}</b> → topic #{thread}{state}")
    if not rows:
        lines.append("None yet.")
    lines.append(USAGE_ROUTE)
    await show(update, context, "\n".join(lines))


async def unroute(update: Update, context: BotContext) -> None:
    """Stop routing news topics to their threads: /unroute <topic…|all>."""
    chat = update.effective_chat
    assert chat is not None
    if not chat.is_forum:
        await show(update, context, NOT_A_FORUM)
        return
    wanted = args_text(context)
    if not wanted:
        await show(update, context, USAGE_ROUTE)
        return
    ctx = context.app

    def remove(session: Session) -> list[str]:
        if wanted.casefold() == "all":
            slugs = [row.topic_slug for row in routing.routes(session, chat.id)]
        else:
            topics, _ = subs.resolve_topics(ctx.taxonomy, wanted)
            slugs = [topic.slug for topic in topics]
        return [slug for slug in slugs if routing.remove_route(session, chat.id, slug)]

    removed = await ctx.db(remove)
    if removed:
        count = len(removed)
        await show(update, context, f"Removed {count} route{'s' if count != 1 else ''}: those "
                   "stories come with the rest of the briefing again.")  # fmt: skip
    else:
        await show(update, context, "No such route. /route lists them.")


HANDLERS = [CommandHandler("route", route), CommandHandler("unroute", unroute)]
