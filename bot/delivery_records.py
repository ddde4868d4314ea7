"""The delivery log's writes after a send, and the retry that makes them land.

What Telegram already accepted must be recorded, or the message is resent once the claim's
lease expires. A store error on the way (SQLite ``database is locked`` while an ingest
writes, a dropped PostgreSQL connection) is therefore retried with backoff
(:meth:`DeliveryConfig.record_delay`: 0.5 s doubling, at most 5 s and a tenth of the lease)
until the write lands, and the worker sends nothing else meanwhile. Each attempt renews the
lease with the current time; the claim token still guards the row, so a write that lands
after another worker took the claim over returns False and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from bot.delivery_config import DeliveryConfig
from storage import chat_state
from storage import deliveries as log_
from storage.deliveries import Claim

log = logging.getLogger(__name__)


async def until_landed(write: Callable[[], bool], config: DeliveryConfig) -> bool:
    """Run ``write()`` on a thread until it raises no transient store error; its result.

    Args:
        write: one transaction; False when the claim was lost.
        config: the backoff (``record_delay``).
    """
    failures = 0
    while True:
        try:
            return await asyncio.to_thread(write)
        except DBAPIError as exc:
            if not transient(exc):
                raise
            failures += 1
            delay = config.record_delay(failures)
            if failures == 1 or failures % 10 == 0:
                log.warning("delivery record not written (%s); retry %d in %.1f s",
                            first_line(exc), failures, delay)  # fmt: skip
            await asyncio.sleep(delay)


def transient(exc: DBAPIError) -> bool:
    """A locked SQLite file or a lost connection: the same write may land when retried."""
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)


def first_line(exc: DBAPIError) -> str:
    """The driver's message, first line only (for a one-line log)."""
    text = str(exc.orig).strip()
    return text.splitlines()[0] if text else type(exc.orig).__name__


# the writes: (session, now, *args) -> False when the claim was lost
def progress(session: Session, now: datetime, claim: Claim, sent: int) -> bool:
    return log_.record_progress(session, claim, sent, now)


def deferral(session: Session, now: datetime, claim: Claim, until: datetime, why: str) -> bool:
    return log_.defer(session, claim, until, why)


def finished(session: Session, now: datetime, claim: Claim, status: str, error: str | None) -> bool:
    return log_.finish(session, claim, status, now, error)


def blocked(session: Session, now: datetime, claim: Claim, error: str) -> bool:
    chat_state.set_chat_active(session, claim.chat_id, False)
    return log_.finish(session, claim, log_.FAILED, now, error)
