"""A pure inverted index from follow terms to follows: which follows a batch of articles meets.

Matching is term-at-a-time: each distinct term of every follow is looked up once in the
full-text index, over the new articles only (the caller supplies the postings), and each
follow is decided from the postings of its own terms, starting with its rarest one. The
cost grows with distinct terms and with matches, never with follows × articles. The
semantics are the daily follow's (storage/matching.py): every included word must occur
(each word's tokens, like a search), and no excluded word may.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

Tokens = Callable[[str], list[str]]  # storage.search.query_terms: the index's query tokens


@dataclass(frozen=True)
class FollowTerms:
    """A follow as index tokens: all of ``include``, none of any ``exclude`` group."""

    include: frozenset[str]
    exclude: tuple[frozenset[str], ...] = ()


def follow_tokens(key: str, tokens: Tokens) -> FollowTerms | None:
    """Split a stored follow key ("chips tariffs -sports") into index tokens.

    Args:
        key: the follow's normalised key (``briefings.subscriptions.FollowQuery.key``).
        tokens: the search's sanitiser, so a follow means what the same words searched mean.

    Returns None when nothing searchable is left.
    """
    words = key.split()
    include = frozenset(t for w in words if not w.startswith("-") for t in tokens(w))
    exclude = tuple(frozenset(tokens(w[1:])) for w in words if w.startswith("-") and tokens(w[1:]))
    return FollowTerms(include, exclude) if include else None


class FollowIndex:
    """Follows by term; :meth:`match` meets them with per-term postings of new articles."""

    def __init__(self) -> None:
        self._follows: dict[int, FollowTerms] = {}
        self._by_term: dict[str, list[int]] = {}

    def add(self, follow_id: int, terms: FollowTerms) -> None:
        """Index one follow under each of its included terms."""
        self._follows[follow_id] = terms
        for term in terms.include:
            self._by_term.setdefault(term, []).append(follow_id)

    def __len__(self) -> int:
        return len(self._follows)

    def terms(self) -> set[str]:
        """Every term whose postings :meth:`match` needs (included and excluded ones)."""
        out = set(self._by_term)
        for terms in self._follows.values():
            for group in terms.exclude:
                out |= group
        return out

    def match(self, postings: Mapping[str, Iterable[int]]) -> dict[int, set[int]]:
        """The new articles each follow matches: follow id -> article ids.

        Args:
            postings: term -> ids of the new articles holding it (missing = none).
        """
        sets = {term: set(ids) for term, ids in postings.items()}
        empty: set[int] = set()
        out: dict[int, set[int]] = {}
        candidates = {fid for term in sets if sets[term] for fid in self._by_term.get(term, ())}
        for follow_id in candidates:
            terms = self._follows[follow_id]
            ordered = sorted(terms.include, key=lambda t: len(sets.get(t, empty)))
            found = set(sets.get(ordered[0], empty))
            for term in ordered[1:]:
                if not found:
                    break
                found &= sets.get(term, empty)
            for group in terms.exclude:
                if not found:
                    break
                hit = None
                for term in group:
                    hit = set(sets.get(term, empty)) if hit is None else hit & sets.get(term, empty)
                found -= hit or empty
            if found:
                out[follow_id] = found
        return out
