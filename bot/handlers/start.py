"""/start (with deep links) and /help."""

from __future__ import annotations

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.format import esc
from bot.handlers import alerts
from bot.handlers.admin import MENU as ADMIN_MENU
from bot.handlers.common import send
from bot.handlers.gate import is_admin
from storage import chats

USER_COMMANDS: list[tuple[str, str]] = [
    ("topics", "Topics with counts and trending terms"),
    ("latest", "Newest stories: /latest [topic]"),
    ("search", "Search articles: /search <words>"),
    ("brief", "Today's briefing for this chat"),
    ("subscribe", "Pick topics for your daily briefing"),
    ("subscriptions", "What you receive, and when"),
    ("follow", "Follow keywords: /follow <words> [-word]"),
    ("alert", "Instant alerts: /alert <words> [-word]"),
    ("alerts", "Your follows: switch instant or daily"),
    ("settime", "Briefing time: /settime HH:MM"),
    ("timezone", "Your time zone: /timezone Area/City"),
    ("channel", "Manage a channel you administer: /channel @name"),
    ("route", "In a forum topic: /route <topic> sends its stories here"),
    ("help", "How to use this bot"),
]

HELP = """<b>briefbot</b> serves short briefings of the news it has ingested.

/topics — topics with today's and this week's counts, and what is trending
/latest [topic] — the newest stories, 5 per page
/search &lt;words&gt; — full-text search; filters <code>topic:ai</code>,
<code>source:reuters</code>, <code>since:2d</code> (or today, yesterday, 2026-11-30)
/read_&lt;id&gt; — the full article (each entry shows its command)
/brief — today's briefing of your topics and follows

/subscribe [topic…] — pick topics (no argument: tap to toggle); /unsubscribe [topic…|all]
/follow &lt;words&gt; — follow keywords, <code>-word</code> excludes; /unfollow [words|all]
/alert &lt;words&gt; (or /follow --now) — instant alerts as stories arrive; /alerts switches
/settime HH:MM, /timezone Area/City — when your daily briefing comes
/subscriptions — your topics, follows, time and time zone
/channel @name — manage a channel you administer from here (/channel off: this chat again)
/route &lt;topic&gt; — in a group with topics: that topic's stories come to this thread;
/route lists routes, /unroute &lt;topic&gt; removes one
/help — this message

Any plain text you send in a private chat is searched."""


async def start(update: Update, context: BotContext) -> None:
    """Welcome the user; ``/start topic_<slug>`` subscribes straight to a topic."""
    ctx = context.app
    chat = update.effective_chat
    payload = (context.args or [""])[0]
    note, new = "", None
    if chat is not None and payload.startswith("topic_"):
        slug = payload.removeprefix("topic_").replace("_", "-")
        topic = ctx.taxonomy.get(slug)
        if topic is None:
            note = f"\n\nThere is no topic “{esc(slug)}”; see /topics."
        else:
            chat_id, kind, slug = chat.id, chat.type, topic.slug

            def subscribe(session: Session) -> bool:
                chats.ensure_chat(session, chat_id, kind=kind)
                return chats.add_subscription(session, chat_id, chats.TOPIC, slug)

            if await ctx.db(subscribe):
                new = topic.slug
            note = f"\n\nYou are subscribed to <b>{esc(topic.label)}</b>."
    await send(
        update,
        context,
        "Hello! I turn the news I have read into short briefings.\n"
        "Try /topics, /latest or /search &lt;words&gt;." + note,
        [[("Topics", "topics"), ("Latest", "latest:-:0")], [("Help", "help")]],
    )
    if new is not None:  # what the new subscription missed today (issue 14)
        await alerts.queue_backlog(update, context, topics=[new])


async def help_command(update: Update, context: BotContext) -> None:
    """Explain the commands."""
    if update.callback_query:
        await update.callback_query.answer()
    text = HELP
    if is_admin(update, context):  # only admins see the commands only they may use
        text += "\n\n<b>Admin</b>\n" + "\n".join(
            f"/{name} — {esc(about.removeprefix('Admin: '))}" for name, about in ADMIN_MENU
        )
    await send(update, context, text)


HANDLERS = [CommandHandler("start", start), CommandHandler("help", help_command)]
