"""What handlers need, built once at start-up and stored in ``application.bot_data``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import ContextTypes

from bot.settings import Settings
from briefings.ingest import Ingestor
from briefings.topics import Taxonomy

KEY = "briefbot"


@dataclass
class AppContext:
    """Settings, the session factory, the taxonomy and the ingest worker."""

    settings: Settings
    sessions: sessionmaker[Session]
    taxonomy: Taxonomy
    ingestor: Ingestor


def app_context(context: ContextTypes.DEFAULT_TYPE | Any) -> AppContext:
    """Return the AppContext of the running application."""
    value: AppContext = context.application.bot_data[KEY]
    return value
