"""Exact and near-duplicate detection helpers (pure; signatures are bytes for the store).

Exact duplicates share :func:`content_hash` (case-, punctuation- and whitespace-blind).
Near duplicates (the same wire story in two outlets, a story updated with a paragraph)
share many word 5-shingles; :func:`minhash_signature` estimates that Jaccard similarity
and :class:`NearDuplicateIndex` finds candidates with LSH.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Hashable, Iterable
from functools import cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from briefings.text.words import WORD

NUM_PERM = 128
SHINGLE = 5
SEED = 1
# Chosen on the seeds: the two Greenland stories of seeds/004 (same event, rewritten with
# many shared paragraphs) are ~0.35-0.5 Jaccard; unrelated stories are < 0.02.
DEFAULT_THRESHOLD = 0.3

_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'})


def normalise_for_hash(text: str) -> str:
    """Canonical form for hashing: NFKC, case-folded, words only, single spaces.

    Args:
        text: any text (title + body, or body).
    """
    text = unicodedata.normalize("NFKC", text.translate(_QUOTES)).casefold()
    return " ".join(WORD.findall(text))


def content_hash(text: str) -> str:
    """Hex SHA-256 of :func:`normalise_for_hash` of ``text``.

    Args:
        text: the text whose exact duplicates should collide.
    """
    return hashlib.sha256(normalise_for_hash(text).encode("utf-8")).hexdigest()


def shingles(text: str, size: int = SHINGLE) -> set[bytes]:
    """Word ``size``-shingles of the normalised text (the whole text if shorter)."""
    words = normalise_for_hash(text).split()
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


@cache
def _permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    # datasketch draws the same permutations for a seed every time; drawing them is a
    # large share of the cost of a signature, so draw them once per process
    permutations: tuple[np.ndarray, np.ndarray] = MinHash(num_perm=num_perm, seed=SEED).permutations
    return permutations


def _minhash(text: str, num_perm: int) -> MinHash:
    mh = MinHash(num_perm=num_perm, seed=SEED, permutations=_permutations(num_perm))
    items = shingles(text)
    if items:
        mh.update_batch(list(items))
    return mh


def minhash_signature(text: str, num_perm: int = NUM_PERM) -> bytes:
    """Deterministic MinHash signature of the word 5-shingles of ``text``, as bytes.

    Args:
        text: article text (normalised internally).
        num_perm: number of permutations (signature length = ``8 * num_perm`` bytes).

    Returns:
        Little-endian uint64 hash values; store as a BLOB, compare with
        :func:`signature_similarity`.
    """
    return _minhash(text, num_perm).hashvalues.astype("<u8").tobytes()


def _values(sig: bytes) -> np.ndarray:
    if not sig or len(sig) % 8:
        raise ValueError("not a MinHash signature (length must be a positive multiple of 8)")
    return np.frombuffer(sig, dtype="<u8")


def signature_similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the texts behind two signatures (0.0–1.0).

    Args:
        a: signature from :func:`minhash_signature`.
        b: another signature with the same ``num_perm``.

    Raises:
        ValueError: malformed signatures or different lengths.
    """
    va, vb = _values(a), _values(b)
    if len(va) != len(vb):
        raise ValueError("signatures have different numbers of permutations")
    return float(np.count_nonzero(va == vb)) / len(va)


def _from_bytes(sig: bytes) -> MinHash:
    values = _values(sig)
    # LSH reads only the hash values; the permutations are passed so none are drawn
    return MinHash(
        num_perm=len(values),
        seed=SEED,
        hashvalues=values.astype(np.uint64),
        permutations=_permutations(len(values)),
    )


@cache
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """LSH (bands, rows) for ``threshold``, found once a process (datasketch integrates).

    Recall-leaning weights: LSH only proposes candidates, the exact estimate decides.
    """
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(0.2, 0.8))
    return lsh.b, lsh.r


class NearDuplicateIndex:
    """In-memory LSH index of signatures; rebuild it from the stored signatures at start-up.

    Args:
        threshold: Jaccard similarity above which two texts count as the same story.
        num_perm: must match the signatures added.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, num_perm: int = NUM_PERM) -> None:
        self.threshold = threshold
        self.num_perm = num_perm
        self._lsh = MinHashLSH(num_perm=num_perm, params=_bands(threshold, num_perm))
        self._sigs: dict[Hashable, bytes] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._sigs

    def add(self, key: Hashable, sig: bytes) -> None:
        """Index ``sig`` under ``key`` (re-adding a key replaces its signature)."""
        if key in self._sigs:
            self.remove(key)
        self._lsh.insert(key, _from_bytes(sig))
        self._sigs[key] = sig

    def remove(self, key: Hashable) -> None:
        """Forget ``key`` (no-op when absent)."""
        if key in self._sigs:
            self._lsh.remove(key)
            del self._sigs[key]

    def evict_oldest(self, keep: int) -> None:
        """Forget the oldest-added keys until at most ``keep`` remain (bounded memory)."""
        while len(self._sigs) > keep:
            self.remove(next(iter(self._sigs)))

    def query(self, sig: bytes) -> list[Hashable]:
        """Keys whose estimated similarity to ``sig`` reaches the threshold, best first."""
        candidates = self._lsh.query(_from_bytes(sig))
        scored = [(signature_similarity(sig, self._sigs[k]), k) for k in candidates]
        return [k for s, k in sorted(scored, key=lambda x: -x[0]) if s >= self.threshold]

    @classmethod
    def build(cls, items: Iterable[tuple[Hashable, bytes]], **kwargs: float) -> NearDuplicateIndex:
        """Index built from ``(key, signature)`` pairs (e.g. loaded from the store)."""
        index = cls(**kwargs)  # type: ignore[arg-type]
        for key, sig in items:
            index.add(key, sig)
        return index
