"""Migrated PostgreSQL schemas shared by one test session and emptied between tests.

Migrating a new schema costs about half a second; emptying a used one with one
``TRUNCATE ... RESTART IDENTITY`` costs a few milliseconds and leaves exactly what a fresh
migration leaves: every table of the newest revision, no rows but ``alembic_version``,
identities from 1. A schema that a test changed in any other way (tables added or
dropped, another revision, rows it could not empty within the lock timeout, a lock still
held) is dropped instead of reused, so no test sees another's leftovers.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from storage.engine import make_engine
from storage.schema import ensure_schema, head_revision

KEPT = "alembic_version"
LOCKS = ("poller", "ingest")  # storage.locks names whose advisory locks a test might leave


class SchemaPool:
    """Hands out migrated, empty schemas on the database at ``admin_url``."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._admin = sa.create_engine(admin_url)
        self._free: list[str] = []
        self._made: set[str] = set()
        self._tables: frozenset[str] = frozenset()

    def url(self, schema: str) -> str:
        return f"{self.admin_url}?options=-csearch_path%3D{schema}"

    def take(self) -> str:
        """A schema at the newest revision with no rows (made and migrated if none is free)."""
        if self._free:
            return self._free.pop()
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with self._admin.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        self._made.add(schema)
        engine = make_engine(self.url(schema))
        try:
            ensure_schema(engine, auto_upgrade=True)
        finally:
            engine.dispose()
        if not self._tables:
            self._tables = self._table_names(schema)
        return schema

    def give_back(self, schema: str) -> None:
        """Empty ``schema`` for the next test, or drop it if it cannot be made as new."""
        if self._reset(schema):
            self._free.append(schema)
        else:
            self._drop(schema)

    def close(self) -> None:
        for schema in list(self._made):
            self._drop(schema)
        self._admin.dispose()

    def _table_names(self, schema: str) -> frozenset[str]:
        with self._admin.connect() as connection:
            names = connection.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
            ).scalars()
            return frozenset(names)

    def _reset(self, schema: str) -> bool:
        if self._table_names(schema) != self._tables or self._locked(schema):
            return False
        tables = ", ".join(f"{schema}.{name}" for name in sorted(self._tables - {KEPT}))
        try:
            with self._admin.begin() as connection:
                connection.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
                revision = (
                    connection.execute(sa.text(f"SELECT version_num FROM {schema}.{KEPT}"))
                    .scalars()
                    .all()
                )
                if revision != [head_revision(self._admin)]:
                    return False
                connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        except sa.exc.DBAPIError:  # a test left a transaction open on it
            return False
        return True

    def _locked(self, schema: str) -> bool:
        keys = [f"briefbot:{name}:{schema}" for name in LOCKS]
        with self._admin.connect() as connection:
            held = connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND objid = ANY(SELECT hashtext(k)::oid FROM unnest(CAST(:k AS text[])) k)"
                ),
                {"k": keys},
            ).scalar_one()
        return bool(held)

    def _drop(self, schema: str) -> None:
        self._made.discard(schema)
        try:
            with self._admin.begin() as connection:
                connection.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        except sa.exc.DBAPIError:  # still in use by a test's leaked connection: leave it
            pass
