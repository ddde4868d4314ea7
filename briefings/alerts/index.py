"""A pure inverted index from follow terms to follows: which follows a batch of articles meets.

Matching is term-at-a-time: each distinct term of every follow is looked up once in the
full-text index, over the new articles only (the caller supplies the postings), and each
follow is decided from the postings of its own terms, starting with its rarest one. A
common word's postings are read only up to a limit; it is then checked on the few
candidates its follows' rarer words left. The cost grows with distinct terms and with
matches, never with follows × articles. The
semantics are the daily follow's (storage/matching.py): every included word must occur
(each word's tokens, like a search), and no excluded word may.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass

Tokens = Callable[[str], list[str]]  # storage.search.query_terms: the index's query tokens
# (term, anchors) -> new articles holding the term and one of the anchor terms
Holding = Callable[[str, set[str]], set[int]]


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

    def needs_full(self, truncated: set[str]) -> set[str]:
        """Terms to read in full: one per follow whose every included term was truncated."""
        out = set()
        for terms in self._follows.values():
            if terms.include <= truncated:
                out.add(min(terms.include, key=lambda t: (-len(t), t)))  # longer: likely rarer
        return out

    def match(
        self,
        postings: Mapping[str, Iterable[int]],
        truncated: Set[str] = frozenset(),
        holding: Holding | None = None,
    ) -> dict[int, set[int]]:
        """The new articles each follow matches: follow id -> article ids.

        Each follow starts from the intersection of its complete postings (rarest first);
        its truncated (common) terms are then checked against those candidates' rarest
        terms only, one ``holding`` call per term for all follows at once.

        Args:
            postings: term -> ids of the new articles holding it (missing = none).
            truncated: terms whose postings are incomplete (see :meth:`needs_full`).
            holding: (term, anchor terms) -> new articles holding the term and an anchor;
                needed with truncated terms (one call per truncated term).
        """
        sets = {term: set(ids) for term, ids in postings.items()}
        empty: set[int] = set()
        plans: list[tuple[int, set[int]]] = []
        checks: dict[str, set[str]] = {}  # truncated term -> rarest terms of its follows
        candidates = {fid for term in sets if sets[term] for fid in self._by_term.get(term, ())}
        for follow_id in candidates:
            terms = self._follows[follow_id]
            known = [t for t in terms.include if t not in truncated]
            if not known:  # the caller did not read any of its terms in full
                continue
            if len(known) > 1:
                known.sort(key=lambda t: len(sets.get(t, empty)))
            found = set(sets.get(known[0], empty))
            for term in known[1:]:
                if not found:
                    break
                found &= sets.get(term, empty)
            if not found:
                continue
            for term in terms.include | {t for group in terms.exclude for t in group}:
                if term in truncated:  # found is within known[0]'s postings
                    checks.setdefault(term, set()).add(known[0])
            plans.append((follow_id, found))
        if checks and holding is None:
            raise ValueError("truncated postings need a holding() lookup")
        held = {term: holding(term, anchors) for term, anchors in checks.items()} if holding else {}

        def has(term: str) -> set[int]:
            return held.get(term, empty) if term in truncated else sets.get(term, empty)

        out: dict[int, set[int]] = {}
        for follow_id, found in plans:
            terms = self._follows[follow_id]
            for term in terms.include:
                if term in truncated:
                    found &= has(term)
            for group in terms.exclude:
                hit: set[int] | None = None
                for term in group:
                    hit = set(has(term)) if hit is None else hit & has(term)
                found -= hit or empty
            if found:
                out[follow_id] = found
        return out
