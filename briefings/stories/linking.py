"""Link keys: what the store indexes so that a new article finds its story in a window.

A stored article is found again through integer *link keys* kept in an indexed table
(``storage.links``), not through an in-memory index, so that the ingest worker's memory
does not grow with the store:

- one key per LSH band of its MinHash signature (the bands :class:`NearDuplicateIndex`
  uses): two texts share a band key exactly when the in-memory LSH would propose them;
- one key per headline term (:func:`~briefings.stories.events.title_terms`): the postings
  :class:`~briefings.stories.events.EventIndex` keeps in memory.

Candidates found by key are then compared exactly, as before: :func:`best_near` on the
signatures, :func:`~briefings.stories.events.best_event` on the event keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from briefings.stories.duplicates import DEFAULT_THRESHOLD, band_ranges, signature_similarity
from briefings.stories.events import title_terms

__all__ = ["band_keys", "best_near", "link_keys", "term_key", "term_keys"]

DEFAULT_WINDOW_DAYS = 7  # STORY_WINDOW_DAYS: how far apart a re-report may be and still link


def _key(kind: bytes, data: bytes) -> int:
    """A signed 64-bit key (what BIGINT holds on both engines) of ``kind`` + ``data``."""
    digest = hashlib.blake2b(kind + data, digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def band_keys(sig: bytes, threshold: float = DEFAULT_THRESHOLD) -> list[int]:
    """One key per LSH band of a MinHash signature; equal keys = a shared band.

    Args:
        sig: a signature from :func:`~briefings.stories.duplicates.minhash_signature`.
        threshold: the near-duplicate threshold the bands are tuned for.
    """
    return [
        _key(b"b" + band.to_bytes(2, "little"), sig[start:end])
        for band, (start, end) in enumerate(band_ranges(len(sig) // 8, threshold))
    ]


def term_key(term: str) -> int:
    """The key of one folded headline term.

    Args:
        term: as :func:`~briefings.stories.events.title_terms` returns it.
    """
    return _key(b"t", term.encode("utf-8"))


def term_keys(terms: Iterable[str]) -> dict[str, int]:
    """Each folded headline term with its key.

    Args:
        terms: folded headline terms.
    """
    return {term: term_key(term) for term in terms}


def link_keys(title: str, minhash: bytes | None) -> list[int]:
    """Every link key of an article (distinct, band keys first).

    Args:
        title: its headline.
        minhash: its signature, if it has one.
    """
    keys = band_keys(minhash) if minhash else []
    keys.extend(term_keys(title_terms(title)).values())
    return list(dict.fromkeys(keys))


def best_near(
    sig: bytes, candidates: Iterable[tuple[int, bytes]], threshold: float = DEFAULT_THRESHOLD
) -> int | None:
    """The story of the most similar candidate at or above ``threshold``, or None.

    Args:
        sig: the new article's signature.
        candidates: (story id, signature) of earlier articles (ties: the first wins).
        threshold: estimated Jaccard similarity from which they are one story.
    """
    best: tuple[float, int] | None = None
    for story_id, other in candidates:
        score = signature_similarity(sig, other)
        if score >= threshold and (best is None or score > best[0]):
            best = (score, story_id)
    return best[1] if best else None
