"""Replica slots: how many `briefbot run` processes share one PostgreSQL store's send rate.

Every process that sends to Telegram holds one of a few numbered slots, each a session-level
advisory lock (``briefbot:replica:<n>:<schema>``, storage/locks.py) on a connection of its
own. A slot vanishes with its process or connection, so counting the held slots in
``pg_locks`` tells each process how many share the rate right now. A SQLite store has one
sending process (its poller lock, storage/locks.py): its count is always 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Engine, text

from storage.errors import LockHeld, ReplicaSlotsFull
from storage.locks import StoreLock, acquire_store_lock

MAX_SLOTS = 8  # replica slots of a store (fewer when the rate is below 8 a second)

_HELD = text(
    "SELECT count(*) FROM pg_locks"
    " WHERE locktype = 'advisory' AND granted AND objsubid = 1"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND ((classid::bigint << 32) | objid::bigint) IN ("
    "  SELECT hashtext('briefbot:replica:' || n || ':' || current_schema())::bigint"
    "  FROM generate_series(0, :top) AS n)"
)


def slot_count(rate: float) -> int:
    """How many processes may share ``rate`` sends a second: each needs one a second."""
    return max(1, min(MAX_SLOTS, math.floor(rate)))


@dataclass
class ReplicaSlot:
    """This process's slot (none on SQLite); :meth:`live` counts the processes holding one."""

    engine: Engine
    slots: int
    lock: StoreLock | None = None
    number: int | None = None

    @property
    def shared(self) -> bool:
        """Whether other processes may share the store (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    def take(self) -> bool:
        """Take the first free slot; False when all are held."""
        for number in range(self.slots):
            try:
                self.lock = acquire_store_lock(self.engine, f"replica:{number}")
            except LockHeld:
                continue
            self.number = number
            return True
        return False

    def live(self) -> int:
        """The processes sharing the store now, this one included (1 on SQLite).

        Takes the slot again when its connection dropped (or another free one when another
        process got it first); a process left without a slot counts itself on top of the
        others, who do not see it.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: the database cannot be reached.
        """
        if not self.shared:
            return 1
        if self.lock is None or not self.lock.held():
            self.take()  # a lost slot was freed with its connection: nothing to release
        with self.engine.connect() as connection:
            held = int(connection.execute(_HELD, {"top": MAX_SLOTS - 1}).scalar() or 0)
        return max(1, held + (0 if self.lock is not None and not self.lock.lost else 1))

    def release(self) -> None:
        """Give the slot up (idempotent)."""
        if self.lock is not None:
            self.lock.release()


def join_replicas(engine: Engine, rate: float) -> ReplicaSlot:
    """Take one of the store's replica slots for this process (nothing to take on SQLite).

    Args:
        engine: the store's engine.
        rate: ``SEND_RATE_PER_SECOND``; at most ``slot_count(rate)`` processes share it.

    Raises:
        ReplicaSlotsFull: every slot is held by another process.
    """
    slot = ReplicaSlot(engine, slot_count(rate))
    if slot.shared and not slot.take():
        raise ReplicaSlotsFull(
            f"all {slot.slots} replica slots of this store are taken (at most "
            f"min({MAX_SLOTS}, SEND_RATE_PER_SECOND) `briefbot run` processes share one store)"
        )
    return slot
