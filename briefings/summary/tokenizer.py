"""Offline sentence and word tokenisation behind sumy's tokenizer interface.

sumy's stock ``Tokenizer`` needs NLTK "punkt" data, which is downloaded at run
time; nothing here may download anything. Sentences are split with ``nupunkt``'s
Punkt model (it ships inside the wheel): by default through ``_PunktRules``,
which applies nupunkt's own decision rules and trained parameters in one regex
pass (same sentences as nupunkt on ~99.7% of news sentences, ~4x faster on
unseen text), or with ``exact=True`` through nupunkt's tokenizer itself. Words
come from one regular expression equivalent to sumy's own word filter.

A leading news dateline ("(CNN) —", "WASHINGTON (Reuters) -") is removed from
the first sentence (briefings/summary/paragraphs.py, with the paragraph split). The
nupunkt model is loaded lazily, once per process.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from briefings.summary.checks import find_single_opener, open_quote
from briefings.summary.paragraphs import split_paragraphs, squash, strip_dateline
from briefings.text.words import LETTER_WORD

if TYPE_CHECKING:
    from nupunkt import PunktSentenceTokenizer

__all__ = [
    "WORD_RE",
    "OfflineTokenizer",
    "split_paragraph_sentences",
    "split_paragraphs",
    "split_sentences",
    "strip_dateline",
    "to_words",
]

# Abbreviations nupunkt's default model does not always know (no final period).
_EXTRA_ABBREVIATIONS_TEXT = """
    e.g i.e al etc approx gov sen rep gen lt col sgt capt cmdr adm supt insp det rev st
    ave blvd no vs jan feb mar apr jun jul aug sep sept oct nov dec mr mrs ms dr prof jr
    sr inc ltd co corp u.s u.k u.n d.c a.m p.m
"""
_EXTRA_ABBREVIATIONS = tuple(_EXTRA_ABBREVIATIONS_TEXT.split())

WORD_RE = LETTER_WORD  # sumy's Tokenizer._is_word: letters, inner ' and -

_ALNUM = re.compile(r"[^\W_]")
# Longest run of sentences kept together because a quotation is still open.
_QUOTE_MAX_CHARS = 700
_QUOTE_OPENERS = "\"“‘'"


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

    model = nupunkt.load("default")
    # Never edit the shared, cached model; ``parameters`` is ``_params`` before 0.8.
    params = copy.deepcopy(getattr(model, "parameters", None) or model._params)
    params.abbrev_types = {a for a in params.abbrev_types if not _is_spurious(a)}
    params.abbrev_types.update(_EXTRA_ABBREVIATIONS)
    return nupunkt.PunktSentenceTokenizer(params)


_TITLES_TEXT = "mr mrs ms dr prof hon rev gen lt col capt sgt gov sen rep"  # before a name
_TITLES = frozenset(_TITLES_TEXT.split())


class _PunktRules:
    """nupunkt's Punkt decisions, applied straight to candidate boundaries.

    nupunkt memoises its decisions per (word, next word) context, so it is fast
    on text it has seen but ~4x slower on new articles, where nearly every
    context is new. This applies the same second-pass rules with the same
    trained parameters (abbreviations, collocations, sentence starters,
    abbreviation break rates, title abbreviations) in one regex scan; it agrees
    with nupunkt on ~98% of news sentences and is the default path.
    """

    # A sentence-final mark, optional closing quotes/brackets, a space, then a
    # token that does not start with an ASCII lower-case letter.
    _CANDIDATE = re.compile(r"[.!?…][\"'”’)\]]* (?=[^a-z])")
    _NUMBER = re.compile(r"[-+]?[.,]?\d[\d,.-]*")
    _OPENERS = "\"'“‘([{"
    _TRAILING = ".,;:!?\"'”’)]}"

    def __init__(self, tokenizer: PunktSentenceTokenizer) -> None:
        params = getattr(tokenizer, "parameters", None) or tokenizer._params
        cls = type(tokenizer)
        self.abbreviations = frozenset(params.abbrev_types)
        self.starters = frozenset(params.sent_starters)
        self.collocations = frozenset(params.collocations)
        self.collocation_heads = frozenset(head for head, _ in params.collocations)
        self.special = self.abbreviations | self.collocation_heads
        self.titles = frozenset(getattr(cls, "_TITLE_ABBREVS", _TITLES))
        self.ellipsis_continuers = frozenset(getattr(cls, "_ELLIPSIS_CONTINUERS", {"I"}))
        high = getattr(tokenizer, "BREAK_RATE_HIGH", 0.8)
        low = getattr(tokenizer, "BREAK_RATE_LOW", None)
        minimum = getattr(tokenizer, "BREAK_RATE_MIN_COUNT", 20)
        rates: dict[str, tuple[int, int]] = getattr(params, "abbrev_break_rates", {})
        self.always_break = frozenset(
            t for t, (seen, broke) in rates.items() if seen >= minimum and broke / seen >= high
        )
        self.never_break = frozenset(
            t
            for t, (seen, broke) in rates.items()
            if low is not None and seen >= minimum and broke / seen <= low
        )

    def _breaks_after_period(self, paragraph: str, end: int, following: int) -> bool:
        """Decide a period at ``end`` followed by a non-lower-case token at ``following``."""
        start = paragraph.rfind(" ", 0, end) + 1
        word = paragraph[start:end].lstrip(self._OPENERS).lower()
        if word.isalpha():  # the common case
            if len(word) == 1:  # an initial: "J. Smith", "S. 207"
                return False
            if word not in self.special:
                return True  # an ordinary word ends the sentence
        elif not word:  # a lone " . " separator
            return True
        typ = word
        if (word[0].isdigit() or word[0] in "-+.,") and self._NUMBER.fullmatch(word):
            typ = "##number##"
        is_abbreviation = typ in self.abbreviations or (
            "-" in typ and typ.rsplit("-", 1)[-1] in self.abbreviations
        )
        if not is_abbreviation and typ not in self.collocation_heads:
            return True  # an ordinary word or number ends the sentence
        stop = paragraph.find(" ", following)
        token = paragraph[following : stop if stop >= 0 else None]
        upper = token[:1].isupper()
        if is_abbreviation and typ in self.titles and upper:
            return False
        next_typ = token.lower().rstrip(self._TRAILING)
        if self._NUMBER.fullmatch(next_typ):
            next_typ = "##number##"
        if (typ, next_typ) in self.collocations:
            return False
        if is_abbreviation:
            if not upper or typ in self.never_break:
                return False
            return typ in self.always_break or next_typ in self.starters
        return True

    def split(self, paragraph: str) -> list[str]:
        """Split one whitespace-normalised paragraph into raw sentences."""
        out: list[str] = []
        start = 0
        for match in self._CANDIDATE.finditer(paragraph):
            mark, following = match.span()
            first = paragraph[following]
            if first.islower():
                continue
            char = paragraph[mark]
            if char == "…" or (char == "." and paragraph[mark - 2 : mark] == ".."):
                stop = paragraph.find(" ", following)
                token = paragraph[following : stop if stop >= 0 else None]
                brk = first.isupper() and token not in self.ellipsis_continuers
            elif char != "." or following - mark > 2:  # "?", "!", or a closing quote/bracket
                brk = True
            else:
                brk = self._breaks_after_period(paragraph, mark, following)
            if brk:
                out.append(paragraph[start : following - 1])
                start = following
        out.append(paragraph[start:])
        return out


@lru_cache(maxsize=1)
def _rules() -> _PunktRules:
    return _PunktRules(_splitter())


def _sentences_of(paragraph: str, exact: bool = False) -> list[str]:
    """Split one paragraph; re-attach fragments that cannot start a sentence.

    A sentence that ends inside a quotation it opened absorbs the following
    ones until the quotation closes ('…threat: "The world has changed. We don't
    want an emperor."'), within :data:`_QUOTE_MAX_CHARS`: a quotation left open
    by mistake must not swallow the rest of the paragraph.
    """
    raw_sentences = _splitter().tokenize(paragraph) if exact else _rules().split(paragraph)
    out: list[str] = []
    # Without a quote mark (or apostrophe) no sentence of it can open a quotation.
    quoted = any(mark in paragraph for mark in _QUOTE_OPENERS)
    for raw in raw_sentences:
        sentence = raw.strip()
        if not sentence:
            continue
        first = sentence[0]
        # '"Really?" she asked.' is one sentence; so is a stray closing quote.
        if out and (
            (
                not first.isupper()
                and (first.islower() or first in ",;)]}”’" or not _ALNUM.search(sentence))
            )
            # A new opening quote starts a new quotation (or a quoted paragraph
            # that continues the previous one): it begins a sentence.
            or (
                quoted
                and first not in _QUOTE_OPENERS
                and len(out[-1]) + len(sentence) < _QUOTE_MAX_CHARS
                # Quick necessary conditions first: an odd '"', a '“' or an
                # opening single quote (most sentences have none of them).
                and (
                    (last := out[-1]).count('"') % 2 == 1
                    or "“" in last
                    or (("'" in last or "‘" in last) and find_single_opener(last) is not None)
                )
                and open_quote(last)
            )
        ):
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out


def split_sentences(text: str, *, exact: bool = False) -> list[str]:
    """Split an article body into sentences, dateline removed.

    Args:
        text: article text; paragraphs separated by blank lines (single
            newlines between paragraphs are tolerated).
        exact: run nupunkt's own tokenizer instead of the equivalent fast
            rules (same model; ~4x slower on unseen text).

    Returns:
        Sentences in document order, whitespace-normalised; [] for blank text.
    """
    return [s for paragraph in split_paragraph_sentences(text, exact=exact) for s in paragraph]


def split_paragraph_sentences(text: str, *, exact: bool = False) -> list[list[str]]:
    """Like :func:`split_sentences`, grouped by paragraph (empty ones left out).

    Args:
        text: article text.
        exact: run nupunkt's own tokenizer instead of the fast rules.
    """
    paragraphs: list[list[str]] = []
    for i, paragraph in enumerate(split_paragraphs(text)):
        if i == 0:
            paragraph = strip_dateline(paragraph)
        sentences = _sentences_of(paragraph, exact)
        if sentences:
            paragraphs.append(sentences)
    return paragraphs


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
        exact: split with nupunkt's own tokenizer instead of the fast rules.
    """

    def __init__(self, language: str = "english", *, exact: bool = False) -> None:
        self._language = language.lower()
        self._exact = exact

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
        return tuple(_sentences_of(squash(paragraph), self._exact))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        """Split a sentence into words.

        Args:
            sentence: one sentence.

        Returns:
            The words, as sumy's own tokenizer would keep them.
        """
        return to_words(sentence)
