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

from bot.settings import Settings, SettingsError
from briefings.errors import BriefingsError
from storage.errors import StorageError

log = logging.getLogger("briefbot")


def parser() -> argparse.ArgumentParser:
    """Build the argument parser (every subcommand is documented in README.md)."""
    root = argparse.ArgumentParser(prog="briefbot", description="Self-hosted news briefings.")
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="ingest seeds if empty, then serve Telegram (or the terminal)")
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
    sub.add_parser("stats", help="show store statistics")
    db = sub.add_parser("db", help="database schema management")
    db.add_argument("action", choices=["upgrade", "current"])
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``briefbot`` console script."""
    args = parser().parse_args(argv)
    _load_dotenv()
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        print(f"briefbot: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its URLs contain the token
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return COMMANDS[args.command](settings, args)
    except (StorageError, BriefingsError) as exc:
        print(f"briefbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _load_dotenv() -> None:
    try:
        from dotenv import load_dotenv
    except ImportError:  # optional
        return
    load_dotenv(Path.cwd() / ".env", override=False)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Serve Telegram by polling (or webhook) when a token is set; else the terminal chat."""
    from bot.app import build_application, build_context, ingest_seeds_if_empty

    ctx = build_context(settings)
    ingest_seeds_if_empty(ctx)
    if not settings.telegram_bot_token:
        log.info("TELEGRAM_BOT_TOKEN is not set: serving the terminal chat")
        return _terminal(settings, ctx)
    application = build_application(settings, ctx)
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
        )
    else:
        application.run_polling()
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Chat in the terminal."""
    from bot.app import build_context, ingest_seeds_if_empty

    ctx = build_context(settings)
    ingest_seeds_if_empty(ctx)
    return _terminal(settings, ctx)


def _terminal(settings: Settings, ctx: object) -> int:
    from dataclasses import replace

    from bot.app import build_application
    from bot.context import AppContext
    from bot.terminal import TERMINAL_CHAT_ID, TerminalRequest, interactive, run_terminal_chat

    assert isinstance(ctx, AppContext)
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
    from bot.ingest_report import dry_run, print_report, progress_printer

    if args.dry_run:
        return dry_run(settings, args.paths, args.format)
    ctx = build_context(settings)
    report = ctx.ingestor.ingest_paths(args.paths, force=args.force, progress=progress_printer())
    print_report(report, args.format)
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
    from briefings import service

    ctx = build_context(settings)
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
    from briefings import service

    ctx = build_context(settings)
    with ctx.sessions() as session:
        print(visible_text(topics_text(service.topics_overview(session, ctx.taxonomy))))
    return 0


def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    """Print store statistics as JSON."""
    from bot.app import build_context
    from storage.queries import store_stats

    ctx = build_context(settings)
    with ctx.sessions() as session:
        print(json.dumps(asdict(store_stats(session)), default=str, indent=2))
    return 0


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    """Upgrade the schema, or show its revision."""
    from storage.engine import make_engine
    from storage.schema import current_revision, head_revision, upgrade

    engine = make_engine(settings.database_url)
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
    "stats": cmd_stats,
    "db": cmd_db,
}
