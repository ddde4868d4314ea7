"""/subscribe, /unsubscribe, /subscriptions, /settime, /timezone, /follow and /unfollow.

Each applies to the chat it is sent in, or to the channel that private chat manages
(bot/handlers/channels.py). In a forum group, subscribing in a topic makes that topic the
group's delivery thread (in General: the General topic).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import AppContext, BotContext
from bot.format import esc, fit_callback
from bot.handlers import alerts
from bot.handlers.channels import Target, target_of
from bot.handlers.common import Buttons, args_text, show
from briefings import subscriptions as subs
from briefings.errors import InvalidSetting
from briefings.topics.taxonomy import Topic
from storage import chats, routing

MAX_TOPIC_BUTTONS = 98  # Telegram allows 100 buttons; two go to "Done"/"Settings"
USAGE_SUBSCRIBE = (
    "Usage: /subscribe [topic…] — e.g. <code>/subscribe ai, china</code>; see /topics."
)
USAGE_UNSUBSCRIBE = "Usage: /unsubscribe [topic…|all]"
USAGE_SETTIME = (
    "Usage: /settime HH:MM — your local time for the daily briefing, e.g. /settime 07:30"
)
USAGE_TIMEZONE = "Usage: /timezone Area/City — e.g. <code>/timezone Europe/Berlin</code>"
USAGE_FOLLOW = (
    "Usage: /follow &lt;keywords&gt; — stories with all these words; <code>-word</code> "
    "excludes one. E.g. <code>/follow chips tariffs -sports</code>"
)
USAGE_UNFOLLOW = "Usage: /unfollow [keywords|all]"
T = TypeVar("T")


async def _in_chat(ctx: AppContext, target: Target, work: Callable[[Session, int], T]) -> T:
    """``work(session, chat_id)`` in a transaction with the target chat's row in place
    (created on first contact), off the event loop."""

    def run(session: Session) -> T:
        chats.ensure_chat(session, target.chat_id, kind=target.kind, title=target.title)
        return work(session, target.chat_id)

    return await ctx.db(run)


def _asked_here(update: Update, session: Session, chat_id: int) -> None:
    """In a forum group, the topic a subscription was asked in becomes its delivery thread."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or not chat.is_forum or message is None or chat.id != chat_id:
        return
    routing.set_default_thread(
        session, chat_id, message.message_thread_id if message.is_topic_message else None
    )


def _labels(topics: list[Topic]) -> str:
    return ", ".join(f"<b>{esc(topic.label)}</b>" for topic in topics)


def _toggle_keyboard(ctx: AppContext, subscribed: set[str]) -> Buttons:
    buttons: Buttons = []
    row: list[tuple[str, str]] = []
    for topic in ctx.taxonomy.topics[:MAX_TOPIC_BUTTONS]:
        data = f"sub:{topic.slug}"
        if len(data.encode()) > 64:  # unreachable by button; /subscribe <slug> still works
            continue
        mark = "✅ " if topic.slug in subscribed else ""
        row.append((f"{mark}{topic.label}"[:60], fit_callback(data)))
        if len(row) == 2:
            buttons.append(row)
            row = []
    buttons.append(row)
    buttons.append([("Done", "sub:-done")])
    return buttons


async def _show_toggles(update: Update, context: BotContext, target: Target) -> None:
    ctx = context.app
    subscribed = await _in_chat(ctx, target, subs.subscribed_slugs)
    text = target.note() + (
        "<b>Your topics</b>\nTap a topic to subscribe or unsubscribe (✅ = subscribed). "
        "Your daily briefing covers these topics."
    )
    await show(update, context, text, _toggle_keyboard(ctx, subscribed))


async def subscribe(update: Update, context: BotContext) -> None:
    """Subscribe to topics: /subscribe [topic…] (no argument: a keyboard to toggle)."""
    ctx = context.app
    if (target := await target_of(update, context)) is None:
        return
    wanted = args_text(context)
    if not wanted:
        await _show_toggles(update, context, target)
        return
    topics, unknown = subs.resolve_topics(ctx.taxonomy, wanted)
    if not topics:
        await show(update, context, f"I don't know “{esc(wanted[:100])}”. {USAGE_SUBSCRIBE}")
        return

    def add(session: Session, chat_id: int) -> tuple[list[Topic], list[Topic]]:
        done = subs.subscribe(session, chat_id, topics)
        _asked_here(update, session, chat_id)
        return done

    added, already = await _in_chat(ctx, target, add)
    lines = [target.note().rstrip()] if target.channel else []
    if added:
        lines.append(f"Subscribed to {_labels(added)}.")
    if already:
        lines.append(f"Already subscribed to {_labels(already)}.")
    if unknown:
        lines.append(f"Unknown topics: {esc(', '.join(unknown)[:300])} (see /topics).")
    lines.append("See /subscriptions for everything you receive.")
    await show(update, context, "\n".join(lines))
    await alerts.queue_backlog(
        update, context, topics=[topic.slug for topic in added], chat_id=target.chat_id
    )


async def unsubscribe(update: Update, context: BotContext) -> None:
    """Unsubscribe from topics: /unsubscribe [topic…|all] (no argument: the keyboard)."""
    ctx = context.app
    if (target := await target_of(update, context)) is None:
        return
    wanted = args_text(context)
    if not wanted:
        await _show_toggles(update, context, target)
        return
    if wanted.casefold() == "all":

        def remove_all(session: Session, chat_id: int) -> tuple[int, int]:
            removed, _ = subs.unsubscribe(session, chat_id, None)
            return removed, len(chats.subscriptions(session, chat_id, chats.FOLLOW))

        removed, follows = await _in_chat(ctx, target, remove_all)
        text = target.note() + f"Unsubscribed from {removed} topic{'s' if removed != 1 else ''}."
        if follows:
            text += " Your keyword follows stay: /unfollow all removes them."
        await show(update, context, text)
        return
    topics, unknown = subs.resolve_topics(ctx.taxonomy, wanted)
    if not topics:
        await show(update, context, f"I don't know “{esc(wanted[:100])}”. {USAGE_UNSUBSCRIBE}")
        return
    _, absent = await _in_chat(
        ctx, target, lambda session, chat_id: subs.unsubscribe(session, chat_id, topics)
    )
    removed_topics = [topic for topic in topics if topic not in absent]
    lines = [target.note().rstrip()] if target.channel else []
    if removed_topics:
        lines.append(f"Unsubscribed from {_labels(removed_topics)}.")
    if absent:
        lines.append(f"You were not subscribed to {_labels(absent)}.")
    if unknown:
        lines.append(f"Unknown topics: {esc(', '.join(unknown)[:300])} (see /topics).")
    await show(update, context, "\n".join(lines))


async def toggle_button(update: Update, context: BotContext) -> None:
    """Toggle a topic from the /subscribe keyboard (``sub:<slug>``; ``sub:-done`` closes)."""
    assert update.callback_query is not None
    ctx = context.app
    slug = (update.callback_query.data or "sub:").split(":", 1)[1]
    if (target := await target_of(update, context)) is None:
        return
    if slug == "-done":
        await _show_preferences(update, context, target)
        return
    if ctx.taxonomy.get(slug) is None:
        await update.callback_query.answer("That topic no longer exists.")
        return

    def toggle(session: Session, chat_id: int) -> bool:
        added = subs.toggle_topic(session, chat_id, slug)
        _asked_here(update, session, chat_id)
        return added

    added = await _in_chat(ctx, target, toggle)
    await _show_toggles(update, context, target)
    if added:
        await alerts.queue_backlog(update, context, topics=[slug], chat_id=target.chat_id)


async def subscriptions(update: Update, context: BotContext) -> None:
    """Show this chat's topics, keyword follows, briefing time and time zone."""
    if (target := await target_of(update, context)) is not None:
        await _show_preferences(update, context, target)


async def _show_preferences(update: Update, context: BotContext, target: Target) -> None:
    ctx = context.app
    prefs = await _in_chat(
        ctx,
        target,
        lambda session, chat_id: subs.preferences(
            session,
            ctx.taxonomy,
            chat_id,
            default_time=ctx.settings.default_briefing_time,
            default_timezone=ctx.settings.default_timezone,
        ),
    )
    lines = [target.note() + "<b>Your subscriptions</b>"]
    if prefs.topics:
        lines.append("Topics: " + _labels(prefs.topics))
    else:
        lines.append("Topics: none yet — /subscribe to pick some.")
    if prefs.follows:
        lines.append("Following:")
        lines += [f"• <code>{esc(key)}</code>" for _, key in prefs.follows]
    else:
        lines.append("Keyword follows: none — e.g. <code>/follow chips -sports</code>.")
    default = " (default)"
    lines.append(
        f"Daily briefing at <b>{esc(prefs.briefing_time)}</b>"
        f"{default if prefs.time_is_default else ''} (/settime), time zone "
        f"<b>{esc(prefs.timezone)}</b>{default if prefs.timezone_is_default else ''} (/timezone)."
    )
    await show(update, context, "\n".join(lines), [[("Change topics", "sub:-menu")]])


async def menu_button(update: Update, context: BotContext) -> None:
    """Open the topic keyboard from the /subscriptions message."""
    if (target := await target_of(update, context)) is not None:
        await _show_toggles(update, context, target)


async def _set(
    update: Update,
    context: BotContext,
    setter: Callable[[Session, int, str], str],
    usage: str,
    *,
    shown: int,
    glue: str,
) -> tuple[Target, str] | None:
    """Apply one chat setting from the command's text: (where, the value set), None: answered."""
    ctx = context.app
    wanted = args_text(context)
    if not wanted:
        await show(update, context, usage)
        return None
    if (target := await target_of(update, context)) is None:
        return None
    try:
        value = await _in_chat(
            ctx, target, lambda session, chat_id: setter(session, chat_id, wanted)
        )
        return target, value
    except InvalidSetting as exc:
        await show(update, context, f"“{esc(wanted[:shown])}”: {esc(str(exc))}{glue}{usage}")
        return None


async def settime(update: Update, context: BotContext) -> None:
    """Set the local time of the daily briefing: /settime HH:MM."""
    done = await _set(update, context, subs.set_briefing_time, USAGE_SETTIME, shown=40, glue=". ")
    if done is not None:
        target, value = done
        await show(
            update,
            context,
            f"{target.note()}Your daily briefing will come at <b>{value}</b> your time "
            "(/timezone sets it; /subscriptions shows everything).",
        )


async def timezone(update: Update, context: BotContext) -> None:
    """Set this chat's time zone: /timezone Area/City."""
    done = await _set(update, context, subs.set_timezone, USAGE_TIMEZONE, shown=60, glue="\n")
    if done is not None:
        target, name = done
        await show(update, context, f"{target.note()}Time zone set to <b>{esc(name)}</b>.")


async def follow(update: Update, context: BotContext) -> None:
    """Follow stories with keywords: /follow <words> [-excluded]."""
    ctx = context.app
    wanted = args_text(context)
    if not wanted:
        await show(update, context, USAGE_FOLLOW)
        return
    flag, _, rest = wanted.partition(" ")
    if flag in ("--now", "--instant"):  # instant alerts, for this chat: bot/handlers/alerts.py
        await alerts.alert(update, context, rest)
        return
    if (target := await target_of(update, context)) is None:
        return
    try:

        def add(session: Session, chat_id: int) -> tuple[subs.FollowQuery, bool]:
            done = subs.follow(session, chat_id, wanted)
            _asked_here(update, session, chat_id)
            return done

        query, new = await _in_chat(ctx, target, add)
    except InvalidSetting as exc:
        await show(update, context, f"{esc(str(exc)).capitalize()}.\n{USAGE_FOLLOW}")
        return
    key, note = f"<code>{esc(query.key)}</code>", target.note()
    if new:
        text = f"{note}Following {key}. Matching stories come with your briefing."
        await show(update, context, text)
        await alerts.queue_backlog(update, context, follows=[query.key], chat_id=target.chat_id)
    else:
        await show(update, context, f"{note}You already follow {key}.")


async def unfollow(update: Update, context: BotContext) -> None:
    """Stop following keywords: /unfollow [keywords|all] (no argument: buttons)."""
    ctx = context.app
    if (target := await target_of(update, context)) is None:
        return
    wanted = args_text(context)
    if not wanted:
        follows = await _in_chat(
            ctx,
            target,
            lambda session, chat_id: [
                (s.id, s.key) for s in chats.subscriptions(session, chat_id, chats.FOLLOW)
            ],
        )
        if not follows:
            await show(update, context, "You follow no keywords. " + USAGE_FOLLOW)
            return
        buttons: Buttons = [[(f"✖ {key}"[:60], f"unfollow:{id_}")] for id_, key in follows]
        await show(update, context, "Tap a follow to remove it. " + USAGE_UNFOLLOW, buttons)
        return
    which = None if wanted.casefold() == "all" else wanted
    removed = await _in_chat(
        ctx, target, lambda session, chat_id: subs.unfollow(session, chat_id, which)
    )
    if removed:
        await show(update, context, f"Removed {removed} follow{'s' if removed != 1 else ''}.")
    else:
        await show(update, context, "You don't follow that. See /subscriptions.")


async def unfollow_button(update: Update, context: BotContext) -> None:
    """Remove the follow of an /unfollow button (``unfollow:<id>``)."""
    assert update.callback_query is not None
    ctx = context.app
    follow_id = int((update.callback_query.data or "unfollow:0").split(":")[1])
    if (target := await target_of(update, context)) is None:
        return
    key = await _in_chat(
        ctx, target, lambda session, chat_id: subs.unfollow_id(session, chat_id, follow_id)
    )
    if key is None:
        await show(update, context, "That follow was already removed. See /subscriptions.")
    else:
        await show(update, context, f"Stopped following <code>{esc(key)}</code>.")


HANDLERS = [
    CommandHandler("subscribe", subscribe),
    CommandHandler("unsubscribe", unsubscribe),
    CommandHandler("subscriptions", subscriptions),
    CommandHandler("settime", settime),
    CommandHandler("timezone", timezone),
    CommandHandler("follow", follow),
    CommandHandler("unfollow", unfollow),
    CallbackQueryHandler(menu_button, pattern=r"^sub:-menu$"),
    CallbackQueryHandler(toggle_button, pattern=r"^sub:(?:[a-z0-9-]{1,60}|-done)$"),
    CallbackQueryHandler(unfollow_button, pattern=r"^unfollow:\d{1,12}$"),
]
