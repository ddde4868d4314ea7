"""The ``briefbot`` command line: a thin layer over the application and services."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.logs import configure_logging
from bot.settings import Settings, SettingsError
from briefings.errors import BriefingsError
from storage.errors import (
    LockHeld,
    ReplicaSlotsFull,
    SchemaOutOfDate,
    StorageError,
    StoreNotReady,
    StoreUnavailable,
)

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger("briefbot")


def parser() -> argparse.ArgumentParser:
    """Build the argument parser (every subcommand is documented in README.md)."""
    root = argparse.ArgumentParser(prog="briefbot", description="Self-hosted news briefings.")
    sub = root.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="ingest seeds if empty, then serve Telegram (or the terminal)")
    run.add_argument(
        "--deliver-only", action="store_true",
        help="a delivery replica (PostgreSQL only): send due briefings and alerts, serve no "
        "updates; replicas run beside the one poller and share SEND_RATE_PER_SECOND with it "
        "(at most min(8, SEND_RATE_PER_SECOND) processes in all)",
    )  # fmt: skip
    sub.add_parser("chat", help="chat with the bot in the terminal (reads commands from stdin)")
    ingest = sub.add_parser("ingest", help="ingest dump files or folders")
    ingest.add_argument("paths", nargs="+", type=Path)
    ingest.add_argument("--force", action="store_true", help="re-derive already ingested files")
    ingest.add_argument("--dry-run", action="store_true", help="show what would be stored")
    ingest.add_argument("--format", choices=["table", "jsonl"], default="table")
    sub.add_parser("reingest", help="re-derive all articles from the stored raw documents")
    search = sub.add_parser("search", help="search articles")
    search.add_argument("query", nargs="+")
    sub.add_parser("topics", help="list topics with counts and trending terms")
    brief = sub.add_parser("brief", help="print a briefing (plain text; nothing is recorded)")
    brief.add_argument("--topics", default="", help="comma-separated topics (default: all)")
    brief.add_argument("--since", default="24h", help="window start: 12h, 2d, 1w or a date")
    sub.add_parser("stats", help="show store statistics")
    deliveries = sub.add_parser("deliveries", help="list a day's briefing deliveries")
    deliveries.add_argument("--date", help="UTC day as YYYY-MM-DD (default: today)")
    db = sub.add_parser("db", help="database schema management")
    db.add_argument("action", choices=["upgrade", "current"])
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``briefbot`` console script.

    Exit status: 0 done, 1 the command failed, 2 a configuration or start-up problem
    (printed as one line naming the setting), 130 interrupted.
    """
    args = parser().parse_args(argv)
    _load_dotenv()
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        return _refuse(f"configuration error: {exc}")
    configure_logging(log_level(settings, args.command), settings.telegram_bot_token)
    try:
        return COMMANDS[args.command](settings, args)
    except SettingsError as exc:
        return _refuse(f"configuration error: {exc}")
    except (StoreUnavailable, StoreNotReady) as exc:
        return _refuse(f"DATABASE_URL: {exc}")
    except ReplicaSlotsFull as exc:
        return _refuse(f"DATABASE_URL: {exc}; stop one first")
    except LockHeld as exc:
        return _refuse(
            f"DATABASE_URL: another `briefbot run` is already serving this store ({exc}); "
            "stop it first, or give this one its own DATABASE_URL"
        )
    except SchemaOutOfDate as exc:
        return _refuse(str(exc))
    except (StorageError, BriefingsError) as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _refuse(message: str) -> int:
    """Print a start-up problem as one line on stderr; return exit status 2."""
    print(f"briefbot: {' '.join(message.split())}", file=sys.stderr)
    return 2


def log_level(settings: Settings, command: str) -> str:
    """LOG_LEVEL if set; else WARNING in the terminal chat (replies only), INFO otherwise."""
    if settings.log_level:
        return settings.log_level
    terminal = command == "chat" or (command == "run" and not settings.telegram_bot_token)
    return "WARNING" if terminal else "INFO"


def _load_dotenv() -> None:
    try:
        from dotenv import load_dotenv
    except ImportError:  # optional
        return
    load_dotenv(Path.cwd() / ".env", override=False)


SWITCH_INTERVAL = 0.001  # seconds a thread holds the GIL while another waits for it


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Serve Telegram by polling (or webhook) when a token is set; else the terminal chat.

    With ``--deliver-only``: a delivery replica (bot/replica.py), no poller lock.
    """
    from bot import replica
    from bot.app import build_application, build_context, ingest_seeds_if_empty
    from storage.locks import acquire_store_lock

    if args.deliver_only:
        return replica.run_delivery_replica(settings)
    ctx = build_context(settings)
    if not settings.telegram_bot_token:
        ingest_seeds_if_empty(ctx)
        log.info("TELEGRAM_BOT_TOKEN is not set: serving the terminal chat")
        return _terminal(settings, ctx)
    # the event loop shares the interpreter with the threads composing briefings: a shorter
    # switch interval (default 5 ms) gets it the GIL back sooner each time it has a reply
    sys.setswitchinterval(SWITCH_INTERVAL)
    # one Telegram server per store, taken before anything else writes
    lock = ctx.poller_lock = acquire_store_lock(ctx.sessions.kw["bind"], "poller")
    share = None
    try:
        ingest_seeds_if_empty(ctx)
        share = replica.join(ctx)  # the send rate is shared with any delivery replicas
        application = build_application(settings, ctx)
        replica.pace(application, share)
        if settings.webhook_url:
            application.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(settings.webhook_url).path.strip("/"),  # Telegram posts here
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
            )
        else:
            application.run_polling()
    finally:
        if share is not None:
            share.release()
        lock.release()
    if lock.lost:
        print("briefbot: stopped: another server took over the store's poller lock",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Chat in the terminal."""
    from bot.app import build_context, ingest_seeds_if_empty

    ctx = build_context(settings)
    ingest_seeds_if_empty(ctx)
    return _terminal(settings, ctx)


def _terminal(settings: Settings, ctx: AppContext) -> int:
    from dataclasses import replace

    from bot.app import build_application
    from bot.terminal import TERMINAL_CHAT_ID, TerminalRequest, interactive, run_terminal_chat

    # whoever runs the terminal chat has the shell: they are an admin there
    local = replace(
        settings, telegram_bot_token=None, admin_ids=settings.admin_ids | {TERMINAL_CHAT_ID}
    )
    ctx.settings = local
    transport = TerminalRequest(sys.stdout)
    application = build_application(local, ctx, request=transport)
    prompt = interactive()
    if prompt:
        print("briefbot terminal chat: type /help, a number to press a button, Ctrl-D to quit.\n")
    asyncio.run(run_terminal_chat(application, transport, sys.stdin, prompt=prompt))
    return 0


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    """Ingest files and print a report; exit 1 only when nothing could be ingested."""
    from bot.app import build_context
    from bot.ingest_report import print_dry_run, print_report, progress_printer
    from briefings.ingest import Ingestor

    ctx = build_context(settings)
    ingestor = ctx.ingestor
    if args.dry_run:  # the same ingest, every transaction rolled back
        ingestor = Ingestor(ctx.sessions, ctx.ingestor.config, dry_run=True)
    report = ingestor.ingest_paths(args.paths, force=args.force, progress=progress_printer())
    (print_dry_run if args.dry_run else print_report)(report, args.format)
    failed = len(report.errors)
    return 1 if failed and failed == len(report.files) else 0


def cmd_reingest(settings: Settings, args: argparse.Namespace) -> int:
    """Re-derive every article from the stored raw documents."""
    from bot.app import build_context
    from bot.ingest_report import print_report, progress_printer

    ctx = build_context(settings)
    report = ctx.ingestor.reingest(progress=progress_printer())
    print_report(report, "table")
    return 0


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    """Print search results."""
    from bot.app import build_context
    from briefings import browse as service

    ctx = build_context(settings, read_only=True)
    with ctx.sessions() as session:
        page = service.search(session, " ".join(args.query), size=10)
    if not page.items:
        print("Nothing found.")
    for view in page.items:
        print(f"[{view.id}] {view.title} — {view.source or 'unknown outlet'}")
    return 0


def cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    """Print topics with counts and trending terms."""
    from bot.app import build_context
    from bot.format import visible_text
    from bot.render import topics_text
    from briefings import browse as service

    ctx = build_context(settings, read_only=True)
    with ctx.sessions() as session:
        print(visible_text(topics_text(service.topics_overview(session, ctx.taxonomy))))
    return 0


def cmd_brief(settings: Settings, args: argparse.Namespace) -> int:
    """Print a briefing for the given topics (all topics by default) as plain text."""
    from datetime import UTC, datetime

    from bot.app import build_context
    from bot.render import briefing_plain
    from briefings.browse import find_topic, parse_since
    from briefings.digest.composer import Composer, Subscriber

    now = datetime.now(UTC)
    since = parse_since(args.since, now)
    if since is None:
        print(f"briefbot: --since takes 12h, 2d, 1w or a date, not {args.since!r}", file=sys.stderr)
        return 2
    ctx = build_context(settings, read_only=True)
    slugs = []
    for name in filter(None, (part.strip() for part in args.topics.split(","))):
        topic = find_topic(ctx.taxonomy, name)
        if topic is None:
            print(f"briefbot: unknown topic {name!r}; see `briefbot topics`", file=sys.stderr)
            return 2
        slugs.append(topic.slug)
    subscriber = Subscriber(0, tuple(sorted(set(slugs))), timezone=settings.default_timezone)
    with ctx.sessions() as session:
        composer = Composer(session, ctx.taxonomy, now)
        print(briefing_plain(composer.compose(subscriber, since, exclude_sent=False)), end="")
    return 0


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    """Print store statistics as JSON."""
    from bot.app import build_context
    from storage.queries import store_stats

    ctx = build_context(settings, read_only=True)
    with ctx.sessions() as session:
        print(json.dumps(asdict(store_stats(session)), default=str, indent=2))
    return 0


def cmd_deliveries(settings: Settings, args: argparse.Namespace) -> int:
    """List one UTC day's deliveries (slot, chat, status, attempts, error) and their counts."""
    from datetime import UTC, datetime

    from bot.app import build_context
    from storage import delivery_report

    try:
        day = datetime.strptime(args.date, "%Y-%m-%d").replace(tzinfo=UTC) if args.date else None
    except ValueError:
        print(f"briefbot: --date takes YYYY-MM-DD, not {args.date!r}", file=sys.stderr)
        return 2
    start, end = delivery_report.day_bounds(day or datetime.now(UTC))
    ctx = build_context(settings, read_only=True)
    with ctx.sessions() as session:
        rows = delivery_report.deliveries_between(session, start, end)
        counts = delivery_report.delivery_counts(session, start, end)
    for row in rows:
        sent = f"{row.sent_at:%H:%M:%S}" if row.sent_at else "-"
        print(
            f"{row.slot:%Y-%m-%d %H:%M}Z  chat {row.chat_id:>15}  {row.status:<8} "
            f"attempts {row.attempts}  sent {sent}  {row.error or ''}".rstrip()
        )
    print(", ".join(f"{name} {value}" for name, value in asdict(counts).items()))
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    """Upgrade the schema, or show its revision."""
    from storage.engine import open_engine
    from storage.schema import current_revision, head_revision, upgrade

    engine = open_engine(settings.database_url, create=args.action == "upgrade")
    if args.action == "upgrade":
        upgrade(engine)
    print(f"schema revision: {current_revision(engine)} (newest: {head_revision(engine)})")
    return 0


COMMANDS = {
    "run": cmd_run,
    "chat": cmd_chat,
    "ingest": cmd_ingest,
    "reingest": cmd_reingest,
    "search": cmd_search,
    "topics": cmd_topics,
    "brief": cmd_brief,
    "stats": cmd_stats,
    "deliveries": cmd_deliveries,
    "db": cmd_db,
}
