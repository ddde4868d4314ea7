"""/alert, /alerts and their buttons; the backlog a new subscription gets at once."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.alerts import MORE_PREFIX, send_alerts
from bot.context import BotContext
from bot.format import esc
from bot.handlers.channels import Target, target_of
from bot.handlers.common import Buttons, args_text, send, show
from bot.render import alert_more_messages
from briefings.alerts import service
from briefings.digest.briefing import BriefingEntry
from briefings.errors import InvalidSetting
from briefings.subscriptions import FollowQuery
from storage import alerts as stored
from storage import chats

log = logging.getLogger(__name__)
USAGE_ALERT = (
    "Usage: /alert &lt;keywords&gt; — get matching stories the moment they arrive "
    "(same words as /follow, e.g. <code>/alert chips -sports</code>). "
    "/alerts lists your follows and switches them between instant and daily."
)


async def alert(update: Update, context: BotContext, text: str | None = None) -> None:
    """Follow keywords with instant alerts: /alert <words> (also /follow --now <words>)."""
    ctx = context.app
    wanted = args_text(context) if text is None else text.strip()
    if not wanted:
        await alerts_list(update, context)
        return
    if (target := await target_of(update, context)) is None:  # this chat, or its channel
        return
    now = datetime.now(UTC)

    def follow(session: Session) -> tuple[FollowQuery, bool]:
        chats.ensure_chat(session, target.chat_id, kind=target.kind)
        return service.follow_instantly(session, target.chat_id, wanted, now)

    try:
        query, new = await ctx.db(follow)
    except InvalidSetting as exc:
        await show(update, context, f"{esc(str(exc)).capitalize()}.\n{USAGE_ALERT}")
        return
    key, note = f"<code>{esc(query.key)}</code>", target.note()
    if ctx.terminal:  # no Telegram chat to alert: the follow feeds /brief here
        await show(update, context, f"Following {key}. Instant alerts go to Telegram chats only.")
        return
    await show(
        update,
        context,
        f"{note}⚡ Alerts on for {key}: matching stories come as soon as they arrive "
        f"(at most {ctx.settings.alerts_per_hour} alerts an hour, none in quiet hours). "
        "/alerts switches it back to the daily briefing.",
    )
    if new:
        await queue_backlog(update, context, follows=[query.key], chat_id=target.chat_id)


async def _list(context: BotContext, target: Target) -> tuple[str, Buttons]:
    modes = await context.app.db(lambda session: service.follow_modes(session, target.chat_id))
    if not modes:
        return target.note() + "You follow no keywords. " + USAGE_ALERT, []
    lines = [target.note() + "<b>Your follows</b> (⚡ instant alert · 📰 in the daily briefing)"]
    buttons: Buttons = []
    for mode in modes:
        mark = "⚡" if mode.instant else "📰"
        lines.append(f"{mark} <code>{esc(mode.key)}</code>")
        switch = "daily" if mode.instant else "instant"
        label = f"{mark} {mode.key}"[:40] + f" → {switch}"
        buttons.append([(label, f"alertmode:{mode.subscription_id}")])
    lines.append("Tap a follow to switch it.")
    return "\n".join(lines), buttons


async def alerts_list(update: Update, context: BotContext) -> None:
    """List this chat's (or its channel's) follows, each with a button switching it between
    instant and daily."""
    if (target := await target_of(update, context)) is not None:
        text, buttons = await _list(context, target)
        await show(update, context, text, buttons)


async def mode_button(update: Update, context: BotContext) -> None:
    """Switch one follow between instant and daily (``alertmode:<id>``)."""
    assert update.callback_query is not None
    if (target := await target_of(update, context)) is None:
        return
    chat_id = target.chat_id
    follow_id = int((update.callback_query.data or "alertmode:0").split(":")[1])

    def switch(session: Session) -> bool:
        current = {m.subscription_id: m for m in service.follow_modes(session, chat_id)}
        mode = current.get(follow_id)
        if mode is not None:
            service.set_instant(session, chat_id, follow_id, not mode.instant, datetime.now(UTC))
        return mode is not None

    if not await context.app.db(switch):
        await update.callback_query.answer("That follow was removed.")
    await alerts_list(update, context)


async def more_button(update: Update, context: BotContext) -> None:
    """Show the rest of an alert batch (``alertmore:<briefing id>``)."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    briefing_id = int((query.data or MORE_PREFIX + "0")[len(MORE_PREFIX) :])
    shown = context.app.settings.alert_batch_stories
    chat_id = update.effective_chat.id

    def rest(session: Session) -> list[BriefingEntry]:
        story_ids = stored.alert_story_ids(session, chat_id, briefing_id)
        return service.story_entries(session, (story_ids or [])[shown:])

    entries = await context.app.db(rest)
    await query.answer()
    if not entries:
        await send(update, context, "Those stories are no longer available. See /latest.")
        return
    for message in alert_more_messages(entries):
        await send(update, context, message)


async def queue_backlog(
    update: Update,
    context: BotContext,
    *,
    topics: Sequence[str] = (),
    follows: Sequence[str] = (),
    chat_id: int | None = None,
) -> None:
    """Queue today's best stories for new subscriptions and send them now (not in the terminal).

    ``chat_id``: the chat that subscribed, when it is not the one the command came from.
    """
    ctx = context.app
    if chat_id is None and update.effective_chat is not None:
        chat_id = update.effective_chat.id
    if ctx.terminal or chat_id is None or (not topics and not follows):
        return
    now = datetime.now(UTC)
    target = chat_id
    queued = await ctx.db(
        lambda session: service.queue_backlog(
            session, ctx.taxonomy, target, topics=topics, follows=follows, now=now
        )
    )
    if queued:
        context.application.create_task(
            send_alerts(context.bot, ctx, chat_ids={chat_id}), update=update, name="backlog"
        )


async def alerts_command(update: Update, context: BotContext) -> None:
    """Show and switch instant alerts: /alerts."""
    await alerts_list(update, context)


HANDLERS = [
    CommandHandler("alert", alert),
    CommandHandler("alerts", alerts_command),
    CallbackQueryHandler(mode_button, pattern=r"^alertmode:\d{1,12}$"),
    CallbackQueryHandler(more_button, pattern=rf"^{MORE_PREFIX}\d{{1,12}}$"),
]
