"""Process-lifetime locks on a store: one Telegram poller (or webhook server) per store.

PostgreSQL: a session-level advisory lock, keyed by the schema, held on a dedicated
connection. SQLite: ``fcntl.flock`` on a ``<database>.lock`` file next to the database.
Either lock is released when the holder calls ``release()`` or its process dies, so a
crashed server never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, text

from storage.engine import sqlite_path
from storage.errors import LockHeld


@dataclass
class StoreLock:
    """A held lock; ``release()`` gives it up (idempotent). Keep it referenced: on
    PostgreSQL a garbage-collected lock closes its connection and so frees the lock."""

    name: str
    _release: Callable[[], None]

    def release(self) -> None:
        """Give the lock up."""
        release, self._release = self._release, _nothing
        release()


def _nothing() -> None:
    """Already released."""


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


def _advisory_lock(engine: Engine, name: str) -> StoreLock:
    connection = engine.connect()
    connection.detach()  # out of the pool: closing it really ends the session
    try:
        taken = connection.execute(_TRY_ADVISORY, {"name": name}).scalar()
        connection.commit()
    except BaseException:
        connection.close()
        raise
    if not taken:
        connection.close()
        raise LockHeld(f"the {name} advisory lock is taken")
    # ending the session releases a session-level advisory lock
    return StoreLock(name, connection.close)


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
