"""Acronyms a summary must not leave undefined.

An article often spells an acronym out once ("critical telecom infrastructure or CTI")
and then uses it bare. A summary holding a bare use without the defining sentence leaves
the reader guessing; :func:`acronym_definers` tells the summariser which sentence each
one needs. Pure; language-neutral where letters have case (initials are matched, the
function words an expansion may hold come from :mod:`briefings.text.words`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from briefings.text.words import FUNCTION_WORDS, LETTER_WORD

__all__ = ["acronym_definers", "acronyms", "defines"]


# An acronym: two or more capitals (digits, "&" and "-" inside): "CTI", "TCSIRT", "COP29".
_ACRONYM = re.compile(r"(?<![\w&-])[A-Z][A-Z0-9&-]*[A-Z0-9](?![\w&-])")
_EXPANSION_SLACK = 3  # function words an expansion may hold ("Department of the Interior")


_CAPS_RUN = re.compile(r"[A-Z][A-Z0-9&-]*[A-Z0-9]")  # no look-arounds: ~3x faster scan
_JOINED = frozenset("_&-")


def _bare_acronyms(text: str) -> list[str]:
    """What :data:`_ACRONYM` finds in ``text``, by a faster scan and a boundary check."""
    out = []
    for m in _CAPS_RUN.finditer(text):
        start, end = m.span()
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before in _JOINED or after.isalnum() or after in _JOINED):
            out.append(m.group())
    return out


def acronyms(sentence: str) -> set[str]:
    """The acronyms ``sentence`` uses (an all-capitals sentence has none: it is shouting)."""
    found = {a for a in _ACRONYM.findall(sentence) if sum(c.isupper() for c in a) >= 2}
    if found and sum(len(a) for a in found) * 2 > sum(c.isalpha() for c in sentence):
        return set()
    return found


def defines(sentence: str, acronym: str) -> bool:
    """Whether ``sentence`` spells ``acronym`` out: "critical telecom infrastructure or CTI",
    "the Telecom Computer Security Incident Response Team (TCSIRT)", "CTI (critical …)",
    "Europäische Zentralbank (EZB)".

    The words just before the acronym (or, in brackets, just after it) must start with
    its letters in order; a word may give more than its initial (compounds), and
    function words (:data:`briefings.text.words.FUNCTION_WORDS`) may sit between.
    """
    letters = tuple(c.lower() for c in acronym if c.isalpha())
    most = len(letters) + _EXPANSION_SLACK
    at = sentence.find(acronym)
    while at >= 0:
        end = at + len(acronym)
        before = tuple(w.lower() for w in LETTER_WORD.findall(sentence[:at])[-most:])
        if any(_spells(before[-k:], letters) for k in range(1, len(before) + 1)):
            return True
        if sentence[end:].lstrip().startswith("("):
            after = tuple(w.lower() for w in LETTER_WORD.findall(sentence[end:])[:most])
            if any(_spells(after[:k], letters) for k in range(1, len(after) + 1)):
                return True
        at = sentence.find(acronym, at + 1)
    return False


def _spells(words: tuple[str, ...], letters: tuple[str, ...]) -> bool:
    """Whether lower-cased ``words`` spell ``letters``: each word (but function words)
    gives its initial and maybe more of its letters, in order; all words are used."""
    if not letters:
        return all(w in FUNCTION_WORDS for w in words)
    if not words:
        return False
    word = words[0]
    if word in FUNCTION_WORDS and _spells(words[1:], letters):
        return True
    if word[:1] != letters[0]:
        return False
    return any(
        _inside(word[1:], letters[1 : 1 + extra]) and _spells(words[1:], letters[1 + extra :])
        for extra in range(len(letters))
    )


def _inside(text: str, letters: tuple[str, ...]) -> bool:
    """Whether ``letters`` occur in ``text`` in order."""
    pos = 0
    for letter in letters:
        pos = text.find(letter, pos) + 1
        if pos == 0:
            return False
    return True


def acronym_definers(sentences: Sequence[str]) -> list[tuple[int, ...]]:
    """Per sentence, the earlier sentences that define the acronyms it uses undefined.

    An acronym whose first use in the text spells it out (see :func:`defines`) is
    undefined in any later sentence that does not spell it out again (in brackets): a
    summary holding that later sentence without the defining one leaves the reader
    guessing.

    Args:
        sentences: an article's sentences in order.

    Returns:
        For each sentence, the indices of the defining sentences it needs (often none).
    """
    # One scan of the whole text: only an acronym used twice can need a definition.
    counts = Counter(_bare_acronyms("\n".join(sentences)))
    repeated = sorted(a for a, c in counts.items() if c > 1 and sum(map(str.isupper, a)) > 1)
    needs: list[set[int]] = [set() for _ in sentences]
    for acronym in repeated:
        first = -1
        for i, sentence in enumerate(sentences):
            if acronym not in sentence or acronym not in acronyms(sentence):
                continue
            if first < 0:
                if not defines(sentence, acronym):
                    break  # used before (or without) being spelled out
                first = i
            elif f"({acronym})" not in sentence:
                needs[i].add(first)
    return [tuple(sorted(x)) for x in needs]
