"""What handlers need, built once at start-up and stored in ``application.bot_data``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import ContextTypes

from bot.settings import Settings
from briefings.ingest import Ingestor
from briefings.topics.taxonomy import Taxonomy, load_taxonomy
from storage import documents

KEY = "briefbot"


@dataclass
class AppContext:
    """Settings, the session factory, the taxonomy and the ingest worker."""

    settings: Settings
    sessions: sessionmaker[Session]
    taxonomy: Taxonomy
    ingestor: Ingestor

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
    """Make the store's topics table match ``taxonomy``."""
    with sessions() as session, session.begin():
        documents.sync_topics(session, [(t.slug, t.label) for t in taxonomy.topics])


def app_context(context: ContextTypes.DEFAULT_TYPE | Any) -> AppContext:
    """Return the AppContext of the running application."""
    value: AppContext = context.application.bot_data[KEY]
    return value
