"""Same-event clustering: articles from different outlets about one event join one story.

Near-duplicates (the same wire copy) are linked by MinHash in :mod:`briefings.stories.duplicates`.
Rewritten reports of the same event share far fewer 5-shingles but still share their
headline's key words and their names ("Trump", "Greenland", "Denmark"). :func:`same_event`
scores that overlap for two articles published within :data:`EVENT_WINDOW` of each other;
:func:`best_event` picks the best earlier story among candidates that share an uncommon
headline term: ingest finds them through the store's headline-term keys
(:mod:`briefings.stories.linking`), :class:`EventIndex` through postings in memory.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from briefings.text.words import TERM, stop_words

__all__ = [
    "EVENT_THRESHOLD",
    "EVENT_WINDOW",
    "EventIndex",
    "EventKey",
    "best_event",
    "common_limit",
    "event_key",
    "event_score",
    "same_event",
]

EVENT_WINDOW = timedelta(days=3)
EVENT_THRESHOLD = 0.5  # on BBC headlines, 0.45-0.5 still joined different events
MIN_SHARED_TITLE_TERMS = 2
TITLE_WEIGHT = 0.6  # the rest of the score comes from shared keyphrases/entities
COMMON_SHARE = 0.02  # a headline word in more of the indexed articles than this is common
COMMON_MIN = 20

# Words a headline uses for any event; sharing them says nothing.
_HEADLINE_WORDS = """
    says say said tells told asks new make makes made get gets set sets back first last
    year years day days week weeks time report reports amid after over could would will
    may might must can one two three more most us-based live update updates latest
    news breaking watch video photos exclusive opinion analysis why how what who when
"""


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    return stop_words("english") | frozenset(_HEADLINE_WORDS.split())


def _fold(word: str) -> str:
    """Case-fold, drop a possessive and fold a simple plural ("tariffs" -> "tariff")."""
    word = unicodedata.normalize("NFKC", word).casefold().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    word = word.rstrip("'")
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word


def title_terms(title: str) -> frozenset[str]:
    """The content words of a headline, folded ("Trump's envoys" -> {"trump", "envoy"}).

    Args:
        title: a headline.
    """
    stop = _stop_words()
    terms = set()
    for match in TERM.finditer(title):
        raw = match.group(0)
        word = _fold(raw)
        # "US" and "UK" are names, not the pronoun "us"
        is_name = raw.isupper() and len(raw) > 1
        if is_name or (len(word) > 2 and word not in stop and not word.isdigit()):
            terms.add(word)
    return frozenset(terms)


def phrase_terms(keyphrases: Iterable[str]) -> frozenset[str]:
    """Folded keyphrases (entities and noun phrases) of an article.

    Args:
        keyphrases: as stored on the article (best first).
    """
    out = set()
    for phrase in keyphrases:
        folded = " ".join(_fold(word) for word in phrase.replace(".", "").split())
        if folded and folded not in _stop_words():
            out.add(folded)
    return frozenset(out)


@dataclass(frozen=True)
class EventKey:
    """What same-event matching compares: headline terms, keyphrases and a time."""

    title: frozenset[str]
    phrases: frozenset[str]
    when: datetime


def event_key(title: str, keyphrases: Sequence[str], when: datetime) -> EventKey:
    """Build the :class:`EventKey` of an article.

    Args:
        title: the headline.
        keyphrases: the article's keyphrases (entities first).
        when: its publication time (or when it was first seen); aware datetime.
    """
    return EventKey(title_terms(title), phrase_terms(keyphrases), when)


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2.0 * len(a & b) / (len(a) + len(b))


def event_score(
    a: EventKey,
    b: EventKey,
    *,
    window: timedelta = EVENT_WINDOW,
    common: frozenset[str] = frozenset(),
) -> float:
    """How strongly two articles look like reports of the same event (0..1).

    Zero when they are further apart in time than ``window``, share fewer than two
    headline words, or share only ``common`` ones (words in many recent headlines, such
    as "Trump" on a busy day); otherwise a blend of the Dice overlap of their headline
    words and of their keyphrases.

    Args:
        a: one article's key.
        b: the other's.
        window: the largest time difference of reports about one event.
        common: headline words too frequent to identify an event on their own.
    """
    if abs(a.when - b.when) > window:
        return 0.0
    shared = a.title & b.title
    if len(shared) < MIN_SHARED_TITLE_TERMS or not (shared - common):
        return 0.0
    return TITLE_WEIGHT * _dice(a.title, b.title) + (1.0 - TITLE_WEIGHT) * _dice(
        a.phrases, b.phrases
    )


def same_event(a: EventKey, b: EventKey, *, threshold: float = EVENT_THRESHOLD) -> bool:
    """True when two articles report the same event (see :func:`event_score`).

    Args:
        a: one article's key.
        b: the other's.
        threshold: the score from which they count as one story.
    """
    return event_score(a, b) >= threshold


class EventIndex:
    """Recent articles' event keys, indexed by headline term, to find a new one's story.

    Args:
        threshold: same-event score threshold.
        window: time window of one event.
    """

    def __init__(
        self, threshold: float = EVENT_THRESHOLD, window: timedelta = EVENT_WINDOW
    ) -> None:
        self.threshold = threshold
        self.window = window
        self._keys: list[tuple[EventKey, int]] = []  # (key, story id)
        self._postings: dict[str, list[int]] = defaultdict(list)  # headline word -> keys

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: EventKey, story_id: int) -> None:
        """Remember that the article with ``key`` belongs to ``story_id``."""
        position = len(self._keys)
        self._keys.append((key, story_id))
        for term in key.title:
            self._postings[term].append(position)

    def match(self, key: EventKey) -> int | None:
        """Return the story of the best same-event earlier article, or None."""
        limit = common_limit(len(self._keys))
        common = frozenset(t for t in key.title if len(self._postings.get(t, ())) > limit)
        # a match shares at least one uncommon headline word: only those propose candidates
        candidates: set[int] = set()
        for term in key.title - common:
            candidates.update(self._postings.get(term, ()))
        return best_event(
            key,
            (self._keys[position] for position in candidates),
            common=common,
            window=self.window,
            threshold=self.threshold,
        )


def common_limit(indexed: int) -> int:
    """Postings above which a headline word is common, among ``indexed`` articles.

    Args:
        indexed: how many articles the postings were counted over.
    """
    return max(COMMON_MIN, int(indexed * COMMON_SHARE))


def best_event(
    key: EventKey,
    candidates: Iterable[tuple[EventKey, int]],
    *,
    common: frozenset[str] = frozenset(),
    window: timedelta = EVENT_WINDOW,
    threshold: float = EVENT_THRESHOLD,
) -> int | None:
    """The story of the candidate that best reports the same event as ``key``, or None.

    Args:
        key: the new article's key.
        candidates: (key, story id) of earlier articles.
        common: headline words too frequent to identify an event (see :func:`event_score`).
        window: the largest time difference of reports about one event.
        threshold: the score from which they count as one story.
    """
    best: tuple[float, int] | None = None
    for other, story_id in candidates:
        score = event_score(key, other, window=window, common=common)
        if score >= threshold and (best is None or score > best[0]):
            best = (score, story_id)
    return best[1] if best else None
