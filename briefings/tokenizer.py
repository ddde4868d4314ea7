"""Offline sentence and word tokenisation behind sumy's tokenizer interface.

sumy's stock ``Tokenizer`` needs NLTK "punkt" data, which is downloaded at run
time; nothing here may download anything. Sentences are split with ``nupunkt``
(its default model ships inside the wheel) and words with one regular
expression equivalent to sumy's own word filter.

The nupunkt splitter is built lazily, once per process, on first use.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nupunkt import PunktSentenceTokenizer

__all__ = [
    "WORD_RE",
    "OfflineTokenizer",
    "split_paragraphs",
    "split_sentences",
    "strip_dateline",
    "to_words",
]

# Abbreviations nupunkt's default model does not always know (no final period).
_EXTRA_ABBREVIATIONS = (
    "e.g",
    "i.e",
    "al",
    "etc",
    "approx",
    "gov",
    "sen",
    "rep",
    "gen",
    "lt",
    "col",
    "sgt",
    "capt",
    "cmdr",
    "adm",
    "supt",
    "insp",
    "det",
    "rev",
    "st",
    "ave",
    "blvd",
    "no",
    "vs",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "jr",
    "sr",
    "inc",
    "ltd",
    "co",
    "corp",
    "u.s",
    "u.k",
    "u.n",
    "d.c",
    "a.m",
    "p.m",
)

# Same definition of a "word" as sumy's Tokenizer._is_word: letters, inner ' and -.
WORD_RE = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")

_DASH = r"(?:--|[—–]|-(?=\s))"
# "(CNN)", "London (CNN) --", "Sanaa, Yemen (CNN)", "WASHINGTON (Reuters) -",
# "NEW YORK, March 3 (AP) —": an optional place, then a short parenthesised agency.
_DATELINE_AGENCY = re.compile(
    r"\A\s*(?:[A-Z][\w.'’-]*(?:[ ,]+[A-Z0-9][\w.'’-]*){0,5},?\s*)?"
    r"\((?:[A-Z][\w.&'’-]*)(?:\s[A-Z][\w.&'’-]*){0,3}\)\s*" + _DASH + r"?\s*"
)
# "WASHINGTON —", "LOS ANGELES, Calif. --": an all-caps place followed by a dash.
_DATELINE_CAPS = re.compile(
    r"\A\s*[A-Z][A-Z.'’-]+(?:\s[A-Z][A-Z.'’-]+){0,3}(?:,\s*[A-Z][\w.]*(?:\s[A-Z0-9][\w.]*){0,2})?"
    r"\s*" + _DASH + r"\s*"
)
_BLANK_LINE = re.compile(r"\n\s*\n")
_TERMINAL = frozenset(".!?:;\"”’')")


# nupunkt's default model was trained largely on legal/government text and
# lists thousands of "abbreviations", many of them plain words that end news
# sentences ("century.", "cent."). Alphabetic ones of 4+ letters are dropped
# unless listed here, and so are these common short words.
_KEEP_LONG_ABBREVIATIONS_TEXT = """
    approx assn assoc atty bldg blvd calif capt cmdr colo conn corp dept dist govt inst
    intl mich minn mont okla penn prof sept supt tenn univ ariz mssrs messrs"""
_KEEP_LONG_ABBREVIATIONS = frozenset(_KEEP_LONG_ABBREVIATIONS_TEXT.split())
_COMMON_SHORT_WORDS_TEXT = """
    ago all add am an art at axe aye bat bed bee bin bra bro bus can cap car cod con coo
    cow day den dig doc dud fed fig fin hay hen how hum ilk in keg lab law leg lit low mag
    me men met mod mum nor or pat pen per pet pin pop pow pub raw rob row sat saw sir so sum
    sun tax ten tit vet wed wig win yea yep yup ill bay dad mom boy war way one two six"""
_COMMON_SHORT_WORDS = frozenset(_COMMON_SHORT_WORDS_TEXT.split())


def _is_spurious(abbreviation: str) -> bool:
    """True for model "abbreviations" that are really ordinary words."""
    if not abbreviation.isalpha():
        return False
    if len(abbreviation) >= 4:
        return abbreviation not in _KEEP_LONG_ABBREVIATIONS
    return abbreviation in _COMMON_SHORT_WORDS


@lru_cache(maxsize=1)
def _splitter() -> PunktSentenceTokenizer:
    """Build the nupunkt splitter once per process (not at import)."""
    import copy

    import nupunkt

    params = copy.deepcopy(nupunkt.load("default").parameters)  # never edit the shared model
    params.abbrev_types = {a for a in params.abbrev_types if not _is_spurious(a)}
    params.abbrev_types.update(_EXTRA_ABBREVIATIONS)
    return nupunkt.PunktSentenceTokenizer(params)


def strip_dateline(text: str) -> str:
    """Remove a leading news dateline ("(CNN) —", "WASHINGTON (Reuters) -").

    Args:
        text: the start of an article (or a first sentence).

    Returns:
        ``text`` without the dateline, or ``text`` unchanged when there is none
        or when removing it would leave too little.
    """
    for pattern in (_DATELINE_AGENCY, _DATELINE_CAPS):
        match = pattern.match(text)
        if match is not None:
            rest = text[match.end() :]
            first = rest[:1]
            if len(rest) >= 20 and (first.isupper() or first.isdigit() or first in "\"“‘'"):
                return rest
    return text


def _squash(text: str) -> str:
    """Collapse every whitespace run (incl. NBSP, newlines) to one space; strip."""
    if "\u200b" in text:
        text = text.replace("\u200b", "")
    return " ".join(text.split())


def split_paragraphs(text: str) -> list[str]:
    """Split text into paragraphs: blank lines, or lines that are not soft wraps.

    A single newline is a soft wrap (joined with a space) only when the line does
    not end like a sentence and the next one starts in lower case; otherwise
    lines are kept apart, as in dumps with one paragraph per line.

    Args:
        text: plain text.

    Returns:
        Non-empty paragraphs with whitespace normalised.
    """
    if "\n" not in text:
        line = _squash(text)
        return [line] if line else []
    paragraphs: list[str] = []
    for block in _BLANK_LINE.split(text):
        current = ""
        for raw in block.split("\n"):
            line = _squash(raw)
            if not line:
                continue
            if current and current[-1] not in _TERMINAL and line[0].islower():
                current = f"{current} {line}"
            else:
                if current:
                    paragraphs.append(current)
                current = line
        if current:
            paragraphs.append(current)
    return paragraphs


def _sentences_of(paragraph: str) -> list[str]:
    """Split one paragraph; re-attach fragments that cannot start a sentence."""
    out: list[str] = []
    for raw in _splitter().tokenize(paragraph):
        sentence = raw.strip()
        if not sentence:
            continue
        # '"Really?" she asked.' is one sentence; so is a stray closing quote.
        if out and (sentence[0].islower() or sentence[0] in ",;)]}”’" or len(sentence) < 3):
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out


def split_sentences(text: str) -> list[str]:
    """Split an article body into sentences, dateline removed.

    Args:
        text: article text; paragraphs separated by blank lines (single
            newlines between paragraphs are tolerated).

    Returns:
        Sentences in document order, whitespace-normalised; [] for blank text.
    """
    sentences: list[str] = []
    for i, paragraph in enumerate(split_paragraphs(text)):
        if i == 0:
            paragraph = strip_dateline(paragraph)
        sentences.extend(_sentences_of(paragraph))
    return sentences


def to_words(sentence: str) -> tuple[str, ...]:
    """Word tokens of a sentence (letters with inner apostrophes/hyphens).

    Args:
        sentence: one sentence.

    Returns:
        The words in order, case preserved; numbers and punctuation dropped.
    """
    return tuple(WORD_RE.findall(sentence))


class OfflineTokenizer:
    """sumy tokenizer interface backed by nupunkt; never needs NLTK data.

    Args:
        language: language name as sumy spells it ("english"); used only for
            the ``language`` attribute (nupunkt's model is English-trained but
            splits most Latin-script text sensibly).
    """

    def __init__(self, language: str = "english") -> None:
        self._language = language.lower()

    @property
    def language(self) -> str:
        """The language name this tokenizer was built for."""
        return self._language

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        """Split a paragraph into sentences.

        Args:
            paragraph: text of one paragraph (newlines are treated as spaces).

        Returns:
            The sentences, stripped.
        """
        return tuple(_sentences_of(_squash(paragraph)))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        """Split a sentence into words.

        Args:
            sentence: one sentence.

        Returns:
            The words, as sumy's own tokenizer would keep them.
        """
        return to_words(sentence)
