"""Readability checks on sentences: open quotations, dangling openers, captions.

Pure functions shared by the sentence splitter (never break inside an open
quotation), the summariser (never show a sentence a reader cannot follow on
its own) and ``benchmarks/summaries.py`` (how often each summariser does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = [
    "dangles",
    "find_single_opener",
    "headline_style",
    "is_caption",
    "open_quote",
    "repeated_lines",
    "unbalanced_quote",
]

# A single quote that opens: at the start or after a space/bracket/dash, before a
# letter ("'People come here…", "‘needs’"); not "'90s" nor "rock 'n' roll".
# (Written quote-first, the look-behind after it, so that the engine scans for
# the quote marks instead of trying every position.)
_SINGLE_OPEN = re.compile(r"['‘](?<![^\s(\[—–-].)(?=[^\W\d_])")
# A single quote that closes: after a letter or punctuation, before a space,
# punctuation or the end ("…possibilities,'", "‘needs’ Greenland").
_SINGLE_CLOSE = re.compile(r"['’](?<=[\w.,!?…].)(?=[\s,.;:!?)\]—–-]|$)")
# Where a single quote opens (a cheap pre-check for callers of :func:`open_quote`).
find_single_opener = _SINGLE_OPEN.search


def _single_open(sentence: str) -> bool:
    """Whether a single-quoted passage opened in ``sentence`` is still open at its end."""
    if "'" not in sentence and "‘" not in sentence:
        return False
    last = -1
    for match in _SINGLE_OPEN.finditer(sentence):
        last = match.start()
    # A close right after the opener is impossible (it must follow a letter or
    # punctuation), so searching from ``last + 1`` finds every close after it.
    return last >= 0 and _SINGLE_CLOSE.search(sentence, last + 1) is None


def open_quote(sentence: str) -> bool:
    """Whether ``sentence`` ends inside a quotation it opened.

    Straight double quotes count by parity, curly ones by opening minus closing
    marks; single quotes only when an opening one has no closing one after it
    (an apostrophe is not a quote).

    Args:
        sentence: one sentence or a run of sentences.
    """
    if sentence.count('"') % 2 == 1 and not _closes_first(sentence):
        return True
    if sentence.count("“") > sentence.count("”"):
        return True
    return _single_open(sentence)


def _closes_first(sentence: str) -> bool:
    """A lone straight quote that closes a quotation begun earlier ('…emperor." he said')."""
    at = sentence.find('"')
    return sentence.count('"') == 1 and at > 0 and not sentence[at - 1].isspace()


def unbalanced_quote(sentence: str) -> bool:
    """Whether a quotation in ``sentence`` is left open or closed without opening.

    Args:
        sentence: one summary sentence.
    """
    if sentence.count('"') % 2 == 1:
        return True
    if sentence.count("“") != sentence.count("”"):
        return True
    return _single_open(sentence)


# Words that point back at something the reader must already know.
_POINTERS = frozenset(
    [
        "he",
        "she",
        "they",
        "it",
        "this",
        "these",
        "those",
        "that",
        "his",
        "her",
        "their",
        "its",
        "him",
        "them",
        "we",
        "but",
        "and",
        "however",
        "also",
        "meanwhile",
        "still",
        "instead",
        "yet",
        "so",
        "then",
        "such",
        "both",
        "another",
        "others",
        "otherwise",
        "moreover",
        "furthermore",
        "additionally",
        "nevertheless",
    ]
)
# "The official said…": a definite description of someone introduced earlier.
_ROLE_NOUNS = frozenset(
    [
        "official",
        "officials",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "man",
        "woman",
        "men",
        "women",
        "boy",
        "girl",
        "boys",
        "girls",
        "child",
        "children",
        "baby",
        "couple",
        "pair",
        "victim",
        "victims",
        "suspect",
        "suspects",
        "source",
        "sources",
        "former",
        "latter",
        "same",
        "move",
        "decision",
        "incident",
        "attack",
        "report",
        "deal",
        "company",
        "firm",
        "group",
        "star",
        "player",
        "singer",
        "actor",
        "actress",
        "driver",
        "teenager",
        "mother",
        "father",
        "son",
        "daughter",
        "husband",
        "wife",
        "brothers",
        "sisters",
        "family",
        "officer",
        "officers",
        "agency",
    ]
)
_PERSONAL = frozenset(["he", "she", "him", "her", "himself", "herself"])
_PERSON_WINDOW = 8
_FIRST_WORDS = re.compile(r"[\"“‘'(]*([^\W\d_][\w'’-]*)(?:\s+([\w'’-]+))?")
_AGED = re.compile(r"\d+-year-olds?$")


def dangles(sentence: str) -> bool:
    """Whether ``sentence`` opens on a pointer to an antecedent it does not name.

    True for a pronoun or connective first word ("He", "This", "But") and for a
    definite description of a role ("The official", "The 42-year-old").

    Args:
        sentence: a sentence that would open a summary.
    """
    match = _FIRST_WORDS.match(sentence)
    if match is None:
        return False
    first = match.group(1).lower()
    if first in _POINTERS:
        return True
    # "An entrepreneur herself, she…": a person referred to before anyone is named.
    for word in sentence.split()[1:_PERSON_WINDOW]:
        bare = word.strip(",;:\"“”‘’'()")
        if bare.lower() in _PERSONAL:
            return True
        if bare[:1].isupper():
            break
    if first == "the" and match.group(2):
        second = match.group(2).lower().rstrip("'’s")
        return second in _ROLE_NOUNS or bool(_AGED.match(match.group(2)))
    return False


# Photo/video credits and promo lines: "Pic: Reuters", "Photo: AP", "(Getty Images)".
# Each pattern runs only when a cheap test that every match passes says it might
# match (see _credit_or_promo): a ":", a ")", the line's end, start or a promo phrase.
_CREDIT_LABEL = re.compile(
    r"\b(?:pic|pics|picture|photo|photos|photograph|image|images|video|credit|source)"
    r"\s*:\s*[\w .&/-]{0,40}$",
    re.IGNORECASE,
)
_CREDIT_AGENCY = re.compile(
    r"\((?:getty|afp|reuters|ap|pa|epa|ap photo|file)[\w ./-]{0,30}\)\s*$", re.IGNORECASE
)
_CREDIT_NAMES = ("getty images", "shutterstock", "alamy")
_CREDIT_NAME = re.compile(r"\b(?:" + "|".join(_CREDIT_NAMES) + r")\s*$", re.IGNORECASE)
_PROMO_OPENERS = (
    "read more",
    "related",
    "watch",
    "listen",
    "sign up",
    "subscribe",
    "click here",
    "follow us",
    "advertisement",
    "live events",
    "download",
)
_PROMO_START = re.compile(r"^(?:" + "|".join(_PROMO_OPENERS) + r")\b", re.IGNORECASE)
_PROMO_PHRASES = ("whatsapp channel", "newsletter", "sign up for", "click here", "follow us on")
_PROMO_PHRASE = re.compile(r"\b(?:" + "|".join(_PROMO_PHRASES) + r")\b", re.IGNORECASE)
# Letters that IGNORECASE matches to an ASCII letter but str.lower() does not
# map onto it (İ, ı and long s): with one of them every pattern runs.
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f")


def _credit_or_promo(sentence: str) -> bool:
    """Whether ``sentence`` ends on a credit or is a promo line (the patterns above)."""
    if not sentence.isascii() and not _FOLDS_TO_ASCII.isdisjoint(sentence):
        patterns = (_CREDIT_LABEL, _CREDIT_AGENCY, _CREDIT_NAME, _PROMO_START, _PROMO_PHRASE)
        return any(pattern.search(sentence) for pattern in patterns)
    # Otherwise lower() keeps every character where IGNORECASE would match it.
    low = sentence.lower()
    return bool(
        (":" in sentence and _CREDIT_LABEL.search(sentence))
        or (")" in sentence and _CREDIT_AGENCY.search(sentence))
        or (low.rstrip().endswith(_CREDIT_NAMES) and _CREDIT_NAME.search(sentence))
        or (low.startswith(_PROMO_OPENERS) and _PROMO_START.search(sentence))
        or (any(map(low.__contains__, _PROMO_PHRASES)) and _PROMO_PHRASE.search(sentence))
    )


_CAPTION_MAX_WORDS = 16


def headline_style(sentence: str) -> bool:
    """A short line that quotes with single marks, as headlines and captions do.

    News prose quotes with double marks; a short stand-alone line quoting with
    single ones ("Trump has said America ‘needs’ Greenland") is a caption or a
    repeated headline. The caller checks that the line stands alone and that
    the article's prose uses double quotes.

    Args:
        sentence: a sentence that is a whole paragraph.
    """
    if '"' in sentence or "“" in sentence or len(sentence.split()) > _CAPTION_MAX_WORDS:
        return False
    return _SINGLE_OPEN.search(sentence) is not None and _SINGLE_CLOSE.search(sentence) is not None


def repeated_lines(text: str) -> frozenset[str]:
    """Lines of ``text`` that occur more than once (captions, repeated headings).

    Args:
        text: an article body, one paragraph per line or block.
    """
    lines = text.splitlines()
    if len(lines) < 2:  # one line cannot repeat
        return frozenset()
    seen: set[str] = set()
    repeated: set[str] = set()
    for raw in lines:
        if len(raw) < 20:  # normalising only shortens a line
            continue
        line = " ".join(raw.split())
        if len(line) < 20:
            continue
        if line in seen:
            repeated.add(line)
        seen.add(line)
    return frozenset(repeated)


def is_caption(sentence: str, repeated: frozenset[str] | Sequence[str] = frozenset()) -> bool:
    """Whether ``sentence`` is a caption, a credit or a promo line, not prose.

    Signals: ends on a photo/video credit, is a promo/call to action, or is a
    whole line that the article repeats verbatim (a caption shown twice, a
    title repeated in the body).

    Args:
        sentence: one sentence.
        repeated: lines the article repeats (see :func:`repeated_lines`).
    """
    return _credit_or_promo(sentence) or sentence in repeated
