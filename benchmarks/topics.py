"""Topic-tagging quality and speed on the BBC News corpus (five categories).

Usage:
    .venv/bin/python benchmarks/topics.py [--data bbc_dev.jsonl] [--no-model]
        [--extra my_topics.toml] [--errors N]

Each article (title + text) is classified with the default taxonomy. Its category is
the best-scoring *subject* topic, mapped onto the BBC categories:

    business, trade        -> business
    technology, ai         -> tech
    politics               -> politics
    sport                  -> sport
    entertainment          -> entertainment

Regional topics (world, us, uk, europe, china, …) and the subjects the BBC set does not
have (science, health, climate, security, crime) are ignored: a BBC "business" story
about China is still judged by its subject. An article with no mapped topic above the
threshold counts as "none" (always wrong). Prints per-class precision/recall/F1,
macro-F1 (and the forced-choice macro-F1, where the best subject topic counts even under
the threshold) and articles per second.

Then the multi-label view, which is what a reader sees: every topic ``classify`` files
the story under counts. Per category, precision and recall of "filed under a topic that
maps to it"; the mean number of topics per story; and the false subject topics (mapped
topics other than the article's category) per story.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from briefings.topics.taxonomy import Taxonomy, load_taxonomy

DEFAULT_DATA = Path("/work/shared/eval/topics/bbc_dev.jsonl")
CATEGORIES = ("business", "entertainment", "politics", "sport", "tech")
MAPPING = {
    "business": "business",
    "trade": "business",
    "technology": "tech",
    "ai": "tech",
    "politics": "politics",
    "sport": "sport",
    "entertainment": "entertainment",
}


def predict(taxonomy: Taxonomy, title: str, text: str, *, forced: bool = False) -> str:
    """Return the BBC category of the best mapped topic, or "none".

    With ``forced``, the threshold is ignored: the best mapped topic wins even when the
    tagger would not assign it (a closed-set classifier's answer).
    """
    if forced:
        scores = dict(zip(taxonomy.slugs, taxonomy.scores(title, text), strict=True))
        best = max(MAPPING, key=lambda s: (scores.get(s, -1.0), s))
        return MAPPING[best] if scores.get(best, 0.0) > 0 else "none"
    for slug, _score in taxonomy.classify(title, text):
        if slug in MAPPING:
            return MAPPING[slug]
    return "none"


def f1_report(gold: list[str], pred: list[str]) -> tuple[float, dict[str, tuple[float, ...]]]:
    """Return macro-F1 and {category: (precision, recall, f1, support)}."""
    per: dict[str, tuple[float, ...]] = {}
    for cat in CATEGORIES:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == cat and p == cat)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != cat and p == cat)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == cat and p != cat)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[cat] = (prec, rec, f1, tp + fn)
    return sum(v[2] for v in per.values()) / len(CATEGORIES), per


def multilabel(taxonomy: Taxonomy, rows: list[dict[str, str]]) -> None:
    """Print per-category precision/recall of every filed topic, topics and false ones per story."""
    filed = [[slug for slug, _ in taxonomy.classify(r["title"], r["text"])] for r in rows]
    mapped = [{MAPPING[s] for s in slugs if s in MAPPING} for slugs in filed]
    gold = [r["category"] for r in rows]
    print("multi-label (every filed topic):")
    print(f"{'category':<14}{'prec':>7}{'rec':>7}")
    for cat in CATEGORIES:
        tp = sum(1 for m, g in zip(mapped, gold, strict=True) if cat in m and g == cat)
        fp = sum(1 for m, g in zip(mapped, gold, strict=True) if cat in m and g != cat)
        fn = sum(1 for m, g in zip(mapped, gold, strict=True) if cat not in m and g == cat)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        print(f"{cat:<14}{prec:7.3f}{rec:7.3f}")
    false = [len(m - {g}) for m, g in zip(mapped, gold, strict=True)]
    print(
        f"topics per story {sum(map(len, filed)) / len(rows):.2f}; false subject topics per "
        f"story {sum(false) / len(rows):.3f}; stories with a false one "
        f"{sum(1 for f in false if f)} of {len(rows)}"
    )


def read_rows(path: Path) -> list[dict[str, str]]:
    """The articles of a JSONL file (``id``, ``category``, ``title``, ``text`` per line)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--extra", type=Path, default=None, help="user taxonomy merged on top")
    ap.add_argument("--no-model", action="store_true", help="keywords only")
    ap.add_argument("--errors", type=int, default=0, help="print this many misclassified")
    args = ap.parse_args(argv)

    rows = read_rows(args.data)
    taxonomy = load_taxonomy(extra=args.extra, use_model=not args.no_model)
    start = time.perf_counter()
    pred = [predict(taxonomy, r["title"], r["text"]) for r in rows]
    elapsed = time.perf_counter() - start
    gold = [r["category"] for r in rows]

    macro, per = f1_report(gold, pred)
    print(f"data: {args.data} ({len(rows)} articles), model: {taxonomy.model is not None}")
    if taxonomy.model is not None and args.data.name == DEFAULT_DATA.name:
        print("note: the model was trained on this file; for held-out figures run")
        print("      benchmarks/train_topics.py --folds 5 (cross-validation)")
    print(f"{'category':<14}{'prec':>7}{'rec':>7}{'f1':>7}{'n':>6}")
    for cat, (prec, rec, f1, n) in per.items():
        print(f"{cat:<14}{prec:7.3f}{rec:7.3f}{f1:7.3f}{int(n):6d}")
    print(f"none (no subject topic): {Counter(pred)['none']}")
    print(f"macro-F1: {macro:.4f}")
    forced = [predict(taxonomy, r["title"], r["text"], forced=True) for r in rows]
    print(
        f"macro-F1, forced choice (best subject topic even under threshold): "
        f"{f1_report(gold, forced)[0]:.4f}"
    )
    print(f"speed: {len(rows) / elapsed:,.0f} articles/s")
    multilabel(taxonomy, rows)
    shown = 0
    for row, guess in zip(rows, pred, strict=True):
        if shown < args.errors and guess != row["category"]:
            shown += 1
            print(f"  {row['id']}: {row['category']} -> {guess}: {row['title']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
