"""The fitted linear sentence scorer behind ``summarise(method="briefbot")``.

Each sentence gets a few cheap features (:data:`FEATURES`: position, length,
LexRank centrality, centroid cosine, quoted share, fragment and number flags,
…); its salience is their weighted sum. The weights are fitted offline against
sentence-level ROUGE labels from CNN/DailyMail highlights
(``benchmarks/train_summary.py``, which reports a k-fold figure) and shipped as
``briefings/data/summary_model.json``; the product only reads that file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import repeat

import numpy as np
from numpy.typing import NDArray

from briefings.summary.checks import dangles
from briefings.summary.signals import pagerank, position_prior, similarity, surface

__all__ = ["FEATURES", "Model", "feature_matrix", "load_model"]

Matrix = NDArray[np.float64]
Ids = NDArray[np.int64]

FEATURES: tuple[str, ...] = (
    "pos10",  # exp(-i / 10)
    "pos3",  # exp(-i / 3)
    "first",
    "second",
    "relative",  # i / m
    "lex",  # PageRank centrality, scaled to max 1
    "cent",  # cosine to the document centroid
    "short",  # words below 10, / 10
    "long",  # words above 20, / 20 (capped at 2)
    "log_words",
    "quoted",  # quoted share of the characters
    "fragment",  # no lower-case letter, under 4 words, or a short narrator question
    "digit",  # has a number
    "quote_open",  # opens on a quotation mark
    "cent_pos",  # cent * exp(-i / 10)
    "lex_pos",  # lex * exp(-i / 10)
    "dangles",  # opens on a pointer to an earlier sentence (not the first sentence)
    "sim_first",  # cosine to the first sentence
    "capitals",  # share of capitalised words after the first
    "words",  # word count / 30
)
_DIGIT = re.compile(r"\d")
_QUOTE_OPEN = frozenset("\"“'‘")


def _capitals(sentence: str) -> float:
    words = sentence.split()[1:]
    return sum(w[:1].isupper() for w in words) / max(len(words), 1)


@dataclass(frozen=True)
class Model:
    """Weights over :data:`FEATURES` plus the selection knobs fitted with them."""

    weights: tuple[float, ...]
    mmr: float = 0.05  # redundancy penalty times max similarity to picked ones
    duplicate: float = 0.6  # never pick a sentence this similar to a picked one


def feature_matrix(
    sentences: Sequence[str], terms: tuple[Ids, Ids], damping: float = 0.85
) -> tuple[Matrix, Matrix]:
    """``(features, similarity)``: one row of :data:`FEATURES` per sentence.

    Args:
        sentences: the candidate sentences, in document order.
        terms: ``(ids, rows)``: term id and sentence index of every content word.
        damping: PageRank damping factor.
    """
    m = len(sentences)
    sim, cent, sums = similarity(terms[0], terms[1], m)
    lex = pagerank(sim, damping, sums)
    lex = lex / max(float(lex.max()), 1e-12)
    _, quoted, fragment, _ = surface(sentences, 10.0, 20.0, 0.0, 0.0)
    count = np.fromiter(map(str.count, sentences, repeat(" ", m)), np.float64, count=m) + 1.0
    index = np.arange(m, dtype=np.float64)
    pos10 = position_prior(m, 10.0, 0.0)
    x = np.empty((m, len(FEATURES)))
    x[:, 0] = pos10
    x[:, 1] = position_prior(m, 3.0, 0.0)
    x[:, 2] = index == 0
    x[:, 3] = index == 1
    x[:, 4] = index / m
    x[:, 5] = lex
    x[:, 6] = cent
    x[:, 7] = np.maximum(10.0 - count, 0.0) / 10.0
    x[:, 8] = np.minimum(np.maximum(count - 20.0, 0.0), 40.0) / 20.0
    x[:, 9] = np.log(count)
    x[:, 10] = quoted
    x[:, 11] = fragment
    x[:, 12] = np.fromiter((_DIGIT.search(s) is not None for s in sentences), bool, count=m)
    x[:, 13] = np.fromiter((s[:1] in _QUOTE_OPEN for s in sentences), bool, count=m)
    x[:, 14] = cent * pos10
    x[:, 15] = lex * pos10
    x[:, 16] = np.fromiter(map(dangles, sentences), bool, count=m)
    x[0, 16] = 0.0
    x[:, 17] = sim[0]
    x[:, 18] = np.fromiter(map(_capitals, sentences), np.float64, count=m)
    x[:, 19] = count / 30.0
    return x, sim


@cache
def load_model() -> Model | None:
    """The packaged model (read once a process), or None when it is not shipped."""
    res = resources.files("briefings") / "data" / "summary_model.json"
    try:
        data = json.loads(res.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    weights = data["weights"]
    if list(weights) != list(FEATURES):
        raise ValueError("summary_model.json does not match the features of this version")
    return Model(
        weights=tuple(float(w) for w in weights.values()),
        mmr=float(data.get("mmr", 0.05)),
        duplicate=float(data.get("duplicate", 0.6)),
    )
