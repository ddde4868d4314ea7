"""Calibrate the topic thresholds by cross-validation on the BBC News dev half.

Usage:
    .venv/bin/python benchmarks/topic_thresholds.py [--folds 5] [--write]

A story is filed under a topic only when the topic's score reaches a threshold chosen
here, so that weak evidence (a model probability of 0.3 on an unrelated story, one
passing mention of a place) files nothing. Two kinds of threshold:

- **model topics** (business, entertainment, politics, sport, technology: keywords
  blended with the linear model): one threshold each, the one that maximises the
  topic's F1 (assigned iff score >= threshold, against "the article's category is this
  topic") on out-of-fold scores, i.e. scores from a model fitted without the article
  (``benchmarks/train_topics.fit`` with its defaults, the shipped model's settings);
- **keyword-only topics** (regions, security, science, crime, health, climate, trade,
  ai, users' own topics): BBC labels none of them, so one shared threshold is chosen
  where keyword evidence alone is reliable: the value that maximises the macro-F1 of
  the five subjects scored from keywords alone (the same scoring every keyword-only
  topic gets).

Candidates are 0.30, 0.35, …, 0.90 (never looser than the old fixed 0.3). The held-out
figure is k-fold: for each fold the thresholds are chosen on the other folds' rows
only and applied to that fold. Printed per subject (multi-label: every topic at or
above its threshold counts): precision, recall and F1, plus false subject topics per
article and articles with none, with the old fixed 0.3 and with the calibrated values.
``--write`` chooses on all rows and writes the model thresholds into
``briefings/data/topic_model.json`` and the keyword-only one into ``topics.toml``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.topics import DEFAULT_DATA, read_rows
from benchmarks.train_topics import LABELS, OUT, deal, fit
from briefings.topics.taxonomy import Taxonomy, load_taxonomy

TOML = OUT.with_name("topics.toml")
OLD = 0.3
GRID = tuple(round(0.30 + 0.05 * i, 2) for i in range(13))
SUBJECTS = tuple(LABELS.values())
Scores = list[dict[str, float]]


def prf(scores: Scores, gold: Sequence[str], slug: str, threshold: float) -> tuple[float, ...]:
    """Precision, recall, F1 of "score >= threshold" for ``slug`` against ``gold``."""
    tp = sum(1 for s, g in zip(scores, gold, strict=True) if s[slug] >= threshold and g == slug)
    fp = sum(1 for s, g in zip(scores, gold, strict=True) if s[slug] >= threshold and g != slug)
    fn = sum(1 for s, g in zip(scores, gold, strict=True) if s[slug] < threshold and g == slug)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def best_per_topic(scores: Scores, gold: Sequence[str]) -> dict[str, float]:
    """For each subject, the grid value with the best F1 (ties: the higher threshold)."""
    return {s: max(GRID, key=lambda t, s=s: (prf(scores, gold, s, t)[2], t)) for s in SUBJECTS}


def best_shared(scores: Scores, gold: Sequence[str]) -> float:
    """The grid value with the best macro-F1 over the five subjects (ties: higher)."""

    def macro(t: float) -> float:
        return sum(prf(scores, gold, s, t)[2] for s in SUBJECTS) / len(SUBJECTS)

    return max(GRID, key=lambda t: (macro(t), t))


def report(
    label: str, scores: Scores, gold: Sequence[str], thresholds: list[dict[str, float]]
) -> None:
    """Print per-subject P/R/F1 with one threshold table per article, and false topics."""
    print(f"{label}")
    print(f"  {'topic':<14}{'prec':>7}{'rec':>7}{'f1':>7}")
    f1s = []
    for s in SUBJECTS:
        tp = sum(
            1 for x, g, t in zip(scores, gold, thresholds, strict=True) if x[s] >= t[s] and g == s
        )
        fp = sum(
            1 for x, g, t in zip(scores, gold, thresholds, strict=True) if x[s] >= t[s] and g != s
        )
        fn = sum(
            1 for x, g, t in zip(scores, gold, thresholds, strict=True) if x[s] < t[s] and g == s
        )
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
        print(f"  {s:<14}{p:7.3f}{r:7.3f}{f1s[-1]:7.3f}")
    false = [
        sum(1 for s in SUBJECTS if x[s] >= t[s] and s != g)
        for x, g, t in zip(scores, gold, thresholds, strict=True)
    ]
    none = sum(
        1
        for x, t in zip(scores, thresholds, strict=True)
        if not any(x[s] >= t[s] for s in SUBJECTS)
    )
    print(
        f"  macro-F1 {sum(f1s) / len(f1s):.4f}; false subject topics per article "
        f"{sum(false) / len(false):.3f}; articles with a false one {sum(1 for f in false if f)}; "
        f"with none {none} of {len(scores)}"
    )


def main(argv: list[str] | None = None) -> int:
    """Cross-validate the thresholds; with --write, store the ones chosen on all rows."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="write the chosen thresholds")
    args = ap.parse_args(argv)
    rows: list[dict[str, Any]] = list(read_rows(args.data))
    base = load_taxonomy(use_model=False)
    folds = deal(rows, args.folds)
    order = [r for fold in folds for r in fold]
    fold_of = [i for i, fold in enumerate(folds) for _ in fold]
    gold = [LABELS[r["category"]] for r in order]
    blended: Scores = []
    for i, fold in enumerate(folds):  # out-of-fold model scores
        train = [r for j, other in enumerate(folds) if j != i for r in other]
        tax = Taxonomy(base.topics, threshold=base.threshold, model=fit(train, 100.0, 8000, 2, 0.7))
        blended += [
            dict(zip(tax.slugs, tax.scores(r["title"], r["text"]), strict=True)) for r in fold
        ]
    keywords: Scores = [
        dict(zip(base.slugs, base.scores(r["title"], r["text"]), strict=True)) for r in order
    ]
    held_model: list[dict[str, float]] = []
    held_kw: list[dict[str, float]] = []
    for i in range(len(folds)):
        rest = [j for j, f in enumerate(fold_of) if f != i]
        per = best_per_topic([blended[j] for j in rest], [gold[j] for j in rest])
        shared = best_shared([keywords[j] for j in rest], [gold[j] for j in rest])
        print(f"fold {i + 1}: model thresholds {per}; keyword-only {shared}")
        n = fold_of.count(i)
        held_model += [per] * n
        held_kw += [dict.fromkeys(SUBJECTS, shared)] * n
    old = [dict.fromkeys(SUBJECTS, OLD)] * len(order)
    print(f"\n{len(order)} BBC articles, {args.folds}-fold; model scores out-of-fold\n")
    report(f"keywords + model, fixed {OLD}", blended, gold, old)
    report("keywords + model, calibrated (held-out folds)", blended, gold, held_model)
    report(f"keywords only, fixed {OLD}", keywords, gold, old)
    report("keywords only, calibrated (held-out folds)", keywords, gold, held_kw)
    final, shared = best_per_topic(blended, gold), best_shared(keywords, gold)
    print(f"\nchosen on all rows: model thresholds {final}; keyword-only threshold {shared}")
    if args.write:
        data = json.loads(OUT.read_text(encoding="utf-8"))
        data["thresholds"] = final
        OUT.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n")
        text = TOML.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^threshold = [0-9.]+$", f"threshold = {shared}", text, count=1)
        TOML.write_text(text, encoding="utf-8")
        print(f"wrote thresholds into {OUT.name} and {TOML.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
