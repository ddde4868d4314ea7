"""An article's text before its sentences are split: paragraphs and a leading dateline.

Dumps carry one paragraph per line, or paragraphs wrapped at a fixed width and separated
by blank lines; news copy often opens with a dateline ("WASHINGTON (Reuters) -"). Pure
functions on strings, used by the sentence tokenizer (briefings/summary/tokenizer.py).
"""

from __future__ import annotations

import re

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
# ASCII characters str.split() treats as whitespace, apart from the space.
_ASCII_SPACE_NOT_BLANK = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_SPACES = re.compile("  +")


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


def squash(text: str) -> str:
    """Collapse every whitespace run (incl. NBSP, newlines) to one space; strip."""
    if text.isascii() and not any(map(text.__contains__, _ASCII_SPACE_NOT_BLANK)):
        # Only spaces: no need to build a list of every word (~3x faster).
        return _SPACES.sub(" ", text).strip(" ")
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
        line = squash(text)
        return [line] if line else []
    paragraphs: list[str] = []
    for block in _BLANK_LINE.split(text):
        current = ""
        for raw in block.split("\n"):
            line = squash(raw)
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
