"""Engine and session factory from a database URL (SQLite default, PostgreSQL scale path)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StoreNotReady, StoreUnavailable

DEFAULT_DATABASE_URL = "sqlite:///data/briefbot.sqlite3"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
CONNECT_TIMEOUT_SECONDS = 10
_EXAMPLES = "use sqlite:///path/to/file.sqlite3 or postgresql://user@host:5432/dbname"


def normalise_url(url: str) -> str:
    """Return ``url`` with PostgreSQL URLs pointed at the psycopg 3 driver.

    Args:
        url: a SQLAlchemy URL or a plain ``postgres://``/``postgresql://`` URL.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str = DEFAULT_DATABASE_URL, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite files get their folder created, WAL mode and foreign keys.

    Args:
        url: database URL; ``sqlite:///path`` or ``postgresql://…``.
        echo: log every SQL statement (debugging).
    """
    sa_url = make_url(normalise_url(url))
    if sa_url.get_backend_name() == "sqlite":
        database = sa_url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(sa_url, echo=echo)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = (
        {} if "connect_timeout" in sa_url.query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )
    return create_engine(sa_url, echo=echo, pool_pre_ping=True, connect_args=connect_args)


def parse_url(url: str) -> URL:
    """Parse a database URL, refusing what briefbot cannot use.

    Args:
        url: the configured database URL.

    Raises:
        StoreUnavailable: the URL is malformed or names an unsupported database.
    """
    try:
        sa_url = make_url(normalise_url(url))
    except ArgumentError:
        raise StoreUnavailable(f"{url!r} is not a database URL; {_EXAMPLES}") from None
    backend = sa_url.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise StoreUnavailable(f"{backend} is not supported; {_EXAMPLES}")
    return sa_url


def sqlite_path(sa_url: URL) -> Path | None:
    """Return the file of a SQLite URL; None for in-memory stores and other engines."""
    database = sa_url.database or ""
    if sa_url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return None if database.startswith("file:") else Path(database).expanduser()


def open_engine(url: str, *, create: bool) -> Engine:
    """Create an engine for a configured URL and connect once, or explain in one line why not.

    Only the default ``./data`` folder is ever created; any other missing folder is a typo.

    Args:
        url: the configured database URL.
        create: the caller may create a new SQLite file; when False a missing file is
            refused (read-only commands must not leave an empty store behind).

    Raises:
        StoreUnavailable: malformed, unsupported, unreachable, missing folder, not writable.
        StoreNotReady: ``create`` is False and the SQLite file does not exist.
    """
    sa_url = parse_url(url)
    path = sqlite_path(sa_url)
    if path is not None:
        _check_sqlite_path(path, create=create, default=url == DEFAULT_DATABASE_URL)
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        engine.dispose()
        raise StoreUnavailable(_connect_problem(sa_url, exc)) from None
    return engine


def _check_sqlite_path(path: Path, *, create: bool, default: bool) -> None:
    folder = path.parent
    if not path.exists():
        if not create:
            raise StoreNotReady(
                f"there is no store at {path} yet: run `briefbot db upgrade` or "
                "`briefbot ingest PATH` first"
            )
        if not folder.is_dir():
            if not default:
                raise StoreUnavailable(
                    f"the folder {folder} does not exist; create it or fix the path"
                )
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(f"cannot create {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise StoreUnavailable(
            f"{path} is not writable (SQLite writes its file and journal in {folder}); "
            "fix the permissions or point the URL at a writable folder"
        )


def _connect_problem(sa_url: URL, exc: DBAPIError) -> str:
    reason = re.sub(r"\s+", " ", str(exc.orig)).strip()
    reason = reason.removeprefix("connection failed: ")
    path = sqlite_path(sa_url)
    if path is not None:
        return f"cannot open {path}: {reason}; check the path and that its folder is writable"
    where = sa_url.render_as_string(hide_password=True)
    missing = re.search(r'database "([^"]+)" does not exist', reason)
    if missing:
        return (
            f"the database {missing.group(1)!r} does not exist on that server; create it "
            f"(createdb {missing.group(1)}) or fix the URL ({where})"
        )
    reason = reason.split(" Is the server running")[0]  # psycopg's hint: we give our own
    return f"cannot connect to {where}: {reason}; start the server or fix the URL"


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)
