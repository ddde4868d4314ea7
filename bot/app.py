"""Application factory: settings in, a ready PTB Application out (nothing runs at import)."""

from __future__ import annotations

import functools
import logging
import ssl
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select
from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, LinkPreviewOptions
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest, HTTPXRequest

from bot.context import CONTEXT_TYPES, KEY, AppContext, sync_topics
from bot.handlers import (
    admin,
    alerts,
    brief,
    browse,
    channels,
    errors,
    gate,
    membership,
    read,
    routes,
    search,
    start,
    subscriptions,
)
from bot.jobs import register_jobs
from bot.sendgate import GateRateLimiter
from bot.settings import Settings, SettingsError
from bot.terminal import TerminalRequest
from bot.updates import ChatOrderedUpdates
from briefings.ingest import Ingestor
from briefings.pipeline import PipelineConfig
from briefings.topics.taxonomy import load_taxonomy
from storage.engine import make_session_factory, open_engine
from storage.models import Article
from storage.schema import ensure_schema, require_schema

log = logging.getLogger(__name__)

ADMIN_COMMANDS: list[tuple[str, str]] = admin.MENU


def build_context(settings: Settings, *, read_only: bool = False) -> AppContext:
    """Open the store (upgrading its schema or refusing), load the taxonomy, sync topics.

    Args:
        settings: validated settings.
        read_only: write nothing: refuse a missing or old schema, leave the topics table.

    Raises:
        storage.errors.StoreUnavailable: the database URL is unusable (one-line reason).
        storage.errors.StoreNotReady: read-only and the store has no current schema.
        storage.errors.SchemaOutOfDate: the schema is old and auto-upgrade is off.
        briefings.errors.TaxonomyError: the topics file is invalid.
    """
    engine = open_engine(settings.database_url, create=not read_only)
    if read_only:
        require_schema(engine)
    else:
        ensure_schema(engine, auto_upgrade=settings.db_auto_upgrade)
    sessions = make_session_factory(engine)
    taxonomy = load_taxonomy(extra=settings.topics_file)
    if not read_only:
        sync_topics(sessions, taxonomy)
    config = PipelineConfig(
        taxonomy=taxonomy,
        summarizer=settings.summarizer,
        story_window_days=settings.story_window_days,
    )
    lease = timedelta(seconds=settings.ingest_lease_seconds)
    return AppContext(settings, sessions, taxonomy, Ingestor(sessions, config, lease=lease))


def ingest_seeds_if_empty(ctx: AppContext) -> int:
    """On first start with an empty store, ingest the seed dumps; return articles stored.

    Raises:
        bot.settings.SettingsError: the store is empty and SEEDS_DIR is not a folder.
    """
    with ctx.sessions() as session:
        count = session.scalar(select(func.count(Article.id))) or 0
    seeds = Path(ctx.settings.seeds_dir)
    if count:
        return 0
    if not seeds.is_dir():
        raise SettingsError(
            f"SEEDS_DIR: the store is empty and there is no seeds folder at {seeds.absolute()}; "
            "set SEEDS_DIR to a folder of dumps (an empty one to start empty) or run "
            "`briefbot ingest PATH` first"
        )
    log.info("empty store: ingesting seeds from %s", seeds)
    return ctx.ingestor.ingest_paths([seeds]).stored


def build_application(
    settings: Settings, ctx: AppContext | None = None, *, request: BaseRequest | None = None
) -> Application:
    """Build the Application with every handler, the error handler and the command menu.

    Args:
        settings: validated settings.
        ctx: an already-built AppContext (tests share one); built from settings if None.
        request: a custom transport (the terminal chat uses one); default PTB's HTTPX.
    """
    ctx = ctx or build_context(settings)
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token or "0:terminal")
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(_set_commands)
        .post_shutdown(_close_workers)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(ChatOrderedUpdates())  # chats side by side, each one in order
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    else:
        # PTB's own pool sizes (256 for calls, 1 for getUpdates), one shared TLS context
        tls = {"verify": tls_context()}
        calls = HTTPXRequest(connection_pool_size=256, httpx_kwargs=tls)
        updates = HTTPXRequest(connection_pool_size=1, httpx_kwargs=tls)
        builder = builder.request(calls).get_updates_request(updates)
        # the one flood control: the deliverer's SendGate also paces every reply
        limiter = GateRateLimiter(settings.send_rate_per_second)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    application = builder.build()
    ctx.terminal = isinstance(request, TerminalRequest)  # decided here, once
    application.bot_data[KEY] = ctx
    application.add_handler(gate.build_gate(admin.HANDLERS), group=-1)  # addressing, admins, chats
    modules = (start, channels, browse, search, read, subscriptions, routes, alerts, admin,
               brief, membership)  # fmt: skip
    for module in modules:  # channels before search: a forwarded channel post links it
        application.add_handlers(module.HANDLERS)
    application.add_handler(errors.UNKNOWN)  # last in group 0: only unmatched commands
    application.add_error_handler(errors.error_handler)
    if not ctx.terminal:  # Telegram: scheduled briefings and inbox
        register_jobs(application, ctx)
    return application


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi, or SSL_CERT_FILE/SSL_CERT_DIR), built once.

    Loading the CA bundle takes tens of milliseconds; httpx would do it for each client.
    """
    return httpx.create_ssl_context()


async def _close_workers(application: Application) -> None:
    """Let the handlers' database threads go (a restarted application starts new ones) and
    stop a running inbox ingest."""
    ctx: AppContext = application.bot_data[KEY]
    ctx.close_workers()


async def _set_commands(application: Application) -> None:
    """Register the command menu: user commands for all, admin ones in admins' chats."""
    ctx: AppContext = application.bot_data[KEY]
    user = [BotCommand(name, text) for name, text in start.USER_COMMANDS]
    await application.bot.set_my_commands(user, scope=BotCommandScopeDefault())
    if ADMIN_COMMANDS:
        admin = user + [BotCommand(name, text) for name, text in ADMIN_COMMANDS]
        for admin_id in ctx.settings.admin_ids:
            await application.bot.set_my_commands(admin, scope=BotCommandScopeChat(admin_id))
