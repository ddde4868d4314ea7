"""A rehearsal of writes: sessions whose commits later ones see, none of which reach the store.

A dry run must be the real run without its commit: file two of a run must see what file one
stored (duplicates, stories), so rolling each file back on its own is not enough.

* PostgreSQL: one connection holds an outer transaction; each session's transaction is a
  SAVEPOINT inside it (``join_transaction_mode="create_savepoint"``), so a failing file rolls
  back alone, later files see earlier ones, and the outer transaction is rolled back at the
  end. Rows it inserts are invisible to everyone else.
* SQLite: a transaction held that long would lock every other writer out of the store (the
  running bot's deliveries), and pysqlite's SAVEPOINTs commit when released. So the rehearsal
  runs on a private copy of the database (SQLite's online backup, consistent while others
  write), with ordinary commits, and the copy is deleted afterwards.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.engine import make_engine, make_session_factory, sqlite_path


@contextmanager
def rehearsal(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on ``engine``'s data whose writes are all thrown away on exit.

    Args:
        engine: the store's engine.

    Yields:
        A session factory; commit as usual inside the block.
    """
    if engine.dialect.name == "sqlite":
        with _sqlite_copy(engine) as copy:
            yield copy
        return
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield sessionmaker(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        finally:
            outer.rollback()


@contextmanager
def _sqlite_copy(engine: Engine) -> Iterator[sessionmaker[Session]]:
    with tempfile.TemporaryDirectory(prefix="briefbot-dry-run-") as folder:
        copy = Path(folder) / "rehearsal.sqlite3"
        path = sqlite_path(engine.url)
        with closing(sqlite3.connect(copy)) as target:
            if path is not None:
                with closing(sqlite3.connect(path)) as source:
                    source.backup(target)
            else:  # an in-memory store lives in the engine's own connection
                with engine.connect() as connection:
                    raw = connection.connection.dbapi_connection
                    assert isinstance(raw, sqlite3.Connection)
                    raw.backup(target)
        copy_engine = make_engine(f"sqlite:///{copy}")
        try:
            yield make_session_factory(copy_engine)
        finally:
            copy_engine.dispose()
