"""Throughput of concurrent ``briefbot ingest`` workers on one PostgreSQL store.

Usage::

    .venv/bin/python benchmarks/concurrent_ingest.py [--n 600] [--per-file 10]
        [--workers 1,2] [--repeat 1] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Writes a synthetic corpus (benchmarks/corpus.py: real CNN/DM and BBC articles recombined,
some rewritten by another outlet so stories have several articles) as JSON Lines dumps,
then for each worker count starts that many ``briefbot ingest --format jsonl FOLDER``
processes at once over the same folder (``bot.cli.main`` with timers around deriving,
storing, waiting for the ingest lock and claiming), on a fresh PostgreSQL schema (migrated
first, not timed), and prints wall time, articles/s and files/s (wall time includes each
process's start-up: imports and loading the topic model), the same without start-up, the
timers per worker, and the machine's load average. Then it checks the store: every
article once (no content hash twice, the same set of hashes whatever the worker count),
every file stored by exactly one worker and none lost, no claim left, and story linking
(the share of same-title rewrites that joined their original's story).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.corpus import write_corpus  # noqa: E402

BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))  # for the (untimed) migration
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Run:
    """One measured run: k workers over the corpus."""

    workers: int
    seconds: float
    articles: int
    files: int
    hashes: frozenset[str]
    problems: list[str]
    shares: list[int]  # files each worker stored
    stories: int
    rewrites_linked: tuple[int, int]  # same-title pairs in one story, all such pairs
    load: tuple[float, float]  # 1-minute load average before and after
    timers: list[dict[str, float]] = field(default_factory=list)  # per worker, seconds


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    return {**env, "DATABASE_URL": url, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}


def _run(base_url: str, folder: Path, files: list[Path], workers: int) -> Run:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = f"{base_url}?options=-csearch_path%3D{schema}"
    try:
        subprocess.run([BRIEFBOT, "db", "upgrade"], env=_env(url), check=True, capture_output=True)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        command = [sys.executable, __file__, "--as-worker", str(folder)]
        procs = []
        for _ in range(workers):
            procs.append(
                subprocess.Popen(command, env=_env(url), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            )  # fmt: skip
        outputs = [proc.communicate() for proc in procs]
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()[0]
        problems = [f"worker exit {p.returncode}: {err[-300:]}" for p, (_, err) in
                    zip(procs, outputs, strict=True) if p.returncode != 0]  # fmt: skip
        reports = [[json.loads(line) for line in out.splitlines()] for out, _ in outputs]
        timers = [json.loads(err.strip().splitlines()[-1]) for _, err in outputs if err.strip()]
        run = _check(url, files, workers, seconds, reports, problems, (load_before, load_after))
        run.timers = timers
        return run
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _check(
    url: str,
    files: list[Path],
    workers: int,
    seconds: float,
    reports: list[list[dict[str, object]]],
    problems: list[str],
    load: tuple[float, float],
) -> Run:
    stored_by = Counter(
        str(r["path"]) for report in reports for r in report if r["status"] == "ingested"
    )
    for path in files:
        if stored_by[str(path)] != 1:
            problems.append(f"{path.name} stored by {stored_by[str(path)]} workers")
    errors = [r for report in reports for r in report if r["status"] == "error"]
    problems += [f"error: {r['path']}: {r['error']}" for r in errors]
    shares = [sum(1 for r in report if r["status"] == "ingested") for report in reports]
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        hashes = connection.execute(sa.text("SELECT content_hash FROM articles")).scalars().all()
        documents = connection.execute(
            sa.text("SELECT count(*) FROM source_documents WHERE status = 'ingested'")
        ).scalar_one()
        claims = connection.execute(sa.text("SELECT count(*) FROM ingest_claims")).scalar_one()
        stories = connection.execute(sa.text("SELECT count(*) FROM stories")).scalar_one()
        linked, pairs = connection.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE a.story_id = b.story_id), count(*) "
                "FROM articles a JOIN articles b ON a.title = b.title AND a.id < b.id"
            )
        ).one()
    engine.dispose()
    if len(hashes) != len(set(hashes)):
        problems.append(f"{len(hashes) - len(set(hashes))} articles stored twice")
    if documents != len(files):
        problems.append(f"{documents} documents ingested of {len(files)} files")
    if claims:
        problems.append(f"{claims} claims left behind")
    return Run(
        workers, seconds, len(hashes), len(files), frozenset(hashes), problems, shares,
        stories, (linked, pairs), load,
    )  # fmt: skip


def as_worker(folder: str) -> int:
    """One ``briefbot ingest --format jsonl FOLDER`` (``bot.cli.main``) with timers: prints
    seconds of start-up, deriving, storing, waiting for the ingest lock and claiming as the
    last line on stderr."""
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    import briefings.ingest as ingest
    import storage.ingest_queue as queue
    from bot.cli import main as cli

    timers = dict.fromkeys(("derive", "store", "lock_wait", "claim"), 0.0)

    def timed(name: str, function: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timers[name] += time.perf_counter() - began

        return run

    ingest.derive_document = timed("derive", ingest.derive_document)  # type: ignore[assignment]
    ingest.Ingestor._store = timed("store", ingest.Ingestor._store)  # type: ignore[method-assign]
    queue.IngestClaims.claim = timed("claim", queue.IngestClaims.claim)  # type: ignore[method-assign]
    execute = Session.execute
    wait = timed("lock_wait", execute)
    Session.execute = lambda self, statement, *a, **k: (  # type: ignore[method-assign]
        wait(self, statement, *a, **k) if statement is queue._INGEST_LOCK
        else execute(self, statement, *a, **k)
    )  # fmt: skip
    run = Connection.execute  # a document's writes wait for the lock on their connection
    wait_document = timed("lock_wait", run)
    Connection.execute = lambda self, statement, *a, **k: (  # type: ignore[method-assign]
        wait_document(self, statement, *a, **k) if statement is queue._INGEST_SESSION_LOCK
        else run(self, statement, *a, **k)
    )  # fmt: skip
    timers["startup"] = time.perf_counter() - STARTED
    began = time.perf_counter()
    status = cli(["ingest", "--format", "jsonl", folder])
    timers["ingest"] = time.perf_counter() - began
    print(json.dumps(timers), file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; exit 1 when a check fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=600, help="articles in the corpus")
    parser.add_argument("--per-file", type=int, default=10, help="articles per dump file")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure")
    parser.add_argument("--repeat", type=int, default=1, help="runs per worker count")
    parser.add_argument("--url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--as-worker", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/briefbot_concurrent_ingest"))
    args = parser.parse_args(argv)
    if args.as_worker:
        return as_worker(args.as_worker)
    folder = args.corpus / f"n{args.n}_p{args.per_file}"
    files = write_corpus(folder, args.n, per_file=args.per_file)
    print(f"corpus: {args.n} articles in {len(files)} files ({folder}); {os.cpu_count()} CPUs")
    runs: list[Run] = []
    for workers in (int(w) for w in args.workers.split(",")):
        for _ in range(args.repeat):
            run = _run(args.url, folder, files, workers)
            runs.append(run)
            linked, pairs = run.rewrites_linked
            print(
                f"  {workers} worker(s): {run.seconds:6.1f} s  "
                f"{run.articles / run.seconds:6.1f} articles/s  {run.files / run.seconds:5.2f} "
                f"files/s  (files per worker {run.shares}; load {run.load[0]:.2f} -> "
                f"{run.load[1]:.2f})"
            )
            span = max(t["ingest"] for t in run.timers)
            print(
                f"      without start-up ({max(t['startup'] for t in run.timers):.1f} s): "
                f"{span:.1f} s, {run.articles / span:.1f} articles/s; per worker s "
                + " | ".join(
                    ", ".join(f"{k} {t[k]:.1f}" for k in ("derive", "store", "lock_wait", "claim"))
                    for t in run.timers
                )
            )
            print(
                f"      {run.articles} articles, {run.stories} stories, same-title rewrites "
                f"in one story {linked}/{pairs}; "
                + ("checks ok" if not run.problems else "PROBLEMS: " + "; ".join(run.problems))
            )
    same = len({run.hashes for run in runs}) == 1
    print(f"same articles stored in every run: {'yes' if same else 'NO'}")
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    return 0 if same and not any(run.problems for run in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
