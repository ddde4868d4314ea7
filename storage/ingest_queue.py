"""Concurrent ingest workers on one store: claims on documents, and the store's ingest lock.

Several ``briefbot ingest`` processes (or inbox workers on several replicas) may be given
the same files. Each file is worked on by one of them at a time:

* **Claim** (:class:`IngestClaims`): before deriving a file's articles, the CPU-heavy part
  done outside any lock, a worker claims the file's content hash in ``ingest_claims``. The
  claim is one atomic upsert, a compare-and-set on both engines: it inserts the row, or
  takes it over when the holder's lease has run out, and does nothing while another
  worker's lease lasts. A thread renews the lease while the worker derives; the row is
  deleted when the document is stored. A killed worker stops renewing, so its file is
  taken over one lease later. Leases are compared on the workers' clocks (UTC; keep them
  in sync to within a fraction of the lease).
* **Store** (:func:`document_writes`): deduplication against the store, story linking and
  the commits of one document run under the store's ingest lock, held across the
  document's short transactions (briefings/storing.py), so a file stored after another sees
  that one's articles (exact duplicates are dropped, reports of the same event join its
  story) however the workers interleave. PostgreSQL: a session-level advisory lock on the
  connection that carries the document's transactions (the lock and the writes end
  together if it drops). SQLite (one writer anyway): ``flock`` on
  ``<database>.ingest.lock``. Smaller writes of the worker take the same lock for one
  transaction (:func:`ingest_transaction`; on PostgreSQL a transaction-level advisory lock).
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.engine import sqlite_path
from storage.models import IngestClaim

log = logging.getLogger(__name__)

_INGEST_KEY = "hashtext('briefbot:ingest:' || current_schema())"
_INGEST_LOCK = text(f"SELECT pg_advisory_xact_lock({_INGEST_KEY})")
_INGEST_SESSION_LOCK = text(f"SELECT pg_advisory_lock({_INGEST_KEY})")
# SQLite: how long a document's writer lets the write lock go between two of its
# transactions, as a share of how long it held it, within bounds. SQLite's busy handler
# polls for the lock every 1-25 ms in a writer's first 100 ms of waiting, then every 50
# and after 228 ms every 100 ms: a gap as long as the waiter's poll interval lets it in
# rather than the document's next transaction.
SQLITE_PAUSE = (0.5, 0.03, 0.1)  # (share of the hold, least, most seconds)


def worker_name() -> str:
    """This worker's name in claims: host, process id and a random token (unique per run)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class IngestClaims:
    """One worker's claims on documents of a store.

    Args:
        sessions: sessions on the store (bound to its engine).
        lease: how long a claim lasts unless renewed; renewed every third of it.
        worker: this worker's name (default: :func:`worker_name`).
    """

    def __init__(
        self, sessions: sessionmaker[Session], lease: timedelta, worker: str | None = None
    ) -> None:
        self.sessions = sessions
        self.lease = lease
        self.worker = worker or worker_name()

    def claim(self, content_hash: str) -> bool:
        """Claim a document; False while another worker's lease on it lasts."""
        now = datetime.now(UTC)
        with self.sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
            row = insert(IngestClaim).values(
                content_hash=content_hash, worker=self.worker, lease_until=now + self.lease
            )
            session.execute(
                row.on_conflict_do_update(
                    index_elements=[IngestClaim.content_hash],
                    set_={"worker": row.excluded.worker, "lease_until": row.excluded.lease_until},
                    where=or_(IngestClaim.lease_until < now, IngestClaim.worker == self.worker),
                )
            )
            holder = session.scalar(
                select(IngestClaim.worker).where(IngestClaim.content_hash == content_hash)
            )
        return holder == self.worker

    def renew(self, content_hash: str) -> bool:
        """Extend our lease on a document; False when it is no longer ours."""
        with self.sessions() as session, session.begin():
            renewed = session.execute(
                update(IngestClaim)
                .where(IngestClaim.content_hash == content_hash, IngestClaim.worker == self.worker)
                .values(lease_until=datetime.now(UTC) + self.lease)
            )
        return bool(getattr(renewed, "rowcount", 0))

    def release(self, content_hash: str) -> None:
        """Give a claim up (nothing happens if another worker took it over)."""
        with self.sessions() as session, session.begin():
            session.execute(
                delete(IngestClaim).where(
                    IngestClaim.content_hash == content_hash, IngestClaim.worker == self.worker
                )
            )

    @contextmanager
    def holding(self, content_hash: str) -> Iterator[None]:
        """Keep a claimed document's lease alive for the block, then release the claim."""
        done = threading.Event()
        keeper = threading.Thread(
            target=self._keep, args=(content_hash, done), name="ingest-lease", daemon=True
        )
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join()
            self.release(content_hash)

    def _keep(self, content_hash: str, done: threading.Event) -> None:
        while not done.wait(self.lease.total_seconds() / 3):
            try:
                if not self.renew(content_hash):
                    log.warning("ingest claim on %s was taken over", content_hash[:12])
                    return  # storing is still safe: exact duplicates are never stored twice
            except SQLAlchemyError as exc:  # try again at the next renewal
                log.warning("cannot renew the ingest claim on %s: %s", content_hash[:12], exc)


@contextmanager
def ingest_transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction under the store's ingest lock (see the module docstring).

    Args:
        sessions: sessions bound to the store's engine.

    Yields:
        A session in a transaction, committed on leaving the block without error.
    """
    bind = sessions.kw["bind"]
    path = sqlite_path(bind.url) if isinstance(bind, Engine) else None
    lock = _flock(f"{path}.ingest.lock") if path is not None else nullcontext()
    with lock, sessions() as session, session.begin():
        if bind.dialect.name == "postgresql":
            session.execute(_INGEST_LOCK)  # held until this transaction ends
        yield session


@contextmanager
def _flock(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (waiting for it) for the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the file releases the lock


@dataclass(frozen=True)
class DocumentWrites:
    """Where one document's transactions go while the store's ingest lock is held.

    Attributes:
        sessions: open each of the document's transactions with these.
        pause: (share, least, most): after a transaction that held the database for h
            seconds, let it go for ``share * h`` seconds within ``[least, most]`` (SQLite's
            one write lock: waiting writers get in); None where writers do not queue.
    """

    sessions: sessionmaker[Session]
    pause: tuple[float, float, float] | None = None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One of the document's transactions, committed on leaving the block."""
        with self.sessions() as session, session.begin():
            yield session

    def breathe(self, held: float) -> None:
        """Between two transactions, the first of which took ``held`` seconds: let other
        writers take the database."""
        if self.pause is not None:
            share, least, most = self.pause
            time.sleep(min(most, max(least, share * held)))


@contextmanager
def document_writes(sessions: sessionmaker[Session]) -> Iterator[DocumentWrites]:
    """Hold the store's ingest lock across several transactions (one document's).

    Args:
        sessions: sessions bound to the store's engine.

    Yields:
        Where to run the transactions: on PostgreSQL the lock's own connection, so a
        dropped connection ends the lock and the writes together.
    """
    bind = sessions.kw["bind"]
    if not isinstance(bind, Engine) or bind.dialect.name != "postgresql":
        path = sqlite_path(bind.url) if isinstance(bind, Engine) else None
        pause = SQLITE_PAUSE if bind.dialect.name == "sqlite" else None
        with _flock(f"{path}.ingest.lock") if path is not None else nullcontext():
            yield DocumentWrites(sessions, pause)
        return
    connection = bind.connect()
    connection.detach()  # out of the pool: closing it ends the session, and the lock
    try:
        connection.execute(_INGEST_SESSION_LOCK)  # waits for another worker's document
        connection.commit()
        yield DocumentWrites(sessionmaker(bind=connection, expire_on_commit=False))
    finally:
        connection.close()
