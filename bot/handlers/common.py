"""Small helpers shared by handlers: replying or editing in place, argument access."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest

from bot.context import BotContext

Buttons = list[list[tuple[str, str]]]


def keyboard(rows: Buttons) -> InlineKeyboardMarkup | None:
    """Build an inline keyboard from rows of (label, callback data); None when empty."""
    rows = [row for row in rows if row]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def command_of(message: Message | None) -> tuple[str, str | None] | None:
    """The (command, addressee) a message's text or caption starts with, as Telegram parsed it.

    Read from the ``bot_command`` entity at offset 0, as ``CommandHandler`` does: ``/stats.``
    is the command ``stats``; text that merely looks like a command without the entity is none.
    """
    if message is None:
        return None
    if message.text is not None:
        entities, parse = message.entities, message.parse_entity
    else:
        entities, parse = message.caption_entities, message.parse_caption_entity
    if not entities or entities[0].type != MessageEntity.BOT_COMMAND or entities[0].offset:
        return None
    name, _, addressee = parse(entities[0])[1:].partition("@")
    return name.lower(), addressee or None


async def send(
    update: Update, context: BotContext, text: str, buttons: Buttons | None = None
) -> Message | None:
    """Send an HTML message to the update's chat (in a forum, to the topic it came from)."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None:
        return None
    topic = message is not None and message.is_topic_message
    return await context.bot.send_message(
        chat.id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard(buttons or []),
        message_thread_id=message.message_thread_id if topic and message else None,
    )


async def show(
    update: Update, context: BotContext, text: str, buttons: Buttons | None = None
) -> None:
    """Reply to a command, or edit the message in place when a button was pressed."""
    query = update.callback_query
    if query is None or query.message is None:
        await send(update, context, text, buttons)
        return
    await query.answer()
    try:
        await query.edit_message_text(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(buttons or []),
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def typing(update: Update, context: BotContext) -> None:
    """Show the "typing…" chat action while a slow command runs."""
    if update.effective_chat is not None:
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)


def args_text(context: BotContext) -> str:
    """The command's arguments joined by spaces."""
    return " ".join(context.args or []).strip()


def page_buttons(ids: list[int], *, start: int, page: int, has_next: bool, nav: str) -> Buttons:
    """Read buttons for a page of articles plus ◀ ▶ navigation.

    Args:
        ids: article ids on the page, in display order.
        start: the display number of the first entry minus one.
        page: zero-based page number.
        has_next: whether a next page exists.
        nav: callback data template with ``{page}`` for the page number.
    """
    reads = [(f"Read {start + i + 1}", f"read:{article_id}") for i, article_id in enumerate(ids)]
    arrows: list[tuple[str, str]] = []
    if page > 0:
        arrows.append(("◀", nav.format(page=page - 1)))
    if has_next:
        arrows.append(("▶", nav.format(page=page + 1)))
    return [reads, arrows]
