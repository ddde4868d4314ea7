"""Process-lifetime locks on a store: one Telegram poller (or webhook server) per store.

PostgreSQL: a session-level advisory lock, keyed by the schema, held on a dedicated
connection. SQLite: ``fcntl.flock`` on a ``<database>.lock`` file next to the database.
Either lock is released when the holder calls ``release()`` or its process dies, so a
crashed server never leaves a stale lock behind. A PostgreSQL lock also ends with its
connection (a server restart, a dropped link): ``held()`` notices, takes the lock again on a
new connection, and says when another process got it first.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from storage.engine import sqlite_path
from storage.errors import LockHeld


@dataclass
class StoreLock:
    """A held lock; ``release()`` gives it up (idempotent). Keep it referenced: on
    PostgreSQL a garbage-collected lock closes its connection and so frees the lock."""

    name: str
    _release: Callable[[], None]
    _held: Callable[[], bool] = lambda: True
    lost: bool = False  # held() found another process holding it

    def release(self) -> None:
        """Give the lock up."""
        release, self._release = self._release, _nothing
        self._held = _not_held
        release()

    def held(self) -> bool:
        """Whether the lock is still ours; False once it was lost to another process.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database cannot be reached to find out
                (ask again later: nobody else can take the lock while it is down either).
        """
        if self.lost:
            return False
        kept = self._held()
        self.lost = not kept and self._release is not _nothing  # released is not lost
        return kept


def _nothing() -> None:
    """Already released."""


def _not_held() -> bool:
    return False


def acquire_store_lock(engine: Engine, name: str) -> StoreLock:
    """Take the store-wide lock ``name`` without waiting, for as long as the process runs.

    Args:
        engine: the store's engine.
        name: what the lock guards (e.g. ``"poller"``); different names never conflict.

    Raises:
        LockHeld: another process (or another holder in this one) has the lock.
    """
    if engine.dialect.name == "postgresql":
        return _advisory_lock(engine, name)
    path = sqlite_path(engine.url)
    if path is None:  # an in-memory store belongs to this process alone
        return StoreLock(name, _nothing)
    return _file_lock(f"{path}.{name}.lock", name)


_TRY_ADVISORY = text(
    "SELECT pg_try_advisory_lock(hashtext('briefbot:' || :name || ':' || current_schema()))"
)
_UNLOCK_ADVISORY = text(
    "SELECT pg_advisory_unlock(hashtext('briefbot:' || :name || ':' || current_schema()))"
)


def _advisory_lock(engine: Engine, name: str) -> StoreLock:
    advisory = _Advisory(engine, name)
    if not advisory.take():
        raise LockHeld(f"the {name} advisory lock is taken")
    # ending the session releases a session-level advisory lock
    return StoreLock(name, advisory.close, advisory.held)


@dataclass
class _Advisory:
    """A session-level advisory lock and the connection whose session holds it."""

    engine: Engine
    name: str
    connection: Connection | None = None
    released: bool = False

    def take(self) -> bool:
        """Try to take the lock on a new connection; True when it is ours."""
        connection = self.engine.connect()
        connection.detach()  # out of the pool: closing it really ends the session
        try:
            taken = bool(connection.execute(_TRY_ADVISORY, {"name": self.name}).scalar())
            connection.commit()
        except BaseException:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self.connection = connection
        return True

    def held(self) -> bool:
        """Check the session still lives; if it died with the lock, take the lock again."""
        if self.released:
            return False
        if self.connection is None:  # lost earlier while the database was away
            return self.take()
        try:
            self.connection.execute(text("SELECT 1")).scalar()
            self.connection.commit()
            return True
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        self._drop()  # the session, and so the lock, is gone
        return self.take()

    def close(self) -> None:
        """Give the lock up at once. Closing the connection alone ends the server's session
        (and its locks) a moment later, while others counting the locks still see it."""
        self.released = True
        if self.connection is not None:
            try:
                self.connection.execute(_UNLOCK_ADVISORY, {"name": self.name})
                self.connection.commit()
            except DBAPIError:
                pass  # the session is gone already, and its lock with it
        self._drop()

    def _drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.close()


def _file_lock(path: str, name: str) -> StoreLock:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LockHeld(f"{path} is locked") from None
    except BaseException:
        os.close(fd)
        raise
    return StoreLock(name, lambda: os.close(fd))
