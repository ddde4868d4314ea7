"""Vectorised sentence ranking behind ``summarise(method="briefbot")``.

Sentence salience = position prior + graph centrality (LexRank-style PageRank
on TF-IDF cosine similarities) + similarity to the document centroid, minus
penalties for fragments, sentences far from a headline-like length and
quotations. When the caller says which sentences need others (a dangling opener
needs its predecessor, an acronym its definition), the summary is the best-valued
self-contained set among the top few sentences (:func:`select_closed`: scores minus
a redundancy penalty, no near-duplicates); otherwise, or when no such set exists,
sentences are picked greedily with a redundancy penalty (maximal marginal
relevance, :func:`select`) and then completed (:func:`fix_opener`). The signals
themselves live in :mod:`briefings.summary.signals`.

Per-document work is a handful of NumPy calls on a (sentences × terms) matrix,
dense for news-sized inputs and SciPy-sparse for long ones; inputs longer than
``max_sentences`` are bounded to a prefix window plus an even sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations

import numpy as np
from numpy.typing import NDArray

from briefings.summary.signals import pagerank, position_prior, similarity, surface

__all__ = [
    "DEFAULT",
    "Params",
    "fix_opener",
    "rank_sentences",
    "score_features",
    "select",
    "select_closed",
    "window",
]

Matrix = NDArray[np.float64]
Ids = NDArray[np.int64]


@dataclass(frozen=True)
class Params:
    """Global hyper-parameters of the ranker.

    Tuned on a news development set (CNN/DailyMail); ``benchmarks/summaries.py``
    reports the k-fold R1 of picking ``tau``, ``w_first``, ``set_mmr`` and ``w_quote``
    from a grid on the training folds only. Nothing is specific to an article or a site.
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
    w_quote: float = 0.3  # times the quoted share of the sentence
    w_fragment: float = 2.0  # no lower-case letter, or under 4 words
    mmr: float = 0.05  # redundancy penalty times max similarity to picked ones
    duplicate: float = 0.6  # never pick a sentence this similar to a picked one
    damping: float = 0.85
    max_sentences: int = 400
    prefix: int = 250
    set_mmr: float = 0.1  # the same penalty for :func:`select_closed` (sum over pairs)
    pool: int = 3  # select_closed looks at the n + pool best sentences


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


def score_features(
    sentences: Sequence[str], terms: tuple[Ids, Ids], n: int, params: Params = DEFAULT
) -> tuple[Matrix, Matrix]:
    """Salience score of each sentence and the cosine similarity matrix.

    Args:
        sentences: the candidate sentences, in document order.
        terms: ``(ids, rows)``: term id and sentence index of every content
            word of the document.
        n: number of sentences that will be picked (quotations and fragments
            are only penalised when enough other sentences exist).
        params: ranker parameters.

    Returns:
        ``(scores, similarity)``.
    """
    m = len(sentences)
    sim, cent, sums = similarity(terms[0], terms[1], m)
    lex = pagerank(sim, params.damping, sums)
    length_penalty, quoted, fragment, usable = surface(
        sentences, params.min_words, params.max_words, params.w_short, params.w_long
    )
    scores = params.w_pos * position_prior(m, params.tau, params.w_first)
    scores += (params.w_lex / max(float(lex.max()), 1e-12)) * lex
    scores += params.w_cent * cent
    scores -= length_penalty
    if usable >= n:  # a quotes-only article still gets its best quotes
        scores -= params.w_quote * quoted
    if m - int(fragment.sum()) >= n:
        scores -= params.w_fragment * fragment
    return scores, sim


def _select_exhaustive(
    scores: Matrix, sim: Matrix, n: int, mmr: float, duplicate: float
) -> list[int]:
    """MMR over every sentence (NumPy); the reference for :func:`select`."""
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


def select(scores: Matrix, sim: Matrix, n: int, mmr: float, duplicate: float = 1.01) -> list[int]:
    """Greedy maximal-marginal-relevance pick of ``n`` indices (document order).

    At each step the pick maximises ``score - mmr * max similarity to the
    picked ones`` among sentences less similar than ``duplicate`` to every
    picked one (all sentences when none is). Only sentences scoring within
    ``mmr`` of the ``n``-th best can win, so the loop runs in plain Python over
    those few; if duplicates exhaust them it falls back to all sentences.

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
    if n >= m:
        return list(range(m))
    floor = float(np.partition(scores, m - n)[m - n]) - mmr
    at = np.flatnonzero(scores >= floor)
    if at.shape[0] > 4 * n + 8:
        return _select_exhaustive(scores, sim, n, mmr, duplicate)
    pool = at.tolist()
    value = scores[at].tolist()
    rows = sim[at][:, at].tolist()
    redundancy = [0.0] * len(pool)
    chosen: list[int] = []
    for _ in range(n):
        best, best_value = -1, -math.inf
        for k, i in enumerate(pool):  # index order: ties go to earlier sentences
            if i >= 0 and redundancy[k] < duplicate:
                v = value[k] - mmr * redundancy[k]
                if v > best_value:
                    best, best_value = k, v
        if best < 0:  # only near-duplicates left in the pool
            return _select_exhaustive(scores, sim, n, mmr, duplicate)
        chosen.append(pool[best])
        pool[best] = -1
        redundancy = [max(r, s) for r, s in zip(redundancy, rows[best], strict=True)]
    return sorted(chosen)


def rank_sentences(
    sentences: Sequence[str],
    n: int,
    terms_of: Callable[[Sequence[str]], tuple[Ids, Ids]],
    params: Params | None = None,
    dangling: Callable[[int], bool] | None = None,
    definers: Callable[[int], Sequence[int]] | None = None,
) -> list[int]:
    """Indices of the ``n`` sentences to keep, in document order.

    Args:
        sentences: all sentences of the document.
        n: how many to keep.
        terms_of: maps a list of sentences to ``(ids, rows)`` of their
            content words (see :meth:`briefings.summary.terms.TermExtractor.ids`).
        params: ranker parameters (defaults tuned on news).
        dangling: whether sentence ``i`` opens on a reference to something
            earlier; such a sentence is only kept with its predecessor (see
            :func:`select_closed`, :func:`fix_opener`). Asked only about the top
            candidates.
        definers: the earlier sentences that spell out the acronyms sentence ``i``
            uses bare; a kept sentence comes with them.

    Returns:
        Sorted indices into ``sentences``.
    """
    params = params or DEFAULT
    if len(sentences) <= n:
        return list(range(len(sentences)))
    keep = window(len(sentences), params)
    subset = [sentences[i] for i in keep] if len(keep) < len(sentences) else list(sentences)
    scores, sim = score_features(subset, terms_of(subset), n, params)
    mmr, duplicate = params.mmr, params.duplicate
    if dangling is None and definers is None:
        return [keep[i] for i in select(scores, sim, n, mmr, duplicate)]
    where = {k: pos for pos, k in enumerate(keep)}

    @cache
    def needs(i: int) -> tuple[int, ...]:
        out = [i - 1] if i > 0 and dangling is not None and dangling(keep[i]) else []
        return tuple(out + [where[j] for j in (definers or _none)(keep[i]) if j in where])

    picked = select_closed(scores, sim, n, params.set_mmr, duplicate, needs, params.pool)
    if picked is None:
        picked = fix_opener(select(scores, sim, n, mmr, duplicate), scores, needs)
    return [keep[i] for i in picked]


def select_closed(
    scores: Matrix,
    sim: Matrix,
    n: int,
    mmr: float,
    duplicate: float,
    needs: Callable[[int], Sequence[int]],
    pool: int = 3,
) -> list[int] | None:
    """The best set of ``n`` among the ``n + pool`` top-scoring sentences that holds every
    sentence a member needs (see :func:`fix_opener`), or None when no such set exists.

    A set's value is the sum of its scores minus ``mmr`` times the sum of its pairwise
    similarities; sets holding a pair at least ``duplicate`` similar are skipped. Unlike
    greedy MMR followed by :func:`fix_opener`, a sentence that needs its predecessor is
    only kept when the pair is worth more than the alternatives. Ties go to the set that
    comes first in document order. Only for small ``n`` (at most 8), else None.
    """
    m = scores.shape[0]
    if n > 8 or n >= m:
        return None
    top = sorted(np.argsort(-scores, kind="stable")[: n + pool].tolist())
    value = scores[top].tolist()
    near = sim[np.ix_(top, top)].tolist()
    at = {i: k for k, i in enumerate(top)}
    # Per candidate, the candidates it needs; None when one it needs is not a candidate.
    wants = [None if any(j not in at for j in needs(i)) else [at[j] for j in needs(i)] for i in top]
    best: tuple[int, ...] | None = None
    best_value = -math.inf
    for combo in combinations(range(len(top)), n):
        total, ok = 0.0, True
        for a, k in enumerate(combo):
            want = wants[k]
            if want is None or any(j not in combo for j in want):
                ok = False
                break
            row = near[k]
            for other in combo[a + 1 :]:
                if row[other] >= duplicate:
                    ok = False
                    break
                total -= mmr * row[other]
            if not ok:
                break
            total += value[k]
        if ok and total > best_value + 1e-12:
            best, best_value = combo, total
    return None if best is None else [top[k] for k in best]


def _none(_: int) -> Sequence[int]:
    return ()


def fix_opener(
    picked: list[int], scores: Matrix, needs: Callable[[int], Sequence[int]]
) -> list[int]:
    """Never leave a picked sentence without the sentences it needs.

    A sentence needs its predecessor when it opens on an unresolved reference ("He…",
    "The official…"), and the sentence that spells out an acronym it uses bare. While a
    picked sentence lacks one, that one joins and the lowest-scoring pick not needed
    as context leaves (the needing sentence itself when every pick is needed), so the
    summary keeps its length.

    Args:
        picked: sorted picked indices.
        scores: salience of every sentence.
        needs: the sentences sentence ``i`` cannot do without (none for most).

    Returns:
        Sorted indices, as many as ``picked``.
    """
    chosen = set(picked)
    needed: set[int] = set()
    for _ in range(4 * len(picked) + 4):
        missing = next(((i, j) for i in sorted(chosen) for j in needs(i) if j not in chosen), None)
        if missing is None:
            break
        offender, extra = missing
        chosen.add(extra)
        needed |= {extra, offender}
        spare = [i for i in chosen if i not in needed]
        if spare:
            chosen.remove(min(spare, key=lambda i: (float(scores[i]), -i)))
        else:
            chosen.discard(offender)
            needed.discard(offender)
    return sorted(chosen)
