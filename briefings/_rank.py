"""Vectorised sentence ranking behind ``summarise(method="briefbot")``.

Sentence salience = position prior + graph centrality (LexRank-style PageRank
on TF-IDF cosine similarities) + similarity to the document centroid, minus
penalties for fragments, sentences far from a headline-like length and
quotations; sentences are then picked greedily with a redundancy penalty
(maximal marginal relevance) that also refuses near-duplicates.

Per-document work is a handful of NumPy calls on a (sentences × terms) matrix,
dense for news-sized inputs and SciPy-sparse for long ones; inputs longer than
``max_sentences`` are bounded to a prefix window plus an even sample.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Params", "rank_sentences", "score_features", "select", "window"]

Matrix = NDArray[np.float64]

_QUOTED = re.compile(r"[\"“”][^\"“”]{2,}[\"“”]|[\"“][^\"“”]{12,}$")
_DENSE_MAX = 120  # above this many sentences the term matrix goes sparse


@dataclass(frozen=True)
class Params:
    """Global hyper-parameters of the ranker.

    Tuned once on half of a news development set (CNN/DailyMail) and checked on
    the other half; nothing is specific to an article or a site.
    """

    tau: float = 10.0  # position prior exp(-i / tau)
    w_pos: float = 0.5
    w_first: float = 0.3  # extra prior for the lede
    w_lex: float = 0.5  # PageRank centrality, scaled to max 1
    w_cent: float = 0.8  # cosine to the document centroid
    min_words: float = 10.0
    max_words: float = 20.0
    w_short: float = 0.3
    w_long: float = 0.3
    w_quote: float = 0.6  # times the quoted share of the sentence
    w_fragment: float = 2.0  # no lower-case letter, or under 4 words
    mmr: float = 0.05  # redundancy penalty times max similarity to picked ones
    duplicate: float = 0.6  # never pick a sentence this similar to a picked one
    damping: float = 0.85
    max_sentences: int = 400
    prefix: int = 250


DEFAULT = Params()


def window(count: int, params: Params = DEFAULT) -> list[int]:
    """Indices of the sentences to rank: all, or a prefix plus an even sample.

    Args:
        count: number of sentences in the document.
        params: ranker parameters (``max_sentences``, ``prefix``).

    Returns:
        Increasing sentence indices, at most ``params.max_sentences`` of them.
    """
    if count <= params.max_sentences:
        return list(range(count))
    rest = params.max_sentences - params.prefix
    step = (count - params.prefix) / rest
    sampled = {params.prefix + int(k * step) for k in range(rest)}
    return list(range(params.prefix)) + sorted(sampled)


def _similarity(terms: Sequence[Sequence[str]]) -> tuple[Matrix, Matrix]:
    """Cosine similarity of TF-IDF sentence vectors, and cosine to the centroid."""
    vocab: dict[str, int] = {}
    setdefault = vocab.setdefault
    cols = [setdefault(t, len(vocab)) for sentence in terms for t in sentence]
    lengths = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
    m, v = len(terms), max(len(vocab), 1)
    rows = np.repeat(np.arange(m, dtype=np.int64), lengths)
    col = np.asarray(cols, dtype=np.int64)
    if m <= _DENSE_MAX:
        tf = np.bincount(rows * v + col, minlength=m * v).reshape(m, v).astype(np.float64)
        np.log1p(tf, out=tf)
        df = np.count_nonzero(tf, axis=0)
        x = tf * (np.log((m + 1.0) / (df + 1.0)) + 1.0)
        norms = np.sqrt(np.einsum("ij,ij->i", x, x))
        norms[norms == 0.0] = 1.0
        x /= norms[:, None]
        shared = x[:, df > 1]  # terms in one sentence only add nothing off-diagonal
        sim = shared @ shared.T
        centroid = x.sum(axis=0)
        cent = x @ centroid
    else:
        from scipy import sparse

        coo = sparse.coo_matrix((np.ones(col.size), (rows, col)), shape=(m, v))
        xs = coo.tocsr()  # sums duplicates: term frequencies
        xs.data = np.log1p(xs.data)
        df = np.bincount(xs.indices, minlength=v)
        xs = xs.multiply(np.log((m + 1.0) / (df + 1.0)) + 1.0).tocsr()
        norms = np.sqrt(np.asarray(xs.multiply(xs).sum(axis=1)).ravel())
        norms[norms == 0.0] = 1.0
        xs = sparse.diags(1.0 / norms) @ xs
        sim = (xs @ xs.T).toarray()
        centroid = np.asarray(xs.sum(axis=0)).ravel()
        cent = xs @ centroid
    np.fill_diagonal(sim, 1.0)
    cent = np.asarray(cent, dtype=np.float64) / (float(np.linalg.norm(centroid)) or 1.0)
    return np.asarray(sim, dtype=np.float64), cent


def _pagerank(sim: Matrix, damping: float) -> Matrix:
    """Continuous LexRank: stationary distribution of the row-normalised graph."""
    m = sim.shape[0]
    weights = sim.copy()
    np.fill_diagonal(weights, 0.0)
    sums = weights.sum(axis=1)
    dangling = sums == 0.0
    sums[dangling] = 1.0
    transition = weights / sums[:, None]
    transition[dangling] = 1.0 / m
    teleport = np.full(m, (1.0 - damping) / m)
    if m <= _DENSE_MAX:  # exact: p = teleport + damping * p @ T
        return np.asarray(np.linalg.solve(np.eye(m) - damping * transition.T, teleport))
    p = np.full(m, 1.0 / m)
    for _ in range(50):
        nxt = teleport + damping * (p @ transition)
        if float(np.abs(nxt - p).sum()) < 1e-6:
            return nxt
        p = nxt
    return p


def _surface(sentences: Sequence[str]) -> tuple[Matrix, Matrix, Matrix]:
    """Per-sentence word count, quoted share of characters, fragment flag."""
    m = len(sentences)
    words = np.fromiter((s.count(" ") + 1 for s in sentences), dtype=np.float64, count=m)
    quoted = np.zeros(m)
    fragment = np.zeros(m)
    for i, s in enumerate(sentences):
        if '"' in s or "“" in s or "”" in s:
            quoted[i] = sum(map(len, _QUOTED.findall(s))) / len(s)
        if s.upper() == s or words[i] < 4:  # no lower-case letter: heading, byline, code
            fragment[i] = 1.0
    return words, quoted, fragment


def score_features(
    sentences: Sequence[str], terms: Sequence[Sequence[str]], n: int, params: Params = DEFAULT
) -> tuple[Matrix, Matrix]:
    """Salience score of each sentence and the cosine similarity matrix.

    Args:
        sentences: the candidate sentences, in document order.
        terms: stemmed content words of each sentence.
        n: number of sentences that will be picked (quotations and fragments
            are only penalised when enough other sentences exist).
        params: ranker parameters.

    Returns:
        ``(scores, similarity)``.
    """
    m = len(sentences)
    sim, cent = _similarity(terms)
    lex = _pagerank(sim, params.damping)
    lex = lex / max(float(lex.max()), 1e-12)
    pos = np.exp(np.arange(m, dtype=np.float64) / -params.tau)
    pos[0] += params.w_first
    words, quoted, fragment = _surface(sentences)
    short = np.clip((params.min_words - words) / params.min_words, 0.0, 1.0)
    long = np.clip((words - params.max_words) / params.max_words, 0.0, 2.0)
    fragments = int(fragment.sum())
    usable = m - int(np.count_nonzero((quoted >= 0.5) | (fragment > 0)))
    scores = (
        params.w_pos * pos
        + params.w_lex * lex
        + params.w_cent * cent
        - params.w_short * short
        - params.w_long * long
    )
    if usable >= n:  # a quotes-only article still gets its best quotes
        scores -= params.w_quote * quoted
    if m - fragments >= n:
        scores -= params.w_fragment * fragment
    return scores, sim


def select(scores: Matrix, sim: Matrix, n: int, mmr: float, duplicate: float = 1.01) -> list[int]:
    """Greedy maximal-marginal-relevance pick of ``n`` indices (document order).

    Args:
        scores: salience of each sentence.
        sim: pairwise similarity of sentences.
        n: how many to pick.
        mmr: weight of the redundancy penalty (max similarity to picked ones).
        duplicate: similarity at or above which a sentence is skipped while
            other candidates remain.

    Returns:
        The picked indices, sorted.
    """
    m = scores.shape[0]
    chosen: list[int] = []
    redundancy = np.zeros(m)
    available = np.ones(m, dtype=bool)
    for _ in range(min(n, m)):
        value = np.where(available, scores - mmr * redundancy, -math.inf)
        fresh = np.where(redundancy < duplicate, value, -math.inf)
        if np.isfinite(fresh).any():
            value = fresh
        best = int(np.argmax(value))  # first maximum: ties go to earlier sentences
        chosen.append(best)
        available[best] = False
        np.maximum(redundancy, sim[best], out=redundancy)
    return sorted(chosen)


def rank_sentences(
    sentences: Sequence[str],
    n: int,
    terms_of: Callable[[Sequence[str]], Sequence[Sequence[str]]],
    params: Params | None = None,
) -> list[int]:
    """Indices of the ``n`` sentences to keep, in document order.

    Args:
        sentences: all sentences of the document.
        n: how many to keep.
        terms_of: maps a list of sentences to their stemmed content words.
        params: ranker parameters (defaults tuned on news).

    Returns:
        Sorted indices into ``sentences``.
    """
    params = params or DEFAULT
    if len(sentences) <= n:
        return list(range(len(sentences)))
    keep = window(len(sentences), params)
    subset = [sentences[i] for i in keep] if len(keep) < len(sentences) else list(sentences)
    scores, sim = score_features(subset, terms_of(subset), n, params)
    picked = select(scores, sim, n, params.mmr, params.duplicate)
    return [keep[i] for i in picked]
