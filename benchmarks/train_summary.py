"""Fit the linear sentence scorer shipped as ``briefings/data/summary_model.json``.

Usage::

    .venv/bin/python benchmarks/train_summary.py [--data cnndm_dev.jsonl] [--write]

Per article, the sentences "briefbot" would rank (:func:`briefings.summary.summarise.candidates`)
get the features of :func:`briefings.summary.learned.feature_matrix`. The weights are fitted
directly on the summary ROUGE-1 F1 against the highlights: starting from the least-squares
image of the hand-set formula (``rank.DEFAULT``) in feature space, coordinate ascent tries a
few steps per weight (in units of the feature's spread) and keeps any that raise the mean R1
of the training articles, as the product picks sentences (MMR, then the sentences a picked
one needs: the predecessor of a dangling opener, the sentence defining an acronym). R1 is
computed exactly as rouge-score does (its tokenizer and stemmer; the candidate's tokens are
the concatenation of its sentences'), from per-sentence counts cached once.

It prints the k-fold R1 (articles dealt i mod k into folds; each fold is summarised by the
product with weights fitted on the other folds only) next to the all-data figure;
``benchmarks/summaries.py`` prints the same k-fold figure. The defaults reproduce the
shipped file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from briefings.summary.acronyms import acronym_definers  # noqa: E402
from briefings.summary.checks import dangles  # noqa: E402
from briefings.summary.learned import FEATURES, Model, feature_matrix  # noqa: E402
from briefings.summary.rank import DEFAULT, fix_opener, score_features, select  # noqa: E402
from briefings.summary.summarise import candidates  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "briefings" / "data" / "summary_model.json"
DEFAULT_DATA = Path("/work/shared/eval/summaries/cnndm_dev.jsonl")
STEPS = (-1.0, -0.5, -0.25, -0.1, 0.1, 0.25, 0.5, 1.0)  # x STEP_UNIT / feature spread
STEP_UNIT = 0.3
PASSES = 3
MMR_GRID = (0.0, 0.05, 0.1, 0.2)
DUPLICATE = 0.6


@dataclass
class Example:
    """One article as the fitter sees it: features, the hand-set score, how picks are
    completed, and per-sentence token counts over the reference's vocabulary."""

    x: np.ndarray
    base: np.ndarray
    sim: np.ndarray
    needs: list[list[int]]
    counts: np.ndarray
    lengths: np.ndarray
    ref: np.ndarray

    def r1(self, chosen: Sequence[int]) -> float:
        """ROUGE-1 F1 of the chosen sentences against the highlights."""
        overlap = float(np.minimum(self.counts[list(chosen)].sum(axis=0), self.ref).sum())
        total = float(self.lengths[list(chosen)].sum()) + float(self.ref.sum())
        return 2.0 * overlap / total if overlap else 0.0

    def pick(self, scores: np.ndarray, mmr: float, n: int = 3) -> list[int]:
        """The sentences the product keeps for these scores."""
        picked = select(scores, self.sim, n, mmr, DUPLICATE)
        return fix_opener(picked, scores, self.needs.__getitem__)


def examples(rows: Sequence[dict[str, str]], n: int = 3) -> list[Example | None]:
    """One :class:`Example` per article (None when it has ``n`` sentences or fewer)."""
    from rouge_score import tokenizers

    tok = tokenizers.DefaultTokenizer(use_stemmer=True)
    out: list[Example | None] = []
    for row in rows:
        found = candidates(row["article"], n)
        if found is None or len(found[0]) > DEFAULT.max_sentences:  # window: not fitted
            out.append(None)
            continue
        sentences, extractor = found
        terms = extractor.ids(sentences)
        x, sim = feature_matrix(sentences, terms)
        base, _ = score_features(sentences, terms, n, DEFAULT)
        definers = acronym_definers(sentences)
        needs = [
            ([j - 1] if j > 0 and dangles(s) else []) + list(definers[j])
            for j, s in enumerate(sentences)
        ]
        ref = Counter(tok.tokenize(row["highlights"]))
        vocab = {t: k for k, t in enumerate(ref)}
        tokens = [tok.tokenize(s) for s in sentences]
        counts = np.zeros((len(sentences), len(vocab)))
        for j, words in enumerate(tokens):
            for w in words:
                if w in vocab:
                    counts[j, vocab[w]] += 1.0
        lengths = np.array([len(t) for t in tokens], dtype=np.float64)
        out.append(Example(x, base, sim, needs, counts, lengths, np.array(list(ref.values()))))
    return out


def mean_r1(data: Sequence[Example], w: np.ndarray, mmr: float) -> float:
    """Mean summary R1 over ``data`` with weights ``w``."""
    return sum(e.r1(e.pick(e.x @ w, mmr)) for e in data) / max(len(data), 1)


def fit(data: Sequence[Example | None]) -> Model:
    """Weights and MMR weight fitted on these examples only (deterministic)."""
    train = [e for e in data if e is not None]
    x = np.vstack([e.x for e in train])
    w, *_ = np.linalg.lstsq(x, np.concatenate([e.base for e in train]), rcond=None)
    spread = x.std(axis=0)
    spread[spread < 1e-9] = 1.0
    mmr = DEFAULT.mmr
    best = mean_r1(train, w, mmr)
    for _ in range(PASSES):
        improved = False
        for j in range(len(w)):
            for step in STEPS:
                trial = w.copy()
                trial[j] += step * STEP_UNIT / spread[j]
                value = mean_r1(train, trial, mmr)
                if value > best + 1e-9:
                    best, w, improved = value, trial, True
        for option in MMR_GRID:
            value = mean_r1(train, w, option)
            if value > best + 1e-9:
                best, mmr, improved = value, option, True
        if not improved:
            break
    return Model(tuple(float(v) for v in w), mmr, DUPLICATE)


def fold_models(rows: Sequence[dict[str, str]], folds: int) -> list[Model]:
    """Per fold, the model fitted on the other folds (articles dealt i mod ``folds``)."""
    data = examples(rows)
    return [fit([e for i, e in enumerate(data) if i % folds != fold]) for fold in range(folds)]


def main(argv: list[str] | None = None) -> int:
    """Print the fitted figures; with ``--write``, store the all-data model."""
    from benchmarks.summaries import kfold_learned_r1, load

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help=f"write {OUT.name}")
    args = parser.parse_args(argv)
    rows = load(args.data, None)
    data = examples(rows)
    model = fit(data)
    fitted = [e for e in data if e is not None]
    print(f"all-data training R1 {100 * mean_r1(fitted, np.asarray(model.weights), model.mmr):.2f}")
    r1, models = kfold_learned_r1(rows, 3, args.folds)
    print(f"{args.folds}-fold R1 {r1:.2f} (mmr per fold: {[m.mmr for m in models]})")
    if args.write:
        payload = {
            "trained_on": f"{args.data.name} ({len(rows)} articles), benchmarks/train_summary.py",
            "weights": dict(zip(FEATURES, (round(v, 6) for v in model.weights), strict=True)),
            "mmr": model.mmr,
            "duplicate": model.duplicate,
        }
        OUT.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
