"""Scale benchmark: ingest, latency, throughput, relevance and memory at 10k–1M articles.

Usage::

    .venv/bin/python benchmarks/scale.py --engine sqlite|postgresql|sqlite,postgres
        --sizes 10000,100000,1000000
        [--full-ingest 10000] [--seed 7] [--work /tmp/briefbot_scale] [--keep]

For each engine and size, in a fresh child process (so peak RSS is that run's own):

1. builds (or reuses) the synthetic corpus of ``benchmarks/corpus.py`` under /tmp;
2. ingests the first ``--full-ingest`` articles (0: none) through the full pipeline
   (``Ingestor.ingest_paths``: parse, clean, summarise, tag, dedupe, store) and reports
   that rate; the rest is bulk-loaded by ``storage.bulk`` (executemany on SQLite, COPY on
   PostgreSQL, indexes, full-text index and topic counts built once, the migrations'
   schema restored) with a cheap derivation (first sentences as summary, the taxonomy's
   topics of the base article, stories linked by headline);
3. reports DB size, p50/p95/p99 latency of the ``/latest``, ``/search`` (200 fixed
   queries plus ``COMMON_QUERIES``, which are mostly very common words; those are also
   reported on their own), ``/topics`` and ``/brief`` (composed for a new chat, rolled
   back) service calls, each in its own session as handlers do; ``/search`` throughput
   through ``Application.process_update`` with a no-op transport; a naive ``LIKE '%q%'``
   scan over the same queries; the own-title check on 200 sampled articles of the big
   store; and peak RSS.

``--relevance`` (on by default) also measures relevance on the dev sets, each ingested
into its own store (``benchmarks/relevance.py``): the own-title share (CNN/DM titles
are the first highlight sentence, BBC titles are real headlines) and a judged check
(CNN/DM highlights as queries for their own article: success@1/@5, MRR@10), with and
without stop words.
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
import relevance as relevance_checks  # noqa: E402  (benchmarks/relevance.py)
import sqlalchemy as sa  # noqa: E402

from bot.app import build_application, build_context  # noqa: E402
from bot.context import AppContext  # noqa: E402
from bot.digest import brief_messages  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.terminal import TerminalRequest, message_update  # noqa: E402
from briefings import browse as service  # noqa: E402
from storage import chats  # noqa: E402

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
LIKE_QUERIES = 50
# queries made mostly of very common words: their cost must not follow those words' doclists
COMMON_QUERIES = [
    "yet-to-be-named city", "the state of the union", "what is the best way to go",
    "a man who was in the house", "the cost of living", "it is not the end of the world",
    "one of the best", "to be or not to be", "the people of the city", "what will happen next",
]  # fmt: skip


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
    """Own-title and judged (highlight) relevance on the dev sets (``benchmarks/relevance.py``)."""
    out: dict[str, float] = {}
    for name, rows in relevance_checks.eval_sets().items():
        url = fresh_url(engine, f"relevance_{name}", args.work, keep=False)
        ctx = build_context(settings_for(url, args))
        paths, occurrences = relevance_checks.write_dumps(name, rows, args.work)
        ctx.ingestor.ingest_paths(paths)
        with ctx.sessions() as session:
            out.update(relevance_checks.measure(session, name, rows, occurrences))
        ctx.sessions.kw["bind"].dispose()
    return out


def brief_call(session: Any, chat_id: int, taxonomy: Any) -> object:
    """Compose /brief for a new chat (all topics) at the corpus's end; write nothing."""
    chats.ensure_chat(session, chat_id, kind="private")
    messages = brief_messages(session, chat_id=chat_id, taxonomy=taxonomy, now=corpus.DEFAULT_END)
    session.rollback()
    return messages


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
        full = files[: min(size, args.full_ingest) // 1000]
        if full:
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
            f"[{engine} {size}] bulk-loaded the other {bulk} articles via storage.bulk "
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
    common = [partial(service.search, text=q) for q in COMMON_QUERIES]
    workloads: list[tuple[str, Sequence[Callable[..., object]]]] = [
        ("latest", latest_calls),
        ("search", [partial(service.search, text=q) for q in queries] + common * 2),
        ("search_common", common * 4),
        ("topics", [partial(service.topics_overview, taxonomy=ctx.taxonomy, now=now)] * 100),
        (
            "brief",
            [partial(brief_call, chat_id=10**6 + i, taxonomy=ctx.taxonomy) for i in range(40)],
        ),
    ]
    for label, calls in workloads:
        timed(ctx, calls[:10])  # warm caches
        result[label] = percentiles(timed(ctx, calls))
        print(f"[{engine} {size}] /{label}: " + _fmt(result[label]), flush=True)
    likes = (("like_newest", LIKE_QUERIES, True), ("like_all", 20, False)) if args.like else ()
    for label, count, newest in likes:
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
    result.update(relevance_checks.title_at_scale(ctx.sessions, seed=args.seed))
    print(
        f"[{engine} {size}] own title first at scale: {result['title_at_scale']:.1%} "
        f"of {result['title_at_scale_n']:.0f} sampled articles (every word kept: "
        f"{result['title_at_scale_all_words']:.1%}; synthetic titles can be part of longer ones)",
        flush=True,
    )
    result["updates_per_s"] = asyncio.run(handler_throughput(ctx, queries + COMMON_QUERIES))
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
        f"{'engine':8} {'size':>7} {'bulk/s':>7} {'DB MB':>7} {'latest p95':>10} "
        f"{'search p95':>10} {'common p95':>10} {'topics p95':>10} {'brief p95':>9} "
        f"{'LIKE6 x':>7} {'upd/s':>6} {'RSS MB':>6}"
    )
    for r in results:
        yield (
            f"{r['engine']:8} {r['size']:>7} {r.get('bulk_rate', 0):>7.0f} "
            f"{r['db_mb']:>7.0f} {r['latest']['p95']:>10.2f} {r['search']['p95']:>10.2f} "
            f"{r['search_common']['p95']:>10.2f} {r['topics']['p95']:>10.2f} "
            f"{r['brief']['p95']:>9.2f} {r.get('like_newest_ratio', 0):>7.0f} "
            f"{r['updates_per_s']:>6.0f} {r['rss_mb']:>6.0f}"
        )
    for engine, f in rel.items():
        yield (
            f"title search relevance on {engine}: CNN/DM {f['cnndm']:.1%} of "
            f"{f['cnndm_n']:.0f} (title = first highlight sentence), BBC "
            f"{f['bbc']:.1%} of {f['bbc_n']:.0f} (real headlines) rank first"
        )
        for label, what in (("stop", "stop words left out (the product)"), ("all", "every word")):
            yield (
                f"judged relevance on {engine}, {f['cnndm_judged_n']:.0f} CNN/DM highlights as "
                f"queries, {what}: success@1 {f[f'cnndm_judged_{label}_s1']:.1%}, success@5 "
                f"{f[f'cnndm_judged_{label}_s5']:.1%}, MRR@10 {f[f'cnndm_judged_{label}_mrr']:.3f}"
            )


def main(argv: list[str] | None = None) -> int:
    """Run every (engine, size) in a child process and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--engines", "--engine", default="sqlite,postgres", help="sqlite, postgresql or both"
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--full-ingest", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/briefbot_scale"))
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/briefbot_corpus"))
    parser.add_argument("--keep", action="store_true", help="reuse stores built earlier")
    parser.add_argument("--topics-file", type=Path, help="extra taxonomy TOML (TOPICS_FILE)")
    parser.add_argument("--no-relevance", dest="relevance", action="store_false")
    parser.add_argument(
        "--no-like", dest="like", action="store_false", help="skip the naive LIKE scans"
    )
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
    passthrough += [] if args.like else ["--no-like"]
    passthrough += [f"--topics-file={args.topics_file}"] if args.topics_file else []
    engines = [{"postgresql": "postgres"}.get(e, e) for e in args.engines.split(",")]
    for engine in engines:
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
