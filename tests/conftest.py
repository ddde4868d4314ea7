"""Shared fixtures: real SQLite and PostgreSQL stores, a seeded store, the fake Bot API."""

from __future__ import annotations

import functools
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from fakebot import FakeTelegram, fake_api, fake_app  # noqa: F401  (fixtures)
from pgpool import SchemaPool

from bot.settings import Settings
from storage.engine import make_engine
from storage.schema import ensure_schema

if TYPE_CHECKING:
    from telegram import Bot

    from bot.context import AppContext
    from storage.models import Article

# The application (bot.app and all it imports: seconds of CPU) is imported inside the
# fixtures that build it, so that pytest-xdist's controller, which loads this file
# before it starts any worker, does not pay for it.

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_configure(config: pytest.Config) -> None:
    """Keep the rewritten test modules in ``__pycache__`` as pytest does by default.

    With ``PYTHONDONTWRITEBYTECODE`` set (as on some machines), every worker of every run
    rewrote and compiled the asserts of every test module again: about 4 s of CPU a worker.
    """
    sys.dont_write_bytecode = False


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than there are processors (``--maxprocesses`` caps it).

    Many tests wait on sockets, subprocesses or timers; the extra worker runs meanwhile.
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still overrides it.
    """
    wanted = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "")
    if wanted.isdigit():
        return int(wanted)
    usable = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return (len(usable) if usable else os.cpu_count() or 1) + 1  # no affinity on macOS


@functools.cache
def _postgres_available() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return str(exc).splitlines()[0]


def _require_postgres() -> None:
    """Skip without PostgreSQL; when CI=true fail instead."""
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema, dropped afterwards.

    When CI=true and PostgreSQL is unreachable the test fails instead of skipping.
    """
    _require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each engine in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def _schema_pool() -> Iterator[SchemaPool]:
    pool = SchemaPool(POSTGRES_URL)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrated") / "store.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine, auto_upgrade=True)
    engine.dispose()
    return path


def _migrated(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = folder / "store.sqlite3"
        shutil.copy(request.getfixturevalue("_migrated_template"), path)
        yield f"sqlite:///{path}"
        return
    _require_postgres()
    pool: SchemaPool = request.getfixturevalue("_schema_pool")
    schema = pool.take()
    try:
        yield pool.url(schema)
    finally:
        pool.give_back(schema)


@pytest.fixture(params=["sqlite", "postgres"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store at the newest revision on each engine in turn, as a fresh migration
    leaves it (SQLite: a copy of one migrated file; PostgreSQL: a pooled schema, emptied)."""
    yield from _migrated(request, tmp_path)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_migrated_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``migrated_url``, shared by one module's tests (for stores they only read)."""
    yield from _migrated(request, tmp_path_factory.mktemp("module"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file URL."""
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for tests: the given store, the repo's seeds, no Telegram."""
    base = Settings(database_url=database_url, seeds_dir=SEEDS, admin_ids=frozenset({777}))
    return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def _empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from bot.app import build_context

    path = tmp_path_factory.mktemp("empty") / "store.sqlite3"
    build_context(make_settings(f"sqlite:///{path}")).sessions.kw["bind"].dispose()
    return path


@pytest.fixture
def ctx(_empty_template: Path, tmp_path: Path) -> AppContext:
    """An AppContext on an empty SQLite store (a copy of one migrated once a session)."""
    from bot.app import build_context

    path = tmp_path / "store.sqlite3"
    shutil.copy(_empty_template, path)
    return build_context(make_settings(f"sqlite:///{path}"))


@pytest.fixture(scope="session")
def _seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store holding the seeds as ``briefbot ingest seeds`` stores them (once a
    session; tests get copies or read it)."""
    from bot.cli import main

    path = tmp_path_factory.mktemp("seeded") / "store.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite:///{path}")
        mp.setenv("SEEDS_DIR", str(SEEDS))
        mp.delenv("TELEGRAM_BOT_TOKEN", raising=False)
        assert main(["ingest", str(SEEDS)]) == 0
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        statuses = connection.execute(sa.text("SELECT path, status FROM source_documents"))
        assert {status for _, status in statuses} == {"ingested"}
        # main() leaves its engine to process exit: fold the WAL into the file we copy
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


@pytest.fixture(scope="session")
def seed_articles(_seeded_template: Path) -> list[Article]:
    """The seed articles as ``briefbot ingest seeds`` stores them, read back once a session.

    Detached from their session, with their topics loaded: for tests that only read them.
    """
    from sqlalchemy.orm import Session, selectinload

    from storage.models import Article

    engine = make_engine(f"sqlite:///{_seeded_template}")
    query = sa.select(Article).options(selectinload(Article.topics)).order_by(Article.id)
    with Session(engine) as session:
        articles = list(session.scalars(query))
        session.expunge_all()
    engine.dispose()
    return articles


@pytest.fixture
def seeded_ctx(_seeded_template: Path, tmp_path: Path) -> AppContext:
    """An AppContext on a private copy of a SQLite store holding the ingested seeds."""
    from bot.app import build_context

    path = tmp_path / "seeded.sqlite3"
    shutil.copy(_seeded_template, path)
    return build_context(make_settings(f"sqlite:///{path}"))


@pytest.fixture
async def bot(fake_api: FakeTelegram) -> AsyncIterator[Bot]:  # noqa: F811 (fixture arg)
    """A PTB Bot talking to the fake Bot API (room for concurrent sends)."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.app import tls_context

    request = HTTPXRequest(connection_pool_size=16, httpx_kwargs={"verify": tls_context()})
    async with Bot(fake_api.token, base_url=fake_api.base_url, request=request) as bot:
        yield bot
