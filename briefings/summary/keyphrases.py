"""Keyphrases of an article: named entities and salient noun phrases, offline.

Candidates are (a) runs of capitalised words inside sentences ("Jack Ma",
"Silicon Valley", "DeepSeek", "BRICS") and (b) RAKE-style runs of content words
between stop words and punctuation ("agentic AI", "tech talent"). A candidate
scores by how often it occurs, where it first appears, whether the title
contains it, and whether it is a proper name; near-duplicates (case, plural,
one phrase inside a better one) are merged.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from briefings.text.words import stop_words

__all__ = ["keyphrases"]

_TOKEN = re.compile(r"[^\W_](?:[\w&'’.-]*[^\W_])?|[.!?;:,()\"“”—–]|\s-\s")
_BREAK = frozenset('.!?;:,()"“”—–') | {" - "}
_SENTENCE_END = frozenset('.!?"“”')
MAX_BODY_CHARS = 20_000  # a long story's key phrases are in its first pages
_GENERIC_TEXT = """
    said says say told tell according also would could one two three new year years
    last first people time times week month day days today yesterday monday tuesday
    wednesday thursday friday saturday sunday january february march april may june july
    august september october november december mr mrs ms dr per cent percent including
    like just many much well made make makes get got way even still back since
    image images photo photos video getty reuters ap afp cnn read share click"""
_GENERIC = frozenset(_GENERIC_TEXT.split())


_CONNECTORS = frozenset(
    {"of", "de", "del", "la", "von", "van", "der", "mr", "mrs", "ms", "dr", "sir"}
)
_FUNCTION_WORDS_TEXT = """
    a an the and or but if of in on at to for with by from as is are was were be been it its
    he she they we i you his her their our my your this that these those there here when
    while after before because so not no yes also than then
"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    return stop_words("english")


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() or (len(word) > 1 and any(c.isupper() for c in word[1:]))


def _candidates(text: str, stop: frozenset[str]) -> tuple[list[tuple[str, bool, int]], int]:
    """(phrase, is_proper_name, token position) for every candidate occurrence, and the
    number of tokens of ``text``."""
    out: list[tuple[str, bool, int]] = []
    tokens = _TOKEN.findall(text)
    proper: list[str] = []
    plain: list[str] = []
    sentence_start = True

    def flush_proper(pos: int) -> None:
        while proper and proper[0].lower() in _CONNECTORS:
            proper.pop(0)
        while proper and proper[-1].lower() in _CONNECTORS:
            proper.pop()
        # Drop names made only of generic words ("Monday", "Mr").
        if 0 < len(proper) <= 4 and any(w.lower() not in _GENERIC for w in proper):
            out.append((" ".join(proper), True, pos))
        proper.clear()

    def flush_plain(pos: int) -> None:
        # A lone verb form or adverb ("received", "making", "quickly") is not a topic.
        if len(plain) == 1 and plain[0].endswith(("ed", "ing", "ly")):
            plain.clear()
        if 1 <= len(plain) <= 3:
            out.append((" ".join(plain), False, pos))
        plain.clear()

    for pos, token in enumerate(tokens):
        if token in _BREAK or token.strip() in _BREAK:
            flush_proper(pos)
            flush_plain(pos)
            sentence_start = token in _SENTENCE_END or sentence_start
            continue
        possessive = token.endswith(("'s", "’s")) and len(token) > 3
        if possessive:
            token = token[:-2]
        lower = token.lower().rstrip(".")
        capitalised = _is_capitalised(token) and not token.isdigit()
        if capitalised and (
            lower not in stop and lower not in _GENERIC
            if sentence_start
            else lower not in _FUNCTION_WORDS
        ):
            # Mid-sentence "New", "Little", "First" may start a name ("New York");
            # a sentence-initial "The", "But", "Last" does not.
            proper.append(token.rstrip(".") if token.count(".") == 1 else token)
            flush_plain(pos)
            if possessive:  # "China's AI": the name ends at the possessive
                flush_proper(pos)
        elif proper and lower in _CONNECTORS and not capitalised:
            proper.append(token)  # "Bank of England"
        elif capitalised and lower in _CONNECTORS:
            proper.append(token)  # "Mr" before a name: trimmed when the name is flushed
        else:
            flush_proper(pos)
            if lower in stop or lower in _GENERIC or token[:1].isdigit() or len(lower) < 3:
                flush_plain(pos)
            else:
                plain.append(lower)
                if possessive:
                    flush_plain(pos)
        sentence_start = False
    flush_proper(len(tokens))
    flush_plain(len(tokens))
    return out, len(tokens)


def _norm(phrase: str) -> str:
    """Grouping key: lower case, simple plural folded."""
    words = phrase.lower().split()
    last = words[-1]
    if len(last) > 4 and last.endswith("s") and not last.endswith("ss"):
        words[-1] = last[:-1]
    return " ".join(words)


def keyphrases(title: str, body: str, k: int = 8) -> list[str]:
    """The ``k`` most salient phrases of an article, best first.

    Args:
        title: headline (phrases in it get a boost); may be empty.
        body: article text.
        k: how many phrases to return.

    Returns:
        Up to ``k`` distinct phrases in their most frequent surface form
        ("Hangzhou", "DeepSeek", "agentic AI"); [] for empty input.
    """
    if k <= 0 or not (title.strip() or body.strip()):
        return []
    stop = _stop_words()
    occurrences, n_tokens = _candidates(body[:MAX_BODY_CHARS], stop)
    in_title, _ = _candidates(title, stop)
    title_keys = {_norm(p) for p, _, _ in in_title}
    total = max(len(occurrences), 1)
    stats: dict[str, list[float]] = {}  # key -> [count, proper count, first position]
    forms: dict[str, dict[str, int]] = {}
    for phrase, is_proper, pos in occurrences:
        key = _norm(phrase)
        entry = stats.setdefault(key, [0.0, 0.0, float(pos)])
        entry[0] += 1
        entry[1] += is_proper
        form_counts = forms.setdefault(key, {})
        form_counts[phrase] = form_counts.get(phrase, 0) + 1
    for phrase, is_proper, _ in in_title:
        key = _norm(phrase)
        if key not in stats:
            stats[key] = [0.0, float(is_proper), 0.0]
            forms[key] = {phrase: 1}
    n_tokens = max(n_tokens, 1)
    scored: list[tuple[float, str]] = []
    for key, (count, proper_count, first) in stats.items():
        words = key.count(" ") + 1
        proper_share = proper_count / max(count, 1)
        score = math.log1p(count) * (1.0 + 0.5 * (words - 1))
        score *= 1.0 + 1.5 * proper_share
        score *= 1.0 + 0.5 * (1.0 - first / n_tokens)
        if key in title_keys:
            score *= 2.0
        if count <= 1 and key not in title_keys and total > 20:
            score *= 0.3
        scored.append((score, key))
    scored.sort(key=lambda item: (-item[0], item[1]))
    chosen: list[str] = []
    for _, key in scored:
        if any(key in other.split(" ") or f" {key} " in f" {other} " for other in chosen):
            continue
        # A longer phrase absorbs an already chosen part of it ("jack" -> "jack ma").
        chosen = [c for c in chosen if f" {c} " not in f" {key} "]
        chosen.append(key)
        if len(chosen) >= k:
            break
    return [max(forms[key].items(), key=lambda f: (f[1], f[0]))[0] for key in chosen]
