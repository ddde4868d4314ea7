"""Alembic migrations run from code: ``briefbot db upgrade`` and the start-up schema check."""

from __future__ import annotations

from functools import cache
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from storage.errors import SchemaOutOfDate, StoreNotReady


def alembic_config(engine: Engine) -> Config:
    """Build an Alembic config for our packaged migrations, bound to ``engine``."""
    config = _bare_config()
    config.attributes["engine"] = engine
    return config


def _bare_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    return config


@cache
def _scripts() -> ScriptDirectory:
    """The packaged migration scripts, read once a process (they ship with the code)."""
    return ScriptDirectory.from_config(_bare_config())


def head_revision(engine: Engine) -> str | None:
    """Return the newest migration revision this code ships."""
    return _scripts().get_current_head()


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database schema to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(engine), revision)


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> None:
    """Make sure the schema is current: upgrade it, or refuse with a clear message.

    Args:
        engine: the application's engine.
        auto_upgrade: upgrade an old schema in place; when False raise instead.

    Raises:
        SchemaOutOfDate: the schema is old and ``auto_upgrade`` is off, or the
            database was written by a newer version of briefbot.
    """
    current, head = _known_revisions(engine)
    if current == head:
        return
    if not auto_upgrade:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current or 'none'} but this version needs "
            f"{head}: run `briefbot db upgrade` (or set DB_AUTO_UPGRADE=1)"
        )
    upgrade(engine)


def require_schema(engine: Engine) -> None:
    """Check that the schema is current without writing anything (read-only commands).

    Args:
        engine: the application's engine.

    Raises:
        StoreNotReady: the store is empty or its schema is older than this code.
        SchemaOutOfDate: the database was written by a newer version of briefbot.
    """
    current, head = _known_revisions(engine)
    if current == head:
        return
    state = "has no schema yet" if current is None else f"is at schema revision {current}"
    raise StoreNotReady(
        f"the store {state} (this version needs {head}) and this command does not write: "
        "run `briefbot db upgrade` or `briefbot ingest PATH` first"
    )


def _known_revisions(engine: Engine) -> tuple[str | None, str | None]:
    """Return (current, head), refusing a revision newer than this code knows."""
    current, head = current_revision(engine), head_revision(engine)
    if current is None or current == head:
        return current, head
    if current not in {rev.revision for rev in _scripts().walk_revisions()}:
        raise SchemaOutOfDate(
            f"the database schema is at revision {current}, which this version of briefbot "
            f"does not know (newest known: {head}); upgrade briefbot"
        )
    return current, head
