"""Train the small linear topic model shipped as ``briefings/data/topic_model.json``.

Usage:
    .venv/bin/python benchmarks/train_topics.py [--data bbc_dev.jsonl] [--write]

One-vs-rest logistic regression (L2, fitted with scipy's L-BFGS) over the features of
``briefings.topics.model_features`` (log counts of lower-cased tokens, headline counted
twice, unit length), one output per broad subject: business, entertainment, politics,
sport, technology. Only the tokens with the largest weights are kept, so the file stays
small. Training is offline: the product only reads the JSON.

Before writing, it prints a cross-validated estimate of the whole tagger (keywords +
model), trained on half of each category and tested on the other half, both ways, so
the figure is not a memorised one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.topics import DEFAULT_DATA, f1_report, predict
from briefings.topics import Taxonomy, TopicModel, load_taxonomy, model_features

OUT = Path(__file__).resolve().parent.parent / "briefings" / "data" / "topic_model.json"
LABELS = {  # BBC category -> taxonomy slug
    "business": "business",
    "entertainment": "entertainment",
    "politics": "politics",
    "sport": "sport",
    "tech": "technology",
}


def featurize(rows: list[dict[str, Any]], vocab: dict[str, int]) -> sparse.csr_matrix:
    """Return the feature matrix of ``rows`` over ``vocab``."""
    data, cols, ptr = [], [], [0]
    for r in rows:
        for tok, x in model_features(r["title"], r["text"]).items():
            j = vocab.get(tok)
            if j is not None:
                cols.append(j)
                data.append(x)
        ptr.append(len(cols))
    return sparse.csr_matrix((data, cols, ptr), shape=(len(rows), len(vocab)))


def fit(rows: list[dict[str, Any]], c: float, keep: int, min_df: int) -> TopicModel:
    """Fit the one-vs-rest model on ``rows`` and prune it to ``keep`` tokens."""
    df: dict[str, int] = {}
    for r in rows:
        for tok in model_features(r["title"], r["text"]):
            df[tok] = df.get(tok, 0) + 1
    vocab = {t: i for i, t in enumerate(sorted(t for t, n in df.items() if n >= min_df))}
    x = featurize(rows, vocab)
    slugs = tuple(LABELS.values())
    weights = np.zeros((len(vocab), len(slugs)))
    bias = np.zeros(len(slugs))
    for k, cat in enumerate(LABELS):
        y = np.array([1.0 if r["category"] == cat else -1.0 for r in rows])

        def loss(wb: np.ndarray, y: np.ndarray = y) -> tuple[float, np.ndarray]:
            w, b = wb[:-1], wb[-1]
            m = y * (x @ w + b)
            lg = np.logaddexp(0.0, -m)
            s = -y / (1.0 + np.exp(m))
            grad_w = x.T @ s + w / c
            return float(lg.sum() + 0.5 * (w @ w) / c), np.append(grad_w, s.sum())

        res = minimize(loss, np.zeros(len(vocab) + 1), jac=True, method="L-BFGS-B")
        weights[:, k], bias[k] = res.x[:-1], res.x[-1]
    strength = np.abs(weights).max(axis=1)
    top = np.argsort(-strength)[:keep]
    inv = {i: t for t, i in vocab.items()}
    kept = {inv[int(i)]: tuple(round(float(v), 3) for v in weights[i]) for i in sorted(top)}
    return TopicModel(slugs, tuple(round(float(b), 3) for b in bias), kept, blend=0.5)


def evaluate(base: Taxonomy, model: TopicModel | None, rows: list[dict[str, Any]]) -> float:
    """Macro-F1 of the taxonomy ``base`` with ``model`` on ``rows``."""
    tax = Taxonomy(base.topics, threshold=base.threshold, model=model)
    pred = [predict(tax, r["title"], r["text"]) for r in rows]
    return f1_report([r["category"] for r in rows], pred)[0]


def main(argv: list[str] | None = None) -> int:
    """Cross-validate, then (with --write) fit on all rows and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--c", type=float, default=10.0, help="inverse L2 strength")
    ap.add_argument("--keep", type=int, default=4000, help="tokens kept in the model")
    ap.add_argument("--min-df", type=int, default=2)
    ap.add_argument("--blend", type=float, default=0.5, help="model share of the score")
    ap.add_argument("--write", action="store_true", help=f"write {OUT.name}")
    args = ap.parse_args(argv)

    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line]
    base = load_taxonomy(use_model=False)
    seen: dict[str, int] = {}
    halves: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
    for r in rows:  # alternate within each category: both halves keep the class balance
        n = seen[r["category"]] = seen.get(r["category"], -1) + 1
        halves[n % 2].append(r)
    scores = []
    for train, test in ((halves[0], halves[1]), (halves[1], halves[0])):
        m = fit(train, args.c, args.keep, args.min_df)
        m = TopicModel(m.slugs, m.bias, m.weights, args.blend)
        scores.append(evaluate(base, m, test))
        kw = evaluate(base, None, test)
        print(
            f"2-fold: train {len(train)} test {len(test)}: keywords {kw:.4f}, "
            f"keywords+model {scores[-1]:.4f}"
        )
    print(f"cross-validated macro-F1 (mean of 2 folds): {sum(scores) / 2:.4f}")
    if args.write:
        m = fit(rows, args.c, args.keep, args.min_df)
        payload = {
            "about": "One-vs-rest logistic regression over briefings.topics.model_features; "
            "trained by benchmarks/train_topics.py on the BBC News dev half.",
            "slugs": list(m.slugs),
            "bias": list(m.bias),
            "blend": args.blend,
            "weights": {t: list(w) for t, w in m.weights.items()},
        }
        OUT.write_text(json.dumps(payload, separators=(",", ":"), ensure_ascii=False) + "\n")
        print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(m.weights)} tokens)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
