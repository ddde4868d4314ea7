"""Story linking benchmark: re-reports 1–7 days apart in a store of N articles (issue 15).

Usage::

    .venv/bin/python benchmarks/linking.py --sizes 10000,100000 [--engine sqlite|postgresql]
        [--reports 400] [--rate 3000] [--work /tmp/briefbot_linking]

For each size:

1. builds a store with ``storage.bulk`` (what ``benchmarks/scale.py`` uses; then VACUUM
   ANALYZE on PostgreSQL, as autovacuum would soon do): N background
   articles, ``benchmarks/corpus.py`` recombinations of the BBC dev set and the seeds at
   ``--rate`` articles a day, and among them, in time order, ``--reports`` originals: CNN/
   DailyMail dev articles through the real pipeline (``derive_document``). A background
   article's signature is the element-wise minimum of its title's and paragraphs'
   signatures (the MinHash of a union; only the few shingles across a paragraph break are
   missed), so that 1M articles take minutes to build, not the ~6 ms an article of a full
   signature;
2. writes a re-report of every original: another outlet and headline (its next highlight),
   published 1–7 days later (uniform), the text perturbed (sentences dropped, words
   replaced, a sentence added); a child process ingests them with the ``briefbot ingest``
   code (``Ingestor.ingest_paths``) and reports the time of each story lookup
   (``briefings.linker.find_story``) and its own peak RSS;
3. the reference is an unbounded all-pairs comparison: every re-report's signature against
   every stored article's, no window, no LSH. A re-report with a match (estimated Jaccard
   >= the near-duplicate threshold) is found when ingest put it into the story of one of
   its matches. The old in-memory index (the newest 2,000 articles) is estimated on the
   same pairs: found when a match is among the newest 2,000 ids and shares an LSH band.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402
import scale  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bot.app import build_context  # noqa: E402
from bot.settings import Settings  # noqa: E402
from briefings.pipeline import PipelineConfig, derive_document  # noqa: E402
from briefings.stories.duplicates import (  # noqa: E402
    DEFAULT_THRESHOLD,
    minhash_signature,
    signature_similarity,
)
from briefings.stories.linking import band_keys, link_keys  # noqa: E402
from briefings.topics.taxonomy import load_taxonomy  # noqa: E402
from storage.bulk import BulkDocument, bulk_insert  # noqa: E402
from storage.documents import NewArticle  # noqa: E402
from storage.engine import make_engine  # noqa: E402
from storage.models import Article, LinkKey  # noqa: E402

END = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
REPORTER = "Re-Report Wire"
OLD_WINDOW = 2_000  # what the in-memory index held before issue 15


def _sig(text: str, cache: dict[str, np.ndarray]) -> np.ndarray:
    values = cache.get(text)
    if values is None:
        values = np.frombuffer(minhash_signature(text), dtype="<u8")
        if len(cache) < 200_000:
            cache[text] = values
    return values


def background(n: int, rate: float, seed: int) -> Iterator[tuple[datetime, NewArticle]]:
    """The background articles, oldest first, with signatures and link keys."""
    bases = corpus.load_bases(cnndm=Path("/nonexistent"))  # BBC and seeds: no CNN/DM text
    taxonomy = load_taxonomy(use_model=False)
    topics: dict[str, list[tuple[str, float]]] = {}
    cache: dict[str, np.ndarray] = {}
    seen: set[str] = set()
    for record in corpus.generate(n, seed=seed, end=END, days=n / rate, bases=bases):
        new = corpus.bulk_article(record, taxonomy, topics)
        if new.content_hash in seen:
            continue
        seen.add(new.content_hash)
        parts = [new.title, *new.body.split("\n\n")]
        signature = np.minimum.reduce([_sig(part, cache) for part in parts]).astype("<u8")
        sig = signature.tobytes()
        assert new.published is not None
        yield new.published, replace(new, minhash=sig, link_keys=link_keys(new.title, sig))


def _sentences(text: str) -> list[str]:
    return [s for s in corpus._SENTENCE.split(text.strip()) if s.strip()]


def originals(count: int, seed: int) -> list[dict[str, Any]]:
    """CNN/DM articles as originals (time, record) and the re-report of each."""
    rng = random.Random(seed)
    rows = [json.loads(line) for line in corpus.CNNDM.open(encoding="utf-8")]
    vocabulary = [w for row in rows[:50] for w in row["article"].split()[:200]]
    out = []
    for row in rows[:count]:
        highlights = [h.strip().rstrip(".") for h in row["highlights"].split("\n") if h.strip()]
        if len(highlights) < 2:
            continue
        body = row["article"].removeprefix("(CNN)")
        days = rng.uniform(1, 7)
        reported = END - timedelta(days=rng.uniform(0, 0.5))
        when = reported - timedelta(days=days)
        sentences = _sentences(body)
        drop = rng.uniform(0.0, 0.3)
        kept = [s for s in sentences if rng.random() >= drop] or sentences[:3]
        swap = rng.uniform(0.0, 0.05)
        words = [
            rng.choice(vocabulary) if rng.random() < swap else w for w in " ".join(kept).split()
        ]
        added = rng.choice(_sentences(rng.choice(rows)["article"]) or ["More to follow."])
        rewritten = " ".join(words) + " " + added
        out.append(
            {
                "when": when,
                "days": days,
                "original": {"title": highlights[0], "text": body, "source": "CNN",
                             "published": when.isoformat()},
                "report": {"title": highlights[1], "text": rewritten, "source": REPORTER,
                           "published": reported.isoformat()},
            }
        )  # fmt: skip
    return out


def build(url: str, size: int, cases: list[dict[str, Any]], rate: float, seed: int) -> float:
    """Bulk-load the background and the originals in time order; return seconds taken."""
    config = PipelineConfig(taxonomy=load_taxonomy(use_model=False))
    derived = []
    for case in cases:
        data = (json.dumps(case["original"]) + "\n").encode()
        derived.append((case["when"], derive_document("o.jsonl", data, config)[0]))
    derived.sort(key=lambda item: item[0])

    def documents() -> Iterator[BulkDocument]:
        uids: set[str] = set()
        for _, new in _merge(background(size, rate, seed), derived):
            if new.uid in uids:  # a headline the corpus repeated for one outlet
                continue
            uids.add(new.uid)
            story = len(uids) - 1
            yield BulkDocument(f"b{story}", f"b{story}.jsonl", None, [(new, story)])

    start = time.perf_counter()
    engine = make_engine(url)
    try:
        build_context(Settings(database_url=url)).sessions.kw["bind"].dispose()  # migrate
        bulk_insert(engine, documents())
        if engine.dialect.name == "postgresql":  # what autovacuum does soon after a bulk load
            with engine.connect() as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.exec_driver_sql("VACUUM ANALYZE")
    finally:
        engine.dispose()
    return time.perf_counter() - start


def _merge(
    a: Iterator[tuple[datetime, NewArticle]], b: list[tuple[datetime, NewArticle]]
) -> Iterator[tuple[datetime, NewArticle]]:
    """Both streams in time order (``b`` sorted)."""
    rest = iter(b)
    nxt = next(rest, None)
    for item in a:
        while nxt is not None and nxt[0] <= item[0]:
            yield nxt
            nxt = next(rest, None)
        yield item
    while nxt is not None:
        yield nxt
        nxt = next(rest, None)


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM; ru_maxrss would include the parent's at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(url: str, folder: Path, out: Path) -> int:
    """The ingest worker: ingest ``folder`` as ``briefbot ingest`` does, time the lookups."""
    from briefings import ingest

    times: list[float] = []
    find_story = ingest.find_story

    def timed(*args: Any, **kwargs: Any) -> int | None:
        start = time.perf_counter()
        try:
            return find_story(*args, **kwargs)
        finally:
            times.append(time.perf_counter() - start)

    ingest.find_story = timed  # type: ignore[assignment]
    ctx = build_context(Settings(database_url=url, seeds_dir=ROOT / "seeds"))
    start = time.perf_counter()
    report = ctx.ingestor.ingest_paths([folder])
    seconds = time.perf_counter() - start
    rss = peak_rss_mib()
    out.write_text(json.dumps({"times": times, "seconds": seconds, "rss": rss,
                               "stored": report.stored, "errors": len(report.errors)}))  # fmt: skip
    return 0


def reference(url: str, threshold: float = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """All pairs: each re-report's matches among every other stored article."""
    engine = make_engine(url)
    with engine.connect() as connection:
        reports = connection.execute(
            sa.select(Article.id, Article.story_id, Article.minhash).where(
                Article.source == REPORTER
            )
        ).all()
        first_report = min(r.id for r in reports)
        signatures = np.stack([np.frombuffer(r.minhash, dtype="<u8") for r in reports])
        need = int(np.ceil(threshold * signatures.shape[1]))
        matches: list[list[tuple[int, int, bytes]]] = [[] for _ in reports]
        last = 0
        while True:
            rows = connection.execute(
                sa.select(Article.id, Article.story_id, Article.minhash)
                .where(Article.id > last, Article.id < first_report)
                .order_by(Article.id)
                .limit(50_000)
            ).all()
            if not rows:
                break
            last = rows[-1].id
            chunk = np.stack([np.frombuffer(r.minhash, dtype="<u8") for r in rows])
            for i, sig in enumerate(signatures):
                hits = np.nonzero((chunk == sig).sum(axis=1) >= need)[0]
                matches[i].extend((rows[h].id, rows[h].story_id, rows[h].minhash) for h in hits)
        keys = connection.scalar(sa.select(sa.func.count()).select_from(LinkKey))
    engine.dispose()
    positives = [(r, m) for r, m in zip(reports, matches, strict=True) if m]
    found = sum(1 for r, m in positives if r.story_id in {story for _, story, _ in m})
    old = banded = 0
    missed: list[float] = []
    for r, m in positives:
        bands = set(band_keys(r.minhash))
        recent = [sig for i, _, sig in m if i >= first_report - OLD_WINDOW]
        old += any(bands & set(band_keys(sig)) for sig in recent)
        banded += any(bands & set(band_keys(sig)) for _, _, sig in m)
        if r.story_id not in {story for _, story, _ in m}:
            missed.append(max(signature_similarity(r.minhash, sig) for _, _, sig in m))
    return {"reports": len(reports), "positives": len(positives), "found": found,
            "old": old, "banded": banded, "missed": sorted(missed), "link_keys": keys}  # fmt: skip


def run(engine: str, size: int, args: argparse.Namespace) -> dict[str, Any]:
    """Build, ingest the re-reports in a child, compare with all pairs."""
    name = f"link_{engine}_{size}"
    url = scale.fresh_url(engine, name, args.work, keep=False)
    cases = originals(args.reports, args.seed)
    build_seconds = build(url, size, cases, args.rate, args.seed)
    folder = args.work / f"{name}_reports"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for k in range(0, len(cases), 50):
        lines = [json.dumps(c["report"]) for c in cases[k : k + 50]]
        (folder / f"reports-{k:04d}.jsonl").write_text("\n".join(lines) + "\n")
    out = args.work / f"{name}.json"
    subprocess.run([sys.executable, __file__, "--worker", url, str(folder), str(out)], check=True)
    child = json.loads(out.read_text())
    ref = reference(url)
    return {"engine": engine, "size": size, "build_s": build_seconds, **child, **ref}


def main(argv: list[str] | None = None) -> int:
    """Print linking recall, lookup time and worker RSS per store size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--engine", default="sqlite", help="sqlite or postgresql")
    parser.add_argument("--reports", type=int, default=400)
    parser.add_argument("--rate", type=float, default=3000, help="articles a day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=Path("/tmp/briefbot_linking"))
    parser.add_argument("--worker", nargs=3, metavar=("URL", "FOLDER", "OUT"))
    args = parser.parse_args(argv)
    if args.worker:
        url, folder, out = args.worker
        return worker(url, Path(folder), Path(out))
    args.work.mkdir(parents=True, exist_ok=True)
    engine = {"postgresql": "postgres"}.get(args.engine, args.engine)
    print(f"{'engine':8} {'articles':>9} {'build s':>8} {'keys':>10} {'matched':>8} "
          f"{'recall':>7} {'old idx':>7} {'link p50':>9} {'p95 ms':>7} {'ingest/art':>10} "
          f"{'worker RSS':>10}")  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",")):
        r = run(engine, size, args)
        p = scale.percentiles(r["times"])
        print(
            f"{r['engine']:8} {r['size']:>9} {r['build_s']:>8.0f} {r['link_keys']:>10} "
            f"{r['positives']:>4}/{r['reports']:<3} {r['found'] / r['positives']:>7.1%} "
            f"{r['old'] / r['positives']:>7.1%} {p['p50']:>7.1f}ms {p['p95']:>7.1f} "
            f"{r['seconds'] / max(1, r['stored']) * 1000:>8.0f}ms {r['rss']:>7.0f}MiB",
            flush=True,
        )
        if r["errors"]:
            print(f"  {r['errors']} files failed to ingest")
        print(f"  unbounded LSH (any time, shares a band): {r['banded'] / r['positives']:.1%}; "
              f"similarity of the missed: {[round(x, 2) for x in r['missed']]}")  # fmt: skip
        print(f"  mean lookup {statistics.fmean(r['times']) * 1000:.1f} ms over "
              f"{len(r['times'])} lookups")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
