"""Quality and speed of extractive summarisers on CNN/DailyMail (dev half).

Usage::

    .venv/bin/python benchmarks/summaries.py [--summarizer briefbot,lead,lexrank]
        [--data PATH] [--limit N] [--n 3]
    .venv/bin/python benchmarks/summaries.py --stream 100000 [--summarizer briefbot]

Scoring follows /work/shared/eval/README.md exactly: rouge-score
``RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)``, reference =
the highlights, candidate = the chosen sentences joined by newlines, mean F1 × 100.
Speed counts only summarisation (sentence splitting included), not scoring; one
warm-up pass over the first articles runs first so lazy set-up is not timed.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from briefings.summarise import SUMMARIZERS, summarise

DEFAULT_DATA = Path("/work/shared/eval/summaries/cnndm_dev.jsonl")


def load(path: Path, limit: int | None) -> list[dict[str, str]]:
    """Read the JSONL evaluation file (``article``, ``highlights`` per line)."""
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return rows[:limit] if limit else rows


def evaluate(rows: list[dict[str, str]], method: str, n: int) -> dict[str, float]:
    """Summarise every article with ``method``; return ROUGE F1s and articles/s."""
    from rouge_score import rouge_scorer

    for row in rows[:20]:  # warm-up: lazy splitter/stemmer set-up is not timed
        summarise(row["article"], n, method=method)
    candidates = []
    start = time.perf_counter()
    for row in rows:
        candidates.append(summarise(row["article"], n, method=method))
    elapsed = time.perf_counter() - start
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeLsum": 0.0}
    for row, chosen in zip(rows, candidates, strict=True):
        scores = scorer.score(row["highlights"], "\n".join(chosen))
        for key in totals:
            totals[key] += scores[key].fmeasure
    result = {key: 100.0 * value / len(rows) for key, value in totals.items()}
    result["articles_per_s"] = len(rows) / elapsed
    return result


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def stream(rows: list[dict[str, str]], method: str, total: int, n: int) -> None:
    """Summarise ``total`` synthetic articles (recycled dev articles, each made
    unique by a counter sentence) and print peak RSS at intervals."""
    every = max(total // 10, 1)
    start = time.perf_counter()
    for i in range(total):
        row = rows[i % len(rows)]
        text = f"{row['article']} Report number {i} was filed by desk {i % 97}."
        summarise(text, n, method=method)
        if (i + 1) % every == 0 or i == 0:
            rate = (i + 1) / (time.perf_counter() - start)
            print(
                f"{i + 1:>9} articles  peak RSS {peak_rss_mb():7.1f} MiB  {rate:7.1f} art/s",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the benchmark, print one line per summariser."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--summarizer",
        default="briefbot,lead,lexrank",
        help=f"comma-separated names from: {', '.join(SUMMARIZERS)}",
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--n", type=int, default=3, help="sentences per summary")
    parser.add_argument(
        "--stream",
        type=int,
        default=None,
        metavar="N",
        help="memory test: summarise N recycled articles, print peak RSS",
    )
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.summarizer.split(",") if m.strip()]
    unknown = [m for m in methods if m not in SUMMARIZERS]
    if unknown:
        parser.error(f"unknown summarizer(s) {unknown}; choose from {', '.join(SUMMARIZERS)}")
    rows = load(args.data, args.limit)
    if args.stream:
        stream(rows, methods[0], args.stream, args.n)
        return 0
    print(f"{len(rows)} articles from {args.data}, {args.n} sentences, mean F1 x 100")
    print(f"{'summarizer':<10} {'R1':>6} {'R2':>6} {'RLsum':>6} {'art/s':>9}")
    results = {}
    for method in methods:
        r = evaluate(rows, method, args.n)
        results[method] = r
        print(
            f"{method:<10} {r['rouge1']:6.2f} {r['rouge2']:6.2f} {r['rougeLsum']:6.2f} "
            f"{r['articles_per_s']:9.1f}",
            flush=True,
        )
    if "briefbot" in results and "lexrank" in results:
        ratio = results["briefbot"]["articles_per_s"] / results["lexrank"]["articles_per_s"]
        print(f"speed ratio briefbot/lexrank: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
