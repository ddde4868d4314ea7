"""Cross-cutting checks before any handler runs (group -1): addressing, admin gate, chats.

* A command addressed to another bot (``/cmd@otherbot``) is ignored entirely.
* An update that one of the admin handlers would take, from anyone not in
  ``Settings.admin_ids``, gets "not allowed" and stops. The gate asks the admin handlers
  themselves (``check_update``), so it decides on exactly the parse that dispatches: there is
  no second list of admin commands to forget, and no text pattern that can disagree with
  Telegram's command entity (``/stats.``, ``/stats@bot,`` or an edited message).
* Each chat is recorded on first contact (and marked active again if it had left).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from bot.context import BotContext
from bot.handlers.common import command_of, send
from storage import chats

log = logging.getLogger(__name__)

REFUSAL = "Sorry, that command is not allowed for you."


def is_admin(update: Update, context: BotContext) -> bool:
    """True when the update's sender is one of the configured admins."""
    user = update.effective_user
    return user is not None and user.id in context.app.settings.admin_ids


def _bot_username(context: BotContext) -> str | None:
    try:
        return context.bot.username
    except RuntimeError:  # the bot was not initialised (no getMe yet)
        return None


def admin_gate(
    admin_handlers: Sequence[BaseHandler[Any, Any, Any]],
) -> Callable[[Update, BotContext], Coroutine[Any, Any, None]]:
    """The gate callback, refusing non-admins every update one of ``admin_handlers`` takes."""

    def for_admins(update: Update) -> bool:
        return any(handler.check_update(update) not in (None, False) for handler in admin_handlers)

    async def gate(update: Update, context: BotContext) -> None:
        """Drop commands for other bots, refuse admin commands to non-admins, record the chat."""
        command = command_of(update.effective_message)
        if command is not None:
            addressee = command[1]
            me = _bot_username(context)
            if addressee and me and addressee.casefold() != me.casefold():
                raise ApplicationHandlerStop
        if for_admins(update) and not is_admin(update, context):
            user = update.effective_user
            log.warning(
                "refused an admin command from user %s: %r",
                user.id if user else None,
                command[0] if command else "(document caption)",
            )
            await send(update, context, REFUSAL)
            raise ApplicationHandlerStop
        await _track(update, context)

    return gate


async def _track(update: Update, context: BotContext) -> None:
    chat = update.effective_chat
    if chat is None or update.effective_message is None:
        return
    seen = context.app.seen_chats
    if chat.id in seen:
        return
    ctx = context.app
    title = (chat.title or chat.full_name or chat.username or "")[:300] or None

    def record(session: Session) -> None:
        row = chats.ensure_chat(session, chat.id, kind=chat.type, title=title)
        if not row.active:  # they write to us again: deliveries may resume
            row.active = True

    try:
        await ctx.db(record)
    except Exception:  # tracking must never stop the command itself
        log.warning("could not record chat %s", chat.id, exc_info=True)
        return
    seen.add(chat.id)


def build_gate(
    admin_handlers: Sequence[BaseHandler[Any, Any, Any]],
) -> TypeHandler[Update, Any, None]:
    """The gate as a handler for group -1, guarding ``admin_handlers``."""
    return TypeHandler(Update, admin_gate(admin_handlers))
