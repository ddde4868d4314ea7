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
from functools import lru_cache
from itertools import repeat

import numpy as np
from numpy.typing import NDArray

__all__ = ["Params", "fix_opener", "rank_sentences", "score_features", "select", "window"]

Matrix = NDArray[np.float64]
Ids = NDArray[np.int64]

_SINGLE_QUOTED = re.compile(r"['‘].{10,}?[,.!?]['’](?=\s|$)")
# "A quotation", or one left open to the end of the sentence (12+ characters).
# One leading character class lets the regex engine skip straight to quotes.
_QUOTED = re.compile(r"[\"“”](?:[^\"“”]{2,}[\"“”]|(?<=[\"“])[^\"“”]{12,}$)")
_DENSE_MAX = 100  # above this many sentences the term matrix goes sparse
_GEMM_SINGLE_THREAD = 200_000  # OpenBLAS goes multi-threaded above ~262k
# Exact PageRank (one LU solve) up to this size: ~50 us at 96, 4x cheaper than
# iterating; OpenBLAS keeps LU single-threaded below 100 x 100.
_SOLVE_MAX = 96
_TRUE = np.ones(1, dtype=bool)


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


def _similarity(ids: Ids, rows: Ids, m: int) -> tuple[Matrix, Matrix, Matrix]:
    """Cosine similarities of TF-IDF sentence vectors, cosines to the centroid,
    and each sentence's total similarity to the others.

    Args:
        ids: term id of every content word of the document.
        rows: sentence index of every content word (parallel to ``ids``).
        m: number of sentences.

    Only single-threaded code paths are used: OpenBLAS starts spinning worker
    threads for matrix products above ~250k multiply-adds (and vector products
    above ~9k), which on a busy host costs far more than it saves at this size,
    so big products are chunked or go through SciPy's sparse kernels.
    """
    # Work on the non-zero cells only: (term, sentence) -> count, from one
    # sort (np.unique is several times slower at this size).
    n = ids.shape[0]
    if n == 0:
        return np.zeros((m, m)), np.zeros(m), np.zeros(m)
    key = ids * m + rows
    key.sort()
    bounds = np.flatnonzero(np.concatenate((_TRUE, key[1:] != key[:-1], _TRUE)))
    starts = bounds[:-1]
    tf = bounds[1:] - starts
    cell_term, cell_row = np.divmod(key[starts], m)
    cell_col = np.cumsum(np.concatenate((_TRUE, cell_term[1:] != cell_term[:-1])), dtype=np.int64)
    cell_col -= 1
    df = np.bincount(cell_col)
    weight = np.log((m + 1.0) / (df + 1.0))
    weight += 1.0
    weight = weight[cell_col]  # idf of each cell's term
    weight *= np.log1p(tf)
    norms_raw = np.sqrt(np.bincount(cell_row, weights=weight * weight, minlength=m))
    weight /= norms_raw[cell_row]  # every row with a cell has a positive norm
    # Terms found in one sentence only add nothing off the diagonal: drop them.
    shared_term = df > 1
    shared_ids = np.cumsum(shared_term, dtype=np.int64)
    k = int(shared_ids[-1])
    shared_ids -= 1
    keep = shared_term[cell_col]
    cell_row, cell_col, weight = cell_row[keep], shared_ids[cell_col[keep]], weight[keep]
    if m <= _DENSE_MAX:
        shared = np.zeros((m, max(k, 1)))
        shared[cell_row, cell_col] = weight
        # Chunk the product along the terms so each piece stays single-threaded.
        step = max(_GEMM_SINGLE_THREAD // (m * m), 1)
        sim = shared[:, :step] @ shared[:, :step].T
        for start in range(step, k, step):
            part = shared[:, start : start + step]
            sim += part @ part.T
    else:
        from scipy import sparse

        xs = sparse.csr_matrix((weight, (cell_row, cell_col)), shape=(m, max(k, 1)))
        sim = np.asarray((xs @ xs.T).toarray(), dtype=np.float64)
    # Full self-similarity is 1 for a sentence with terms, 0 without; then the
    # centroid products follow from row sums, with no matrix-vector product.
    diagonal = (norms_raw > 0.0).astype(np.float64)
    np.fill_diagonal(sim, diagonal)
    dots = sim.sum(axis=1)
    cent = dots / (math.sqrt(max(float(dots.sum()), 0.0)) or 1.0)
    return sim, cent, dots - diagonal


def _pagerank(sim: Matrix, damping: float, sums: Matrix) -> Matrix:
    """Continuous LexRank: stationary distribution of the row-normalised graph.

    Args:
        sim: symmetric similarity matrix (its diagonal is ignored).
        damping: PageRank damping factor.
        sums: row sums of ``sim`` without the diagonal.
    """
    m = sim.shape[0]
    teleport = np.full(m, (1.0 - damping) / m)
    dangling = sums <= 0.0  # a sentence sharing no term: it jumps anywhere
    sums = np.where(dangling, 1.0, sums)
    if m <= _SOLVE_MAX:
        # Exact: p = teleport + damping * T' p with T = W / row sums, W = sim
        # without its diagonal. W is symmetric, so T'[i, j] = W[i, j] / sums[j]:
        # one broadcast, no transpose; the diagonal is then overwritten.
        system = sim * (-damping / sums)
        if dangling.any():
            system[:, dangling] = -damping / m
        system.flat[:: m + 1] = 1.0 - (damping / m) * dangling
        return np.asarray(np.linalg.solve(system, teleport))
    weights = sim.copy()
    np.fill_diagonal(weights, 0.0)
    transition = weights / sums[:, None]
    transition[dangling] = 1.0 / m
    from scipy import sparse

    step = sparse.csr_matrix(transition.T * damping)  # sparse kernels: single-threaded
    p = np.full(m, 1.0 / m)
    for _ in range(50):
        nxt = teleport + step @ p
        if float(np.abs(nxt - p).sum()) < 1e-6:
            return np.asarray(nxt, dtype=np.float64)
        p = nxt
    return np.asarray(p, dtype=np.float64)


def _surface(sentences: Sequence[str], params: Params) -> tuple[Matrix, Matrix, Matrix, int]:
    """Length penalty, quoted share of characters and fragment flag per sentence.

    Word counts and case checks run in C (``map`` over str methods), the
    arithmetic in NumPy; only the quote check loops over sentences.

    Returns:
        ``(length_penalty, quoted, fragment, usable)`` where ``usable`` counts
        sentences that are neither fragments nor mostly quotation.
    """
    m = len(sentences)
    low, high = params.min_words, params.max_words
    count = np.fromiter(map(str.count, sentences, repeat(" ", m)), np.float64, count=m) + 1.0
    lengths = np.maximum(low - count, 0.0) * (params.w_short / low)
    lengths += np.minimum(np.maximum(count - high, 0.0), 2.0 * high) * (params.w_long / high)
    # No lower-case letter (heading, byline, code), under 4 words, or an unquoted question.
    no_lower = np.fromiter(map(str.__eq__, map(str.upper, sentences), sentences), bool, count=m)
    # a short question in the narrator's voice is a subheading or a teaser, not a finding
    question = np.fromiter((s.rstrip("\"'’” ").endswith("?") for s in sentences), bool, count=m)
    fragment = no_lower | (count < 4.0)
    quoted = np.zeros(m)
    findall = _QUOTED.findall
    for i, s in enumerate(sentences):
        if '"' in s or "“" in s or "”" in s:
            quoted[i] = sum(map(len, findall(s))) / len(s)
        elif s[:1] in "'‘" and (single := _SINGLE_QUOTED.match(s)) is not None:
            quoted[i] = single.end() / len(s)  # 'We are here,' she said.
    fragment |= question & (quoted < 0.5) & (count < 12.0)
    usable = int(np.count_nonzero(~fragment & (quoted < 0.5)))
    return lengths, quoted, fragment.astype(np.float64), usable


@lru_cache(maxsize=64)
def _position_prior(m: int, tau: float, w_first: float) -> Matrix:
    """exp(-i / tau), plus ``w_first`` for the first sentence (read-only, cached)."""
    prior = np.exp(np.arange(m, dtype=np.float64) / -tau)
    prior[0] += w_first
    prior.setflags(write=False)
    return prior


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
    sim, cent, sums = _similarity(terms[0], terms[1], m)
    lex = _pagerank(sim, params.damping, sums)
    length_penalty, quoted, fragment, usable = _surface(sentences, params)
    scores = params.w_pos * _position_prior(m, params.tau, params.w_first)
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
            earlier; such a sentence never opens the summary alone (see
            :func:`fix_opener`). Asked only about picked sentences.
        definers: the earlier sentences that spell out the acronyms sentence ``i``
            uses bare; a picked sentence brings them in (see :func:`fix_opener`).

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
    if dangling is not None or definers is not None:
        where = {k: pos for pos, k in enumerate(keep)}

        def needs(i: int) -> list[int]:
            out = [i - 1] if i > 0 and dangling is not None and dangling(keep[i]) else []
            return out + [where[j] for j in (definers or _none)(keep[i]) if j in where]

        picked = fix_opener(picked, scores, needs)
    return [keep[i] for i in picked]


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
