"""Scale benchmark: ingest, latency, throughput, relevance and memory at 10k–100k articles.

Usage::

    .venv/bin/python benchmarks/scale.py --engines sqlite,postgres --sizes 10000,100000
        [--full-ingest 10000] [--seed 7] [--work /tmp/briefbot_scale] [--keep]

For each engine and size, in a fresh child process (so peak RSS is that run's own):

1. builds (or reuses) the synthetic corpus of ``benchmarks/corpus.py`` under /tmp;
2. ingests the first ``--full-ingest`` articles through the full pipeline
   (``Ingestor.ingest_paths``: parse, clean, summarise, tag, dedupe, store) and reports
   that rate; the rest is bulk-loaded through the same storage functions
   (``storage.documents``) with a cheap derivation (first sentences as summary, the
   taxonomy's topics, stories linked by headline), one transaction per file;
3. reports DB size, p50/p95/p99 latency of the ``/latest``, ``/search`` (200 fixed
   queries) and ``/topics`` service calls (each in its own session, as handlers do),
   ``/search`` throughput through ``Application.process_update`` with a no-op transport,
   a naive ``LIKE '%q%'`` scan over the same queries, and peak RSS.

``--relevance`` (on by default) also measures title-search relevance: the CNN/DM dev
articles (title = first sentence of the first highlight, CNN/DM has no headlines) and
the BBC dev articles (real headlines) are ingested into their own store, and each
article's title is searched: the share where that article ranks first is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bot.app import build_application, build_context  # noqa: E402
from bot.context import AppContext  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.terminal import TerminalRequest, message_update  # noqa: E402
from briefings import browse as service  # noqa: E402

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
LIKE_QUERIES = 50


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p95/p99 of latencies given in seconds, returned in milliseconds."""
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}


def fresh_url(engine: str, name: str, work: Path, keep: bool) -> str:
    """A database URL for ``name``: a SQLite file, or a PostgreSQL schema."""
    if engine == "sqlite":
        path = work / f"{name}.sqlite3"
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        if not keep:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {name}"))
    admin.dispose()
    return f"{POSTGRES_URL}?options=-csearch_path%3D{name}"


def db_size_mb(ctx: AppContext) -> float:
    """On-disk size of the store (SQLite file + WAL, or the PostgreSQL schema's relations)."""
    engine = ctx.sessions.kw["bind"]
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        total = sum(
            Path(str(path) + s).stat().st_size for s in ("", "-wal") if Path(str(path) + s).exists()
        )
        return total / 2**20
    with engine.connect() as connection:
        size = connection.execute(
            sa.text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            )
        ).scalar()
    return float(size or 0) / 2**20


def timed(ctx: AppContext, calls: Sequence[Callable[..., object]]) -> list[float]:
    """Run each call in its own session (as a handler does); return the durations."""
    out = []
    for call in calls:
        start = time.perf_counter()
        with ctx.sessions() as session:
            call(session)
        out.append(time.perf_counter() - start)
    return out


def like_scan(ctx: AppContext, queries: list[str], *, newest: bool) -> list[float]:
    """Latency of a naive substring scan for each query.

    Args:
        ctx: the store.
        queries: the search texts, matched as one ``%q%`` substring of title or body.
        newest: stop at the 6 newest matches (walking the time index) instead of
            finding every match, as ranking them would need.
    """
    dialect = ctx.sessions.kw["bind"].dialect.name
    op = "ILIKE" if dialect == "postgresql" else "LIKE"
    matches = f"title {op} :p OR body {op} :p"
    sql = sa.text(
        f"SELECT id FROM articles WHERE {matches} ORDER BY sort_time DESC LIMIT 6"
        if newest
        else f"SELECT id FROM articles WHERE {matches}"
    )

    def scan(session: Any, query: str) -> object:
        return session.execute(sql, {"p": f"%{query}%"}).all()

    return timed(ctx, [partial(scan, query=q) for q in queries])


async def handler_throughput(ctx: AppContext, queries: list[str]) -> float:
    """Updates/s for ``/search`` through ``Application.process_update`` (no-op transport)."""
    from telegram import Update

    with open(os.devnull, "w") as devnull:
        application = build_application(ctx.settings, ctx, request=TerminalRequest(devnull))
        async with application:
            updates = [
                Update.de_json(message_update(i + 1, f"/search {q}"), application.bot)
                for i, q in enumerate(queries)
            ]
            start = time.perf_counter()
            for update in updates:
                await application.process_update(update)
            elapsed = time.perf_counter() - start
    return len(updates) / elapsed


def settings_for(url: str, args: argparse.Namespace) -> Settings:
    """Settings for a benchmark store (the packaged taxonomy unless --topics-file)."""
    return Settings(database_url=url, seeds_dir=ROOT / "seeds", topics_file=args.topics_file)


def relevance(engine: str, args: argparse.Namespace) -> dict[str, float]:
    """Share of dev articles that rank first when their own title is searched."""
    from storage.search import search_articles

    out: dict[str, float] = {}
    sets = {
        "cnndm": [
            {"title": corpus.cnndm_title(r["highlights"]), "text": r["article"], "source": "CNN"}
            for r in map(json.loads, corpus.CNNDM.read_text().splitlines())
        ],
        "bbc": [
            {"title": r["title"], "text": r["text"], "source": "BBC News"}
            for r in map(json.loads, corpus.BBC.read_text().splitlines())
        ],
    }
    for name, rows in sets.items():
        url = fresh_url(engine, f"relevance_{name}", args.work, keep=False)
        ctx = build_context(settings_for(url, args))
        # the n-th article of each headline goes to dump n: within one dump (source,
        # headline) stays unique, which ingest needs
        dumps: list[list[dict[str, str]]] = []
        occurrences: dict[str, int] = {}
        for row in rows:
            n = occurrences.get(row["title"], 0)
            occurrences[row["title"]] = n + 1
            if n == len(dumps):
                dumps.append([])
            dumps[n].append(row)
        paths = []
        for n, chunk in enumerate(dumps):
            paths.append(args.work / f"relevance_{name}_{n}.jsonl")
            paths[-1].write_text("".join(json.dumps(r) + "\n" for r in chunk))
        ctx.ingestor.ingest_paths(paths)
        with ctx.sessions() as session:
            by_title: dict[str, set[int]] = {}
            for article_id, title in session.execute(sa.text("SELECT id, title FROM articles")):
                by_title.setdefault(" ".join(title.casefold().split()), set()).add(article_id)
            first = total = 0
            for row in rows:
                wanted = by_title.get(" ".join(row["title"].casefold().split()))
                if not wanted or len(wanted) > 1 or occurrences[row["title"]] > 1:
                    continue  # dropped as a duplicate at ingest, or a shared headline
                total += 1
                hits = search_articles(session, row["title"], limit=1)
                first += bool(hits and hits[0].article_id in wanted)
        out[name] = first / total if total else 0.0
        out[f"{name}_n"] = total
        ctx.sessions.kw["bind"].dispose()
    return out


def run_one(engine: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Build (or reuse) one store and measure it; print figures as they come."""
    files = corpus.write_corpus(
        Path(args.corpus) / f"s{args.seed}_n{size}", size, seed=args.seed, per_file=1000
    )
    name = f"bench_{engine}_{size}"
    marker = args.work / f"{name}.done"
    keep = args.keep and marker.exists()
    url = fresh_url(engine, name, args.work, keep)
    ctx = build_context(settings_for(url, args))
    result: dict[str, Any] = {"engine": engine, "size": size}
    if keep:
        result.update(json.loads(marker.read_text()))
        print(f"[{engine} {size}] reusing the store built earlier", flush=True)
    else:
        full = files[: max(1, min(size, args.full_ingest) // 1000)]
        start = time.perf_counter()
        report = ctx.ingestor.ingest_paths(full)
        elapsed = time.perf_counter() - start
        result["full_articles"] = report.stored
        result["ingest_rate"] = report.stored / elapsed
        result["ingest_errors"] = len(report.errors)
        print(
            f"[{engine} {size}] full pipeline: {report.stored} articles in {elapsed:.1f}s "
            f"= {result['ingest_rate']:.0f} articles/s ({report.summary_line()})",
            flush=True,
        )
        start = time.perf_counter()
        bulk = corpus.bulk_load(ctx.sessions, ctx.taxonomy, files[len(full) :])
        elapsed = time.perf_counter() - start
        result["bulk_articles"] = bulk
        result["bulk_rate"] = bulk / elapsed if bulk else 0.0
        result["ingest_rss_mb"] = rss_mb()
        print(
            f"[{engine} {size}] bulk-loaded the other {bulk} articles via storage.documents "
            f"in {elapsed:.1f}s; peak RSS {result['ingest_rss_mb']:.0f} MB",
            flush=True,
        )
        if engine == "postgres":  # what autovacuum does soon after a bulk load
            with ctx.sessions.kw["bind"].connect() as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.exec_driver_sql("VACUUM ANALYZE")
        marker.write_text(json.dumps(result))
    with ctx.sessions() as session:
        result["articles"] = session.scalar(sa.text("SELECT count(*) FROM articles"))
    result["db_mb"] = db_size_mb(ctx)
    queries = corpus.search_queries(200, seed=args.seed)
    topics = [None] + [t.slug for t in ctx.taxonomy.topics]
    latest_calls = [
        partial(service.latest, topic=topics[i % len(topics)], page=(i // len(topics)) % 3)
        for i in range(200)
    ]
    now = corpus.DEFAULT_END
    workloads: list[tuple[str, Sequence[Callable[..., object]]]] = [
        ("latest", latest_calls),
        ("search", [partial(service.search, text=q) for q in queries]),
        ("topics", [partial(service.topics_overview, taxonomy=ctx.taxonomy, now=now)] * 100),
    ]
    for label, calls in workloads:
        timed(ctx, calls[:10])  # warm caches
        result[label] = percentiles(timed(ctx, calls))
        print(f"[{engine} {size}] /{label}: " + _fmt(result[label]), flush=True)
    for label, count, newest in (("like_newest", LIKE_QUERIES, True), ("like_all", 20, False)):
        sample = queries[:count]
        ranked = timed(ctx, [partial(service.search, text=q) for q in sample])
        naive = like_scan(ctx, sample, newest=newest)
        result[label] = percentiles(naive)
        ratio = statistics.mean(naive) / statistics.mean(ranked)
        result[f"{label}_ratio"] = ratio
        result[f"{label}_ratio_median"] = statistics.median(naive) / statistics.median(ranked)
        what = "the newest 6 matches" if newest else "every match"
        print(
            f"[{engine} {size}] naive LIKE '%q%' scan for {what} (first {count} queries): "
            f"{_fmt(result[label])}; ranked /search is {ratio:.0f}x faster in total time "
            f"({result[f'{label}_ratio_median']:.0f}x at the median)",
            flush=True,
        )
    result["updates_per_s"] = asyncio.run(handler_throughput(ctx, queries))
    print(f"[{engine} {size}] /search via process_update: {result['updates_per_s']:.0f} updates/s")
    result["rss_mb"] = rss_mb()
    ctx.sessions.kw["bind"].dispose()
    return result


def _fmt(p: dict[str, float]) -> str:
    return f"p50 {p['p50']:.2f} ms, p95 {p['p95']:.2f} ms, p99 {p['p99']:.2f} ms"


def summary(results: list[dict[str, Any]], rel: dict[str, dict[str, float]]) -> Iterator[str]:
    """The final table (p95 in ms; LIKE6/LIKE: how many times faster ranked search is
    than a LIKE scan for the 6 newest matches / for every match, in total time)."""
    yield ""
    yield (
        f"{'engine':8} {'size':>7} {'ingest/s':>8} {'DB MB':>7} {'latest p95':>10} "
        f"{'search p95':>10} {'topics p95':>10} {'LIKE6 x':>7} {'LIKE x':>6} {'upd/s':>6} "
        f"{'RSS MB':>6}"
    )
    for r in results:
        yield (
            f"{r['engine']:8} {r['size']:>7} {r.get('ingest_rate', 0):>8.0f} "
            f"{r['db_mb']:>7.0f} {r['latest']['p95']:>10.2f} {r['search']['p95']:>10.2f} "
            f"{r['topics']['p95']:>10.2f} {r['like_newest_ratio']:>7.0f} "
            f"{r['like_all_ratio']:>6.0f} {r['updates_per_s']:>6.0f} "
            f"{r.get('ingest_rss_mb', 0):>6.0f}"
        )
    for engine, figures in rel.items():
        yield (
            f"title search relevance on {engine}: CNN/DM {figures['cnndm']:.1%} of "
            f"{figures['cnndm_n']:.0f} (title = first highlight sentence), BBC "
            f"{figures['bbc']:.1%} of {figures['bbc_n']:.0f} (real headlines) rank first"
        )


def main(argv: list[str] | None = None) -> int:
    """Run every (engine, size) in a child process and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--full-ingest", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/briefbot_scale"))
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/briefbot_corpus"))
    parser.add_argument("--keep", action="store_true", help="reuse stores built earlier")
    parser.add_argument("--topics-file", type=Path, help="extra taxonomy TOML (TOPICS_FILE)")
    parser.add_argument("--no-relevance", dest="relevance", action="store_false")
    parser.add_argument("--child", nargs=2, metavar=("ENGINE", "SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.child:
        engine, size = args.child
        result = (
            relevance(engine, args) if size == "relevance" else run_one(engine, int(size), args)
        )
        args.out.write_text(json.dumps(result))
        return 0
    results, rel = [], {}
    passthrough = [f"--full-ingest={args.full_ingest}", f"--seed={args.seed}"]
    passthrough += [f"--work={args.work}", f"--corpus={args.corpus}"]
    passthrough += ["--keep"] if args.keep else []
    passthrough += [f"--topics-file={args.topics_file}"] if args.topics_file else []
    for engine in args.engines.split(","):
        jobs = args.sizes.split(",") + (["relevance"] if args.relevance else [])
        for size in jobs:
            out = args.work / f"result_{uuid.uuid4().hex[:8]}.json"
            command = [sys.executable, __file__, "--child", engine, size, f"--out={out}"]
            subprocess.run(command + passthrough, check=True)
            data = json.loads(out.read_text())
            out.unlink()
            if size == "relevance":
                rel[engine] = data
            else:
                results.append(data)
    print("\n".join(summary(results, rel)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
