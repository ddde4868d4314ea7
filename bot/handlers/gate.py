"""Cross-cutting checks before any handler runs (group -1): addressing, admin gate, chats.

* A command addressed to another bot (``/cmd@otherbot``) is ignored entirely.
* Admin commands from anyone not in ``Settings.admin_ids`` get "not allowed" and stop.
* Each chat is recorded on first contact (and marked active again if it had left).
"""

from __future__ import annotations

import logging
import re

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.context import app_context
from bot.handlers.common import send
from storage import chats

log = logging.getLogger(__name__)

ADMIN_ONLY = frozenset({"reingest", "ingest", "stats", "sources", "reload_topics"})
SEEN = "seen_chats"
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?:\s|$)")


def command_of(message: Message | None) -> tuple[str, str | None] | None:
    """The (command, addressee) a message's text or caption starts with, if any."""
    if message is None:
        return None
    match = _COMMAND.match(message.text or message.caption or "")
    if match is None:
        return None
    return match.group(1).lower(), match.group(2)


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True when the update's sender is one of the configured admins."""
    user = update.effective_user
    return user is not None and user.id in app_context(context).settings.admin_ids


def _bot_username(context: ContextTypes.DEFAULT_TYPE) -> str | None:
    try:
        return context.bot.username
    except RuntimeError:  # the bot was not initialised (no getMe yet)
        return None


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Drop commands for other bots, refuse admin commands to non-admins, record the chat."""
    command = command_of(update.effective_message)
    if command is not None:
        name, addressee = command
        me = _bot_username(context)
        if addressee and me and addressee.casefold() != me.casefold():
            raise ApplicationHandlerStop
        if name in ADMIN_ONLY and not is_admin(update, context):
            await send(update, context, "Sorry, that command is not allowed for you.")
            raise ApplicationHandlerStop
    _track(update, context)


def _track(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None or update.effective_message is None:
        return
    seen: set[int] = context.bot_data.setdefault(SEEN, set())
    if chat.id in seen:
        return
    ctx = app_context(context)
    title = (chat.title or chat.full_name or chat.username or "")[:300] or None
    try:
        with ctx.sessions() as session, session.begin():
            row = chats.ensure_chat(session, chat.id, kind=chat.type, title=title)
            if not row.active:  # they write to us again: deliveries may resume
                row.active = True
    except Exception:  # tracking must never stop the command itself
        log.warning("could not record chat %s", chat.id, exc_info=True)
        return
    seen.add(chat.id)


GATE = TypeHandler(Update, gate)
