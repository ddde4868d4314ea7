"""Store locks (storage/locks.py) on both engines, and one `briefbot run` per store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
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


@pytest.mark.slow
def test_a_second_poller_on_the_same_store_refuses_to_start(
    database_url: str, fake_api: FakeTelegram, tmp_path: Path
) -> None:
    build_context(make_settings(database_url)).sessions.kw["bind"].dispose()  # migrated
    (tmp_path / "seeds").mkdir()
    env = clean_env(
        DATABASE_URL=database_url,
        SEEDS_DIR=str(tmp_path / "seeds"),
        TELEGRAM_BOT_TOKEN=fake_api.token,
        TELEGRAM_API_BASE_URL=fake_api.base_url,
        TELEGRAM_FILE_BASE_URL=fake_api.base_file_url,
    )
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
