"""Shared by the `briefbot run` benchmarks (faults.py, responsiveness.py).

A store prepared by the CLI, subscribers seeded straight into it, the documented environment
pointing a `briefbot run` subprocess at the fake Bot API (``tests/fakebot``), and the processes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]

from briefings.topics.taxonomy import load_taxonomy  # noqa: E402
from storage import deliveries  # noqa: E402
from storage.engine import make_engine  # noqa: E402
from storage.models import Chat, Delivery, JobRun, Subscription  # noqa: E402

DONE = {deliveries.SENT, deliveries.EMPTY, deliveries.FAILED, deliveries.SKIPPED}
POSTGRES_URL = os.environ.get("FAULTS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
FIRST_CHAT = 1_000_000


def run_cli(args: list[str], env: dict[str, str]) -> None:
    """Run ``briefbot <args>`` to completion; exit with its stderr when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"briefbot {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def write_news(folder: Path, articles: int, seed: int = 7, name: str = "news.jsonl") -> Path:
    """Synthetic articles (benchmarks/corpus.py) published over the last 20 hours, as JSONL.

    Enough fresh stories fill a briefing (10 stories), so most are split into several
    messages and a half-sent briefing can be seen.
    """
    from corpus import generate  # benchmarks/corpus.py

    now, rng = datetime.now(UTC), random.Random(seed)
    path = folder / name
    with path.open("w", encoding="utf-8") as out:
        for record in generate(articles, seed=seed):
            published = now - timedelta(minutes=rng.uniform(30, 20 * 60))
            out.write(json.dumps({**record, "published": published.isoformat()}) + "\n")
    return path


def ingest(env: dict[str, str], news: Path | None) -> None:
    """Ingest the seeds (and the fresh news) with the CLI, as an operator would."""
    run_cli(["ingest", str(ROOT / "seeds"), *([str(news)] if news else [])], env)


def add_subscribers(
    url: str, subscribers: int, *, first: int = FIRST_CHAT, due: datetime | None = None
) -> list[int]:
    """Add subscribers to every topic, subscribed a day ago, whose briefing time is ``due``
    (default: two minutes ago, so the next delivery run sends it)."""
    now = datetime.now(UTC)
    due = now - timedelta(minutes=2) if due is None else due
    since = now - timedelta(days=1)
    slugs = [topic.slug for topic in load_taxonomy().topics]
    chat_ids = list(range(first, first + subscribers))
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.insert(Chat), [
            {"id": c, "kind": "private", "active": True, "timezone": "UTC",
             "briefing_time": f"{due:%H:%M}", "created_at": since} for c in chat_ids
        ])  # fmt: skip
        connection.execute(sa.insert(Subscription), [
            {"chat_id": c, "kind": "topic", "key": s, "created_at": since}
            for c in chat_ids for s in slugs
        ])  # fmt: skip
    engine.dispose()
    return chat_ids


def statuses(engine: sa.Engine, first: int = FIRST_CHAT) -> Counter[str]:
    """Delivery rows of the seeded subscribers, by status."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(Delivery.status, sa.func.count())
            .where(Delivery.chat_id >= first)
            .group_by(Delivery.status)
        )
        return Counter({str(status): int(count) for status, count in rows})


@contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL schema (dropped afterwards); yields the DATABASE_URL using it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with make_engine(POSTGRES_URL).begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with make_engine(POSTGRES_URL).begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))


def bot_env(fake: Any, url: str, tmp: Path, **settings: str) -> dict[str, str]:
    """The environment of a `briefbot run` against ``fake`` (a started FakeTelegram) and
    the store ``url``; seeds and inbox are folders under ``tmp``; ``settings`` add or override."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url,
        TELEGRAM_FILE_BASE_URL=fake.base_file_url, DATABASE_URL=url,
        SEEDS_DIR=str(tmp / "seeds"), INBOX_DIR=str(tmp / "inbox"),
        ADMIN_USER_IDS="", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
    )  # fmt: skip
    env.update(settings)
    return env


class Fleet:
    """The `briefbot run` processes of one benchmark run, with their logs."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        """Start ``briefbot run`` with ``args`` (e.g. ``--deliver-only``)."""
        log = open(self.logs / f"run{len(self.procs)}.log", "wb")  # noqa: SIM115 (child's)
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *args], env=self.env, cwd=ROOT,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def tracebacks(self) -> int:
        return sum(p.read_text(errors="replace").count("Traceback") for p in self.logs.iterdir())


def _inbox_run(engine: sa.Engine) -> tuple[datetime | None, datetime | None]:
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(JobRun.started_at, JobRun.finished_at).where(JobRun.job == "inbox")
        ).first()
    return (row[0], row[1]) if row else (None, None)


class Watcher:
    """Polls the store once a second: is the fan-out done, is the dropped dump ingested."""

    def __init__(self, engine: sa.Engine, subscribers: int) -> None:
        self.engine, self.subscribers = engine, subscribers
        self.fanout_done = threading.Event()
        self.ingest_started = threading.Event()
        self.ingest_done = threading.Event()
        self.dropped_at: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> Watcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            try:
                rows = statuses(self.engine)
                if sum(rows[s] for s in DONE) >= self.subscribers:
                    self.fanout_done.set()
                if self.dropped_at is not None:
                    started, finished = _inbox_run(self.engine)
                    if started is not None and started > self.dropped_at:
                        self.ingest_started.set()
                        if finished is not None and finished >= started:
                            self.ingest_done.set()
            except sa.exc.OperationalError:  # SQLite busy under the bot's writes: next second
                continue


def drop_dump(dump: Path, inbox: Path) -> None:
    """Move the dump into the inbox at once, with an old mtime (no settle wait)."""
    old = time.time() - 60
    os.utime(dump, (old, old))
    dump.replace(inbox / dump.name)
