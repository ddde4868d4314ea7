"""Train the small linear topic model shipped as ``briefings/data/topic_model.json``.

Usage:
    .venv/bin/python benchmarks/train_topics.py [--data bbc_dev.jsonl] [--write]

One-vs-rest logistic regression (L2, fitted with scipy's L-BFGS) over sublinear TF-IDF
features of ``briefings.topics.definitions.token_counts`` (lower-cased tokens, headline counted
twice, unit length; see ``TopicModel.features``), one output per broad subject:
business, entertainment, politics, sport, technology. Only the tokens with the largest
weights are kept (and the model is refitted on them), so the file stays small.
Training is offline: the product only reads the JSON.

Before writing, it prints a cross-validated estimate of the whole tagger (keywords +
model) with k-fold cross-validation (default 5; each category dealt round-robin into
the folds), so the figure is not a memorised one. ``--folds 2`` trains on one half and
tests on the other, both ways. The defaults reproduce the shipped file.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.topics import DEFAULT_DATA, f1_report, predict
from briefings.topics.definitions import load_model
from briefings.topics.taxonomy import Taxonomy, TopicModel, article_counts, load_taxonomy

OUT = Path(__file__).resolve().parent.parent / "briefings" / "data" / "topic_model.json"
LABELS = {  # BBC category -> taxonomy slug
    "business": "business",
    "entertainment": "entertainment",
    "politics": "politics",
    "sport": "sport",
    "tech": "technology",
}


def featurize(counts: list[Counter[str]], model: TopicModel) -> sparse.csr_matrix:
    """Return the feature matrix (as ``TopicModel.features`` computes it) over its vocabulary."""
    vocab = {t: i for i, t in enumerate(model.idf)}
    data, cols, ptr = [], [], [0]
    for c in counts:
        for tok, x in model.features(c).items():
            cols.append(vocab[tok])
            data.append(x)
        ptr.append(len(cols))
    return sparse.csr_matrix((data, cols, ptr), shape=(len(counts), len(vocab)))


def _fit_vocab(
    counts: list[Counter[str]], cats: list[str], idf: dict[str, float], c: float, blend: float
) -> TopicModel:
    """Fit one logistic regression per category over the tokens of ``idf``."""
    slugs = tuple(LABELS.values())
    zero = (0.0,) * len(slugs)
    empty = TopicModel(slugs, zero, idf, {t: zero for t in idf}, blend)
    x = featurize(counts, empty)
    weights = np.zeros((len(idf), len(slugs)))
    bias = np.zeros(len(slugs))
    for k, cat in enumerate(LABELS):
        y = np.array([1.0 if g == cat else -1.0 for g in cats])

        def loss(wb: np.ndarray, y: np.ndarray = y) -> tuple[float, np.ndarray]:
            w, b = wb[:-1], wb[-1]
            m = y * (x @ w + b)
            s = -y / (1.0 + np.exp(m))
            grad = np.append(x.T @ s + w / c, s.sum())
            return float(np.logaddexp(0.0, -m).sum() + 0.5 * (w @ w) / c), grad

        res = minimize(loss, np.zeros(len(idf) + 1), jac=True, method="L-BFGS-B")
        weights[:, k], bias[k] = res.x[:-1], res.x[-1]
    rows = {t: tuple(round(float(v), 4) for v in weights[i]) for i, t in enumerate(idf)}
    return TopicModel(slugs, tuple(round(float(b), 4) for b in bias), idf, rows, blend)


def fit(rows: list[dict[str, Any]], c: float, keep: int, min_df: int, blend: float) -> TopicModel:
    """Fit on ``rows``, keep the ``keep`` most useful tokens, and refit on those."""
    counts = [article_counts(r["title"], r["text"]) for r in rows]
    cats = [r["category"] for r in rows]
    df: Counter[str] = Counter()
    for cnt in counts:
        df.update(cnt.keys())
    n = len(rows)
    idf = {
        t: round(math.log((1 + n) / (1 + d)) + 1.0, 3) for t, d in sorted(df.items()) if d >= min_df
    }
    model = _fit_vocab(counts, cats, idf, c, blend)
    if len(idf) > keep:
        strength = {t: max(abs(w) * idf[t] for w in ws) for t, ws in model.weights.items()}
        best = sorted(strength, key=lambda t: (-strength[t], t))[:keep]
        model = _fit_vocab(counts, cats, {t: idf[t] for t in sorted(best)}, c, blend)
    return model


def evaluate(
    base: Taxonomy, model: TopicModel | None, rows: list[dict[str, Any]], forced: bool = False
) -> float:
    """Macro-F1 of the taxonomy ``base`` with ``model`` on ``rows``.

    The fitted model gets the shipped per-topic thresholds (chosen on the whole file by
    ``benchmarks/topic_thresholds.py``, whose own figures are held out), as in production.
    """
    shipped = load_model()
    if model is not None and shipped is not None and not model.thresholds:
        model = replace(model, thresholds=shipped.thresholds)
    tax = Taxonomy(base.topics, threshold=base.threshold, model=model)
    pred = [predict(tax, r["title"], r["text"], forced=forced) for r in rows]
    return f1_report([r["category"] for r in rows], pred)[0]


def deal(rows: list[dict[str, Any]], k: int) -> list[list[dict[str, Any]]]:
    """Split ``rows`` into ``k`` folds, each category dealt round-robin (class balance kept)."""
    seen: dict[str, int] = {}
    folds: list[list[dict[str, Any]]] = [[] for _ in range(k)]
    for r in rows:
        n = seen[r["category"]] = seen.get(r["category"], -1) + 1
        folds[n % k].append(r)
    return folds


def main(argv: list[str] | None = None) -> int:
    """Cross-validate, then (with --write) fit on all rows and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--c", type=float, default=100.0, help="inverse L2 strength")
    ap.add_argument("--keep", type=int, default=8000, help="tokens kept in the model")
    ap.add_argument("--min-df", type=int, default=2)
    ap.add_argument("--blend", type=float, default=0.7, help="model share of the score")
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    ap.add_argument("--write", action="store_true", help=f"write {OUT.name}")
    args = ap.parse_args(argv)

    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line]
    base = load_taxonomy(use_model=False)
    k = args.folds
    folds = deal(rows, k)
    scores, kws, forced = [], [], []
    for i in range(k):
        train = [r for j, fold in enumerate(folds) if j != i for r in fold]
        m = fit(train, args.c, args.keep, args.min_df, args.blend)
        scores.append(evaluate(base, m, folds[i]))
        kws.append(evaluate(base, None, folds[i]))
        forced.append(evaluate(base, m, folds[i], forced=True))
        print(
            f"fold {i + 1}/{k}: train {len(train)} test {len(folds[i])}: "
            f"keywords {kws[-1]:.4f}, keywords+model {scores[-1]:.4f}"
        )
    print(f"keywords only, mean over folds: {sum(kws) / k:.4f}")
    print(f"forced choice, mean over folds: {sum(forced) / k:.4f}")
    print(f"cross-validated macro-F1 ({k} folds, keywords+model): {sum(scores) / k:.4f}")
    if args.write:
        m = fit(rows, args.c, args.keep, args.min_df, args.blend)
        payload = {
            "about": "One-vs-rest logistic regression over sublinear TF-IDF of "
            "briefings.topics.definitions.token_counts; tokens: token -> [idf, weight per slug]; "
            "trained by benchmarks/train_topics.py on the BBC News dev half.",
            "slugs": list(m.slugs),
            "bias": list(m.bias),
            "blend": args.blend,
            "tokens": {t: [m.idf[t], *m.weights[t]] for t in m.idf},
        }
        if OUT.exists():  # thresholds are calibrated by benchmarks/topic_thresholds.py
            old = json.loads(OUT.read_text(encoding="utf-8")).get("thresholds")
            if old:
                payload["thresholds"] = old
        OUT.write_text(json.dumps(payload, separators=(",", ":"), ensure_ascii=False) + "\n")
        print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(m.idf)} tokens)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
