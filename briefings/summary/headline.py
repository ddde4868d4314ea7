"""Headlines for untitled stories, built from the story's own lead sentence.

A dump without a headline (no ``<title>``/``og:title``, no JSON or RSS title, no title
line) leaves the readers nothing better than the start of the body as a title. Such a
title is recognised here (:func:`is_fallback_title`) and replaced by a short headline:
the first sentence a reader could take on its own, without its dateline and
parentheticals, cut to at most :data:`MAX_CHARS` characters at a clause boundary
(a comma, semicolon, colon or dash, in any script) or, failing that, at a word
boundary, with the function words a cut leaves dangling at its end removed.

The sentence it was built from is returned too: the summary leaves that sentence out,
so that the headline is never repeated as the summary's first line.

Language-neutral: clause marks of Latin, CJK, Arabic and other scripts; the function
words trimmed at a cut come from :mod:`briefings.text.words`. Pure, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from briefings.summary.checks import is_caption, repeated_lines, unbalanced_quote
from briefings.summary.summarise import sentences_of
from briefings.text.words import FUNCTION_WORDS, WORD, stop_words

__all__ = ["MAX_CHARS", "Headline", "build_headline", "is_fallback_title", "shorten"]

MAX_CHARS = 90
_MIN_WORDS = 4  # a lead "sentence" shorter than this is a label or a fragment
_MIN_CJK_CHARS = 8
_LEAD_SENTENCES = 4  # look no further than this for a usable lead
_MIN_CLAUSE = 0.4  # a clause cut keeps at least this share of MAX_CHARS
_KEY = re.compile(r"\W+")
# Parenthetical asides: "(CNN)", "(pictured)", "[1]", "（新华社）".
_ASIDE = re.compile(r"\s*[(\[（［][^()\[\]（）［］]{0,80}[)\]）］]")
# Where a clause ends: after , ; : (Latin, CJK, Arabic, Greek), or before a spaced dash.
_CLAUSE_END = re.compile(r"[,;:،؛，、；：·](?=\s|$)|[，、；：]|\s+[—–-]{1,2}(?=\s)")
_TRAILING = " \t,;:.!。．·…،؛，、；：—–-\"'“”‘’«»„"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_QUOTES = '"“”‘’«»„'


@dataclass(frozen=True)
class Headline:
    """A headline built from a story's text.

    Attributes:
        text: the headline, at most :data:`MAX_CHARS` characters.
        sentence: the body sentence it was built from (as the summariser splits it).
    """

    text: str
    sentence: str


def is_fallback_title(title: str, body: str) -> bool:
    """Whether ``title`` is no headline but the opening of ``body`` (or empty).

    The readers fall back to the first line or sentence of the body when a dump gives
    no headline; such a title reads as a repeat of the story's lead.

    Args:
        title: the title a reader produced.
        body: the story text.
    """
    key = _KEY.sub(" ", title.casefold()).strip()
    if not key:
        return True
    start = _KEY.sub(" ", body[: len(title) + 40].casefold()).strip()
    return start.startswith(key)


def _words(text: str) -> int:
    return len(WORD.findall(text))


def _usable(sentence: str, repeated: frozenset[str]) -> bool:
    """Whether a sentence can stand as a headline: prose, whole quotes, not a caption."""
    if unbalanced_quote(sentence) or is_caption(sentence, repeated):
        return False
    if _CJK.search(sentence):
        return len(sentence) >= _MIN_CJK_CHARS
    return _words(sentence) >= _MIN_WORDS


def _tidy(text: str) -> str:
    """Drop asides and the punctuation a headline does not end with."""
    bare = _ASIDE.sub("", text)
    if _words(bare) >= _MIN_WORDS or (_CJK.search(bare) and len(bare) >= _MIN_CJK_CHARS):
        text = bare
    text = " ".join(text.split())
    end = text.rstrip(_TRAILING)
    if end[-1:] in "?!？！" or not end:
        return end or text
    if text[len(end) : len(end) + 1] in _QUOTES and not unbalanced_quote(text.rstrip(".。")):
        return text.rstrip(".。 ")  # keep the closing quote of a quoted lead
    return end if not unbalanced_quote(end) else text.rstrip(".。 ")


def _trim_function_words(text: str, function_words: frozenset[str]) -> str:
    """Remove function words (and punctuation) a cut left dangling at the end."""
    words = text.split()
    while len(words) > _MIN_WORDS and words[-1].strip(_TRAILING).casefold() in function_words:
        words.pop()
    return " ".join(words).rstrip(_TRAILING)


def shorten(text: str, max_chars: int = MAX_CHARS, *, language: str = "english") -> str:
    """Cut ``text`` to at most ``max_chars`` characters at a clause or word boundary.

    Args:
        text: one sentence, tidied (no trailing full stop).
        max_chars: the longest result allowed.
        language: sumy language name, for the function words a cut must not end on.

    Returns:
        ``text`` itself when short enough; else its longest prefix that ends a clause
        and keeps at least 40% of ``max_chars``; else the longest word-boundary
        prefix (characters, for scripts without spaces) followed by "…".
    """
    if len(text) <= max_chars:
        return text
    clause = ""
    for match in _CLAUSE_END.finditer(text):
        head = text[: match.start()].rstrip(_TRAILING)
        if len(head) > max_chars:
            break
        if len(head) >= _MIN_CLAUSE * max_chars and not unbalanced_quote(head):
            clause = head
    if clause:
        return clause
    function_words = FUNCTION_WORDS | stop_words(language)
    limit = max_chars - 1  # room for the ellipsis
    if " " in text[: limit + 1] and not _CJK.search(text[:limit]):
        cut = text[: limit + 1].rsplit(" ", 1)[0]
        cut = _trim_function_words(cut, function_words)
    else:
        cut = text[:limit].rstrip(_TRAILING)
    if unbalanced_quote(cut):
        cut = cut.translate({ord(q): None for q in _QUOTES})
    return cut + "…"


def build_headline(
    body: str, *, language: str = "english", max_chars: int = MAX_CHARS
) -> Headline | None:
    """Build a headline for a story from its lead sentence.

    Args:
        body: the story text; paragraphs separated by blank lines.
        language: sumy language name or ISO 639-1 code ("english", "de", "zh").
        max_chars: the longest headline allowed.

    Returns:
        The headline and the sentence it came from, or ``None`` when no sentence among
        the first few can stand as one (an empty or fragmentary body).
    """
    if not body or body.isspace():
        return None
    repeated = repeated_lines(body)
    sentences = [s for paragraph in sentences_of(body, language) for s in paragraph]
    for sentence in sentences[:_LEAD_SENTENCES]:
        if not _usable(sentence, repeated):
            continue
        text = shorten(_tidy(sentence), max_chars, language=language)
        if text:
            return Headline(text, sentence)
    return None
