"""Store locks (storage/locks.py) on both engines, and one `briefbot run` per store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from clirun import BRIEFBOT, assert_refused, clean_env
from conftest import make_settings
from fakebot import FakeTelegram

from bot.app import build_context
from storage.engine import make_engine
from storage.errors import LockHeld
from storage.locks import acquire_store_lock

HOLDER = """
import sys, time
from storage.engine import make_engine
from storage.locks import acquire_store_lock
lock = acquire_store_lock(make_engine(sys.argv[1]), "poller")  # kept: a dropped lock is freed
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_holder_is_refused_until_the_first_releases(database_url: str) -> None:
    first_engine, second_engine = make_engine(database_url), make_engine(database_url)
    lock = acquire_store_lock(first_engine, "poller")
    with pytest.raises(LockHeld, match="poller"):  # the message names the lock
        acquire_store_lock(second_engine, "poller")
    other = acquire_store_lock(second_engine, "other")  # different names never conflict
    other.release()
    lock.release()
    lock.release()  # idempotent
    again = acquire_store_lock(second_engine, "poller")
    again.release()
    first_engine.dispose()
    second_engine.dispose()


@pytest.mark.slow
def test_a_killed_holder_leaves_no_stale_lock(database_url: str) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url], stdout=subprocess.PIPE, text=True
    )
    engine = make_engine(database_url)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(LockHeld):
            acquire_store_lock(engine, "poller")
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 10  # PostgreSQL notices the dropped session promptly
    while True:
        try:
            acquire_store_lock(engine, "poller").release()
            break
        except LockHeld:
            assert time.monotonic() < deadline, "the dead holder's lock was never released"
            time.sleep(0.1)
    engine.dispose()


def test_an_in_memory_store_needs_no_lock() -> None:
    engine = make_engine("sqlite://")
    acquire_store_lock(engine, "poller").release()
    acquire_store_lock(engine, "poller").release()


def _server_env(url: str, fake: FakeTelegram, tmp_path: Path) -> dict[str, str]:
    """A migrated store at ``url`` and the settings of a `briefbot run` against ``fake``."""
    build_context(make_settings(url)).sessions.kw["bind"].dispose()
    (tmp_path / "seeds").mkdir()
    return clean_env(
        DATABASE_URL=url,
        SEEDS_DIR=str(tmp_path / "seeds"),
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        TELEGRAM_FILE_BASE_URL=fake.base_file_url,
    )


@pytest.mark.slow
def test_a_second_poller_on_the_same_store_refuses_to_start(
    database_url: str, fake_api: FakeTelegram, tmp_path: Path
) -> None:
    env = _server_env(database_url, fake_api, tmp_path)
    first = subprocess.Popen(
        [BRIEFBOT, "run"], env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not fake_api.calls("getUpdates"):  # the first one is polling
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline, "the first poller never polled"
            time.sleep(0.2)
        second = subprocess.run(
            [BRIEFBOT, "run"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        line = assert_refused(second, "DATABASE_URL")
        assert "another `briefbot run`" in line
        assert fake_api.token not in line
        assert first.poll() is None  # the first one keeps serving
    finally:
        os.kill(first.pid, signal.SIGINT)
        _, first_err = first.communicate(timeout=60)
    assert "Conflict" not in first_err


_LOCK_BACKEND = sa.text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
    " AND ((classid::bigint << 32) | objid::bigint)"
    " = hashtext('briefbot:poller:' || current_schema())::bigint"
)


def _lock_backends(engine: sa.Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.execute(_LOCK_BACKEND).scalars())


def _drop_lock_connection(engine: sa.Engine) -> None:
    """Kill the session that holds the poller lock, as a server restart or lost link does."""
    [pid] = _lock_backends(engine)
    with engine.connect() as connection:
        # waits (up to 10 s) for the session to end, and so for the lock to be free
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})


def test_a_dropped_lock_connection_takes_the_lock_again_or_says_it_was_lost(
    postgres_url: str,
) -> None:
    engine, other_engine = make_engine(postgres_url), make_engine(postgres_url)
    lock = acquire_store_lock(engine, "poller")
    assert lock.held() and len(_lock_backends(other_engine)) == 1
    _drop_lock_connection(other_engine)
    assert _lock_backends(other_engine) == []  # the lock went with its session
    assert lock.held() and not lock.lost  # taken again on a new connection
    with pytest.raises(LockHeld):
        acquire_store_lock(other_engine, "poller")
    _drop_lock_connection(other_engine)
    other = acquire_store_lock(other_engine, "poller")  # someone else got it first
    assert not lock.held() and lock.lost
    assert not lock.held()  # stays lost: it never takes a lock another process holds
    other.release()
    lock.release()
    engine.dispose()
    other_engine.dispose()


WATCHED_RUN = """
import sys
import bot.jobs
bot.jobs.WATCHDOG_EVERY = 1  # the real watchdog, checking every second
from bot.cli import main
sys.exit(main(["run"]))
"""


@pytest.mark.slow
def test_a_server_whose_lock_went_to_another_stops_and_says_why(
    postgres_url: str, fake_api: FakeTelegram, tmp_path: Path
) -> None:
    env = _server_env(postgres_url, fake_api, tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-c", WATCHED_RUN], env=env, cwd=tmp_path, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    engine = make_engine(postgres_url)
    try:
        deadline = time.monotonic() + 60
        while not fake_api.calls("getUpdates"):
            assert server.poll() is None, server.communicate()[1]
            assert time.monotonic() < deadline, "the server never polled"
            time.sleep(0.2)
        _drop_lock_connection(engine)
        deadline = time.monotonic() + 30
        while not _lock_backends(engine):  # the watchdog takes it again
            assert time.monotonic() < deadline, "the lock was not taken again"
            time.sleep(0.2)
        assert server.poll() is None
        other = None
        deadline = time.monotonic() + 30
        while other is None:  # drop it and take it before the watchdog does
            assert time.monotonic() < deadline, "could not take the lock from the server"
            _drop_lock_connection(engine)
            try:
                other = acquire_store_lock(engine, "poller")
            except LockHeld:
                time.sleep(0.1)
        _, err = server.communicate(timeout=60)
        assert server.returncode == 1, err
        assert "another server took over the store's poller lock" in err
        assert "Traceback" not in err and fake_api.token not in err
        other.release()
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
        engine.dispose()
