"""What handlers need: the app's services, built once at start-up, and the typed PTB context.

Handlers and jobs get a :class:`BotContext` (PTB's ``ContextTypes`` pattern), whose
``context.app`` is the :class:`AppContext` (the one entry of ``bot_data``); jobs keep their state
there too, typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.settings import Settings
from briefings.ingest import Ingestor
from briefings.topics.taxonomy import Taxonomy, load_taxonomy
from storage import documents
from storage.ingest_queue import ingest_transaction
from storage.locks import StoreLock

KEY = "briefbot"


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

    def reload_taxonomy(self) -> Taxonomy:
        """Re-read the taxonomy files and tag new articles with them from now on.

        Raises:
            briefings.errors.TaxonomyError: a file is invalid; the running taxonomy stays.
        """
        taxonomy = load_taxonomy(extra=self.settings.topics_file)
        sync_topics(self.sessions, taxonomy)
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
