"""What handlers need: the app's services, built once at start-up, and the typed PTB context.

Handlers and jobs get a :class:`BotContext` (PTB's ``ContextTypes`` pattern), whose
``context.app`` is the :class:`AppContext` (the one entry of ``bot_data``); jobs keep their state
there too, typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.ingest_process import IngestProcess
from bot.settings import Settings
from briefings.ingest import Ingestor
from briefings.topics.taxonomy import Taxonomy, load_taxonomy
from storage import documents
from storage.ingest_queue import ingest_transaction
from storage.locks import StoreLock

KEY = "briefbot"
DB_THREADS = 4  # the handlers' own database threads (the jobs use asyncio's default pool)
T = TypeVar("T")


@dataclass
class AppContext:
    """Settings, the session factory, the taxonomy, the ingest worker and per-process state."""

    settings: Settings
    sessions: sessionmaker[Session]
    taxonomy: Taxonomy
    ingestor: Ingestor
    terminal: bool = False  # the local terminal chat, not Telegram: set by build_application
    seen_chats: set[int] = field(default_factory=set)  # chats recorded since start-up
    saved_searches: dict[str, str] = field(default_factory=dict)  # pagination key -> query
    poller_lock: StoreLock | None = None  # one Telegram server per store: set by `briefbot run`
    deliver_only: bool = False  # a delivery replica (`briefbot run --deliver-only`, bot/replica.py)
    job_starts: dict[str, tuple[int, float]] = field(default_factory=dict)  # job -> (every s,
    # last start on the monotonic clock): what the scheduler watchdog reads
    inbox_seen: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime)
    ingest_process: IngestProcess = field(default_factory=IngestProcess)  # the inbox's ingests
    _db_pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in one transaction on a database thread, off the event loop.

        Every database call of a handler goes through here: the loop keeps polling and
        sending while the store answers. Handlers have their own few threads, so a reply's
        read never queues behind the delivery job's composing in asyncio's default pool.
        The transaction commits when ``work`` returns and rolls back when it raises (the
        exception reaches the caller).
        """
        if self._db_pool is None:
            self._db_pool = ThreadPoolExecutor(DB_THREADS, thread_name_prefix="briefbot-db")
        return await asyncio.get_running_loop().run_in_executor(
            self._db_pool, self._transaction, work
        )

    def _transaction(self, work: Callable[[Session], T]) -> T:
        with self.sessions() as session, session.begin():
            return work(session)

    def close_workers(self) -> None:
        """Let the database threads go (a later :meth:`db` starts new ones) and stop a
        running inbox ingest."""
        pool, self._db_pool = self._db_pool, None
        if pool is not None:
            pool.shutdown(wait=False)
        self.ingest_process.close()

    async def reload_taxonomy(self) -> Taxonomy:
        """Re-read the taxonomy files and tag new articles with them from now on.

        Raises:
            briefings.errors.TaxonomyError: a file is invalid; the running taxonomy stays.
        """

        def load_and_sync(session: Session) -> Taxonomy:
            taxonomy = load_taxonomy(extra=self.settings.topics_file)
            documents.sync_topics(session, [(t.slug, t.label) for t in taxonomy.topics])
            return taxonomy

        taxonomy = await self.db(load_and_sync)
        self.taxonomy = taxonomy
        self.ingestor.config = replace(self.ingestor.config, taxonomy=taxonomy)
        return taxonomy


def sync_topics(sessions: sessionmaker[Session], taxonomy: Taxonomy) -> None:
    """Make the store's topics table match ``taxonomy`` (under the ingest lock: workers
    starting at once would insert the same topics)."""
    with ingest_transaction(sessions) as session:
        documents.sync_topics(session, [(t.slug, t.label) for t in taxonomy.topics])


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's callback context plus the app's services (``context.app``)."""

    @property
    def app(self) -> AppContext:
        """The running application's :class:`AppContext`."""
        value: AppContext = self.application.bot_data[KEY]
        return value


CONTEXT_TYPES = ContextTypes(context=BotContext)
