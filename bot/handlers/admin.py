"""Admin commands: /stats, /sources, /reingest (progress in one message) and /ingest (a file).

The admin gate (bot/handlers/gate.py) has already refused everyone else.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from telegram import Document, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.format import cut_html, esc, pack_blocks
from bot.handlers.common import args_text, command_of, send, typing
from bot.render import when
from bot.terminal import TERMINAL_CHAT_ID
from briefings.errors import IngestBusy, TaxonomyError
from briefings.ingest import FileResult, Ingestor, IngestReport
from storage import delivery_report
from storage.delivery_report import DeliveryCounts
from storage.heartbeats import JobHealth
from storage.queries import StoreStats, source_counts, store_stats

log = logging.getLogger(__name__)
T = TypeVar("T")

MENU: list[tuple[str, str]] = [
    ("stats", "Admin: store statistics"),
    ("sources", "Admin: outlets and article counts"),
    ("reingest", "Admin: re-derive all articles"),
    ("ingest", "Admin: ingest a dump file (send it with /ingest as caption)"),
    ("reload_topics", "Admin: re-read the topic taxonomy files"),
]
PROGRESS_EVERY = 2.0  # seconds between progress edits (Telegram allows ~1 edit/s per chat)
BUSY_TEXT = "An ingest is already running; try again when it is done."
USAGE_INGEST = (
    "Usage: send a dump file (.txt, .html, .jsonl, .xml) with the caption /ingest, "
    "or reply /ingest to a message holding one."
)


async def stats(update: Update, context: BotContext) -> None:
    """Show store statistics: documents, articles, stories, topics, subscribers, errors."""
    await typing(update, context)
    now = datetime.now(UTC)

    def read(session: Session) -> tuple[StoreStats, DeliveryCounts]:
        st = store_stats(session, now)
        return st, delivery_report.delivery_counts(session, *delivery_report.day_bounds(now))

    st, today = await context.app.db(read)
    lines = [
        "<b>Store statistics</b>",
        f"Documents: {st.documents} ({st.documents_failed} failed)",
        f"Articles: {st.articles}",
        f"Stories: {st.stories}",
        f"Topics: {st.topics}",
        f"Chats: {st.chats}, subscribers: {st.subscribers}",
        f"Last ingest: {esc(when(st.last_ingest)) or 'never'}",
        f"Deliveries today: {today.sent} sent, {today.failed} failed, {today.pending} pending, "
        f"{today.skipped} skipped",
        scheduler_line(st.scheduler, now),
    ]
    if st.last_errors:
        lines.append("<b>Recent errors</b>")
        lines += [
            f"• {esc(Path(path).name[:80])}: {esc(error[:200])}" for path, error in st.last_errors
        ]
    await send(update, context, "\n".join(lines))


def scheduler_line(jobs: list[JobHealth], now: datetime) -> str:
    """One line of the scheduler's heartbeat: when each job last started, overdue ones marked."""
    if not jobs:
        return "Scheduler: no job has run yet"
    parts = []
    for job in jobs:
        ago = f"{job.job} {int((now - job.started_at).total_seconds())} s ago"
        if job.error:
            ago += " (last run failed)"
        parts.append(f"<b>{esc(ago)}: OVERDUE</b>" if job.overdue else esc(ago))
    return "Scheduler: " + ", ".join(parts)


async def sources(update: Update, context: BotContext) -> None:
    """List the outlets with their article counts."""
    await typing(update, context)
    counts = await context.app.db(source_counts)
    if not counts:
        await send(update, context, "No articles yet.")
        return
    named = sum(1 for outlet, _ in counts if outlet)
    lines = [f"<b>Sources</b> ({named} outlet{'' if named == 1 else 's'})"]
    # articles without an outlet are no outlet: listed (in count order) but not counted
    lines += [
        f"{esc(outlet[:200])}: {count}" if outlet else f"<i>no outlet given</i>: {count}"
        for outlet, count in counts
    ]
    for text in pack_blocks(lines, separator="\n"):
        await send(update, context, text)


def _alone(ingestor: Ingestor, work: Callable[[], T]) -> Callable[[], T]:
    """``work`` as the only ingest of this process (for a thread), or IngestBusy at once."""

    def run() -> T:
        with ingestor.exclusive(wait=False):
            return work()

    return run


async def _in_background(
    update: Update, context: BotContext, work: Coroutine[Any, Any, None]
) -> None:
    """Run long work without holding up other chats; inline in the terminal chat."""
    if context.app.terminal:
        await work  # a terminal script expects its commands to run in order
    else:
        context.application.create_task(work, update=update)  # errors reach the handler


async def reingest(update: Update, context: BotContext) -> None:
    """Re-derive every article from the stored raw documents, showing progress."""
    ctx = context.app
    if ctx.ingestor.busy:
        await send(update, context, BUSY_TEXT)
        return
    total = await ctx.db(lambda session: store_stats(session).documents)
    message = await send(update, context, f"Re-ingesting {total} documents…")
    await _in_background(update, context, _reingest(update, context, message, total))


async def _reingest(
    update: Update, context: BotContext, message: Message | None, total: int
) -> None:
    ctx = context.app
    done: list[FileResult] = []
    reingest = _alone(ctx.ingestor, lambda: ctx.ingestor.reingest(done.append))
    work = asyncio.ensure_future(asyncio.to_thread(reingest))
    shown = ""
    while True:
        finished, _ = await asyncio.wait({work}, timeout=PROGRESS_EVERY)
        if finished:
            break
        stored = sum(result.stored for result in done)
        text = f"Re-ingesting… {len(done)}/{total} documents, {stored} articles"
        if message is not None and text != shown:
            await _edit(message, text)
            shown = text
    try:
        final = "<b>Re-ingest finished</b>\n" + _report_text(work.result())
    except IngestBusy:  # another ingest started between the check and the work
        final = BUSY_TEXT
    if message is not None:
        await _edit(message, final)
    else:
        await send(update, context, final)


async def _edit(message: Message, text: str) -> None:
    try:
        await message.edit_text(cut_html(text, 4000), parse_mode=ParseMode.HTML)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def _report_text(report: IngestReport) -> str:
    lines = [esc(report.summary_line())]
    for result in report.errors[:10]:
        lines.append(f"• {esc(Path(result.path).name[:80])}: {esc((result.error or '')[:200])}")
    if len(report.errors) > 10:
        lines.append(f"… and {len(report.errors) - 10} more errors (see /stats)")
    return "\n".join(lines)


def _result_text(name: str, result: FileResult) -> str:
    head = f"<b>{esc(name[:100])}</b>: "
    if result.status == "unchanged":
        return head + "already ingested (same bytes); nothing to do."
    if result.status == "error":
        return head + f"not ingested — {esc((result.error or 'unknown error')[:300])}"
    if result.status == "empty":
        return head + "no articles found in it."
    return head + f"{result.stored} articles stored, {result.duplicates} duplicates dropped."


async def ingest(update: Update, context: BotContext) -> None:
    """Ingest a dump file sent with /ingest (or replied to); /ingest <path> in the terminal."""
    ctx = context.app
    message = update.effective_message
    document = _document(message)
    if document is None:
        paths = args_text(context)
        if paths and _in_terminal(update, context):
            await _ingest_paths(update, context, paths)
        elif paths:
            await send(
                update, context, "Server paths work only in the terminal chat. " + USAGE_INGEST
            )
        elif _in_terminal(update, context):
            await send(
                update, context, "Usage in the terminal chat: /ingest PATH… (files or folders)"
            )
        else:
            await send(update, context, USAGE_INGEST)
        return
    limit = ctx.settings.max_upload_bytes
    if document.file_size is not None and document.file_size > limit:
        await send(
            update,
            context,
            f"That file is too large ({_mb(document.file_size)}; limit {_mb(limit)}).",
        )
        return
    if ctx.ingestor.busy:
        await send(update, context, BUSY_TEXT)
        return
    await typing(update, context)
    await _in_background(update, context, _ingest_document(update, context, document))


async def _ingest_document(update: Update, context: BotContext, document: Document) -> None:
    ctx = context.app
    limit = ctx.settings.max_upload_bytes
    file = await context.bot.get_file(document.file_id)
    data = bytes(await file.download_as_bytearray())
    if len(data) > limit:
        await send(update, context, f"That file is too large (limit {_mb(limit)}).")
        return
    name = Path(document.file_name or f"upload-{document.file_unique_id}.txt").name[:200]

    def store() -> FileResult:
        result = ctx.ingestor.ingest_bytes(f"telegram/{name}", data)
        if result.stored:
            ctx.ingestor.refresh_trending()
        return result

    try:
        result = await asyncio.to_thread(_alone(ctx.ingestor, store))
    except IngestBusy:
        await send(update, context, BUSY_TEXT)
        return
    await send(update, context, _result_text(name, result))


def _document(message: Message | None) -> Document | None:
    if message is None:
        return None
    if message.document is not None:
        return message.document
    replied = message.reply_to_message
    return replied.document if replied is not None else None


def _in_terminal(update: Update, context: BotContext) -> bool:
    """True in the local terminal chat (no bot token; chat 0), never on Telegram."""
    chat = update.effective_chat
    no_telegram = context.app.terminal
    return no_telegram and chat is not None and chat.id == TERMINAL_CHAT_ID


async def _ingest_paths(update: Update, context: BotContext, text: str) -> None:
    ctx = context.app
    try:
        paths = [Path(part).expanduser() for part in shlex.split(text)]
    except ValueError as exc:
        await send(update, context, f"Cannot read those paths: {esc(str(exc))}")
        return
    try:
        report = await asyncio.to_thread(
            _alone(ctx.ingestor, lambda: ctx.ingestor.ingest_paths(paths))
        )
    except IngestBusy:
        await send(update, context, BUSY_TEXT)
        return
    if not report.files:
        await send(update, context, "No files found there.")
        return
    await send(update, context, "<b>Ingest finished</b>\n" + _report_text(report))


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


async def reload_topics(update: Update, context: BotContext) -> None:
    """Re-read the taxonomy (default file plus TOPICS_FILE) without a restart."""
    try:
        taxonomy = await context.app.reload_taxonomy()
    except TaxonomyError as exc:
        await send(update, context, f"Topics not reloaded, the old ones stay: {esc(str(exc))}")
        return
    await send(
        update,
        context,
        f"Reloaded {len(taxonomy)} topics. New articles are tagged with them; "
        "/reingest re-tags the stored ones.",
    )


class _CaptionCommand(filters.MessageFilter):
    """A caption that starts with ``/<name>`` (Telegram's command entity), for this bot."""

    def __init__(self, name: str) -> None:
        super().__init__(name=f"CaptionCommand({name})")
        self.command = name

    def filter(self, message: Message) -> bool:
        if message.text is not None:
            return False
        command = command_of(message)
        if command is None or command[0] != self.command:
            return False
        addressee = command[1]
        return addressee is None or addressee.casefold() == message.get_bot().username.casefold()


HANDLERS = [
    CommandHandler("reload_topics", reload_topics),
    CommandHandler("stats", stats),
    CommandHandler("sources", sources),
    CommandHandler("reingest", reingest),
    CommandHandler("ingest", ingest),
    MessageHandler(filters.Document.ALL & _CaptionCommand("ingest"), ingest),
]
"""Every admin handler: the gate refuses non-admins whatever any of these would take."""
