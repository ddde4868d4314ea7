"""Per-sentence signals behind the "briefbot" ranker (pure NumPy, vectorised).

TF-IDF cosine similarities and centroid cosines (:func:`similarity`), LexRank
centrality (:func:`pagerank`), surface features (:func:`surface`: length, quoted
share, fragments) and the position prior. :mod:`briefings.summary.rank` combines
them into one salience score.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat

import numpy as np
from numpy.typing import NDArray

__all__ = ["pagerank", "position_prior", "similarity", "surface"]

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


def similarity(ids: Ids, rows: Ids, m: int) -> tuple[Matrix, Matrix, Matrix]:
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


def pagerank(sim: Matrix, damping: float, sums: Matrix) -> Matrix:
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


def surface(
    sentences: Sequence[str], low: float, high: float, w_short: float, w_long: float
) -> tuple[Matrix, Matrix, Matrix, int]:
    """Length penalty, quoted share of characters and fragment flag per sentence.

    Word counts and case checks run in C (``map`` over str methods), the
    arithmetic in NumPy; only the quote check loops over sentences.

    Returns:
        ``(length_penalty, quoted, fragment, usable)`` where ``usable`` counts
        sentences that are neither fragments nor mostly quotation.
    """
    m = len(sentences)
    count = np.fromiter(map(str.count, sentences, repeat(" ", m)), np.float64, count=m) + 1.0
    lengths = np.maximum(low - count, 0.0) * (w_short / low)
    lengths += np.minimum(np.maximum(count - high, 0.0), 2.0 * high) * (w_long / high)
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
def position_prior(m: int, tau: float, w_first: float) -> Matrix:
    """exp(-i / tau), plus ``w_first`` for the first sentence (read-only, cached)."""
    prior = np.exp(np.arange(m, dtype=np.float64) / -tau)
    prior[0] += w_first
    prior.setflags(write=False)
    return prior
