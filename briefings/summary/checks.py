"""Readability checks on sentences: open quotations, dangling openers, captions.

Pure functions shared by the sentence splitter (never break inside an open
quotation), the summariser (never show a sentence a reader cannot follow on
its own) and ``benchmarks/summaries.py`` (how often each summariser does).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

__all__ = [
    "dangles",
    "headline_style",
    "is_caption",
    "open_quote",
    "repeated_lines",
    "suspects",
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
_CREDIT = re.compile(
    r"(?:\b(?:pic|pics|picture|photo|photos|photograph|image|images|video|credit|source)"
    r"\s*:\s*[\w .&/-]{0,40}$)"
    r"|(?:\((?:getty|afp|reuters|ap|pa|epa|ap photo|file)[\w ./-]{0,30}\)\s*$)"
    r"|(?:\b(?:getty images|shutterstock|alamy)\s*$)",
    re.IGNORECASE,
)
_PROMO = re.compile(
    r"^(?:read more|related|watch|listen|sign up|subscribe|click here|follow us|"
    r"advertisement|live events|download)\b"
    r"|\b(?:whatsapp channel|newsletter|sign up for|click here|follow us on)\b",
    re.IGNORECASE,
)
# Every match of _CREDIT or _PROMO needs a ":", a ")" or one of these words
# (in any case), so a sentence with none of them skips both searches.
_CAPTION_OPENERS = (
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
_CAPTION_WORDS = re.compile(
    "getty images|shutterstock|alamy|whatsapp channel|newsletter|sign up for|click here"
    "|follow us on"
)
# Letters that IGNORECASE matches to an ASCII letter but str.lower() does not
# map onto it (İ, ı and long s): with one of them the searches must run.
_FOLDS_TO_ASCII = frozenset("\u0130\u0131\u017f")


def _may_be_caption(sentence: str) -> bool:
    """A necessary condition for :data:`_CREDIT` or :data:`_PROMO` to match."""
    if ":" in sentence or ")" in sentence:
        return True
    if not sentence.isascii() and not _FOLDS_TO_ASCII.isdisjoint(sentence):
        return True
    low = sentence.lower()
    return low.startswith(_CAPTION_OPENERS) or _CAPTION_WORDS.search(low) is not None


# A mark that can unbalance a quotation or start a credit (an opening single
# quote only where _SINGLE_OPEN finds one), then the caption words and openers.
_SUSPECT = re.compile(r"[\"“”:)]|['‘](?<![^\s(\[—–-].)(?=[^\W\d_])")
_SUSPECT_OPENER = re.compile("^(?:" + "|".join(_CAPTION_OPENERS) + ")", re.MULTILINE)


def suspects(sentences: Sequence[str]) -> frozenset[int]:
    """Indices of the sentences :func:`unbalanced_quote`, :func:`headline_style` or
    :func:`is_caption` (its patterns) could flag; the others are certainly clean.

    One scan of the whole article instead of one per sentence and check.

    Args:
        sentences: whitespace-normalised sentences (no line breaks inside).
    """
    joined = "\n".join(sentences)
    if not joined.isascii() and not _FOLDS_TO_ASCII.isdisjoint(joined):
        return frozenset(range(len(sentences)))
    low = joined.lower()  # as long as ``joined``: only U+0130 lengthens
    ends = list(accumulate(len(sentence) + 1 for sentence in sentences))
    hits = [m.start() for m in _SUSPECT.finditer(joined)]
    hits += [m.start() for m in _CAPTION_WORDS.finditer(low)]
    hits += [m.start() for m in _SUSPECT_OPENER.finditer(low)]
    return frozenset(bisect_right(ends, at) for at in hits)


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
    if _may_be_caption(sentence) and (_CREDIT.search(sentence) or _PROMO.search(sentence)):
        return True
    return sentence in repeated
