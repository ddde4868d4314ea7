"""How long other writers wait for the store while `briefbot ingest` stores a large document.

A `briefbot ingest` subprocess (``python -m bot ingest``, at ``--nice``, as the inbox child
runs) stores one dump of ``--articles`` fresh synthetic articles (benchmarks/corpus.py) into
a store that holds the seeds and 150 fresh articles. Meanwhile a probe, standing for the
bot's small writes (delivery progress, the scheduler's job store, a chat's first contact),
updates one chat row every ``--every`` seconds on its own connection with a short lock wait
(SQLite busy timeout ``--busy-timeout``, default 0.25 s like bot/jobstore.py). Prints the
ingest's wall time and articles stored, and the probe's writes while the ingest ran: p50,
p95 and max time to commit, and how many failed with ``database is locked``.

    .venv/bin/python benchmarks/ingest_lock.py                      # SQLite, 2,000 articles
    .venv/bin/python benchmarks/ingest_lock.py --project /work/main # another checkout's code
    .venv/bin/python benchmarks/ingest_lock.py --engine postgresql
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import sqlalchemy as sa
from botrun import ROOT, ingest, postgres_schema, write_news  # benchmarks/botrun.py
from sqlalchemy.exc import OperationalError

PROBE_CHAT = 42


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Probe:
    """Updates one chat row every ``every`` seconds, timing each commit."""

    def __init__(self, url: str, busy_timeout: float, every: float) -> None:
        args = {"timeout": busy_timeout} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=args)
        self.every = every
        self.waits: list[float] = []  # ms to commit
        self.locked = 0
        self.stop = threading.Event()
        with self.engine.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO chats (id, kind, active, created_at) VALUES (:id, 'private', "
                        "true, CURRENT_TIMESTAMP)"), {"id": PROBE_CHAT},
            )  # fmt: skip
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.wait(self.every):
            n += 1
            began = time.perf_counter()
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        sa.text("UPDATE chats SET title = :title WHERE id = :id"),
                        {"title": f"probe {n}", "id": PROBE_CHAT},
                    )
            except OperationalError:
                self.locked += 1
                continue
            self.waits.append((time.perf_counter() - began) * 1000.0)


class Reader:
    """Runs a search (storage/search.py, as /search does) every ``every`` seconds, timing
    each; samples taken once the dump's document row exists count as "while storing"."""

    def __init__(self, url: str, every: float) -> None:
        from corpus import search_queries  # benchmarks/corpus.py

        from storage.engine import make_engine, make_session_factory

        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)
        self.queries = search_queries(50)
        self.every = every
        self.deriving: list[float] = []
        self.storing: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from storage.models import SourceDocument
        from storage.search import search_articles

        n = 0
        while not self.stop.wait(self.every):
            n += 1
            with self.sessions() as session:
                storing = session.scalar(
                    sa.select(SourceDocument.id).where(SourceDocument.path.endswith("dump.jsonl"))
                )
                began = time.perf_counter()
                search_articles(session, self.queries[n % len(self.queries)])
                took = (time.perf_counter() - began) * 1000.0
            (self.storing if storing else self.deriving).append(took)


def _figures(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"{len(values)}: p50 {statistics.median(values):.0f} ms, p95 "
        f"{percentile(values, 0.95):.0f} ms, max {max(values):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--articles", type=int, default=2000, help="articles in the dump")
    parser.add_argument("--busy-timeout", type=float, default=0.25, help="probe's lock wait, s")
    parser.add_argument("--every", type=float, default=0.05, help="seconds between probe writes")
    parser.add_argument("--nice", type=int, default=10, help="the ingest's niceness")
    parser.add_argument("--project", type=Path, default=ROOT, help="checkout whose code ingests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-lock-") as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        if args.engine == "postgresql":
            url = stack.enter_context(postgres_schema("ingestlock"))
        else:
            url = f"sqlite:///{tmp / 'store.sqlite3'}"
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(args.project)}
        env.pop("TELEGRAM_BOT_TOKEN", None)
        ingest(env, write_news(tmp, 150))
        dump = write_news(tmp, args.articles, seed=1207, name="dump.jsonl")
        probe = Probe(url, args.busy_timeout, args.every)
        stack.callback(probe.engine.dispose)
        print(
            f"ingest lock  engine {args.engine}  dump {args.articles} articles  nice "
            f"{args.nice}  probe every {args.every:g} s, busy timeout {args.busy_timeout:g} s  "
            f"code {args.project}",
            flush=True,
        )
        reader = Reader(url, args.every * 4)
        stack.callback(reader.engine.dispose)
        probe.thread.start()
        reader.thread.start()
        began = time.monotonic()
        done = subprocess.run(
            ["nice", "-n", str(args.nice), sys.executable, "-m", "bot", "ingest", str(dump)],
            env=env, cwd=args.project, capture_output=True, text=True, check=False,
        )  # fmt: skip
        took = time.monotonic() - began
        probe.stop.set()
        reader.stop.set()
        probe.thread.join()
        reader.thread.join()
        if done.returncode != 0:
            raise SystemExit(f"briefbot ingest failed:\n{done.stderr[-2000:]}")
        summary = [line for line in done.stdout.splitlines() if line.strip()][-1:]
        print(f"ingest: {took:.1f} s; {' '.join(summary)}")
        waits = probe.waits
        if waits:
            print(
                f"probe writes during the ingest: {len(waits) + probe.locked}; committed "
                f"{len(waits)}: p50 {statistics.median(waits):.0f} ms, p95 "
                f"{percentile(waits, 0.95):.0f} ms, max {max(waits):.0f} ms; "
                f"database is locked: {probe.locked}"
            )
        else:
            print(f"probe writes: none committed; database is locked: {probe.locked}")
        print(f"searches while deriving {_figures(reader.deriving)}")
        print(f"searches while storing {_figures(reader.storing)}")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
