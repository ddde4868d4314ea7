"""Sentence -> stemmed content-word ids, memoised and bounded (no NLTK data).

A document's sentences are joined (with a separator chunk between them),
lower-cased and split on whitespace into chunks; ASCII text first has every
character that no word contains (digits, punctuation but ' and -) blanked out
in the same C pass, so "kidney." and "kidney" are one chunk. Each distinct chunk
is mapped once to a code for its stemmed content words and memoised, so a
document's codes come out of one ``np.fromiter`` over dict look-ups; chunks not
seen before are resolved in one batch per document (word regex only for chunks
that are not a plain word, then the stems of the new content words). Codes:
``-1`` no content word, ``>= 0`` the id of the single content word, ``-2``
separator, ``<= -4`` an index into a table of chunks with several words. A
plain word is a chunk too, so one table serves both. Every table is emptied
when the memo reaches ``max_entries``, which keeps memory flat on endless
streams; ids are only meaningful within one call.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from itertools import chain, compress, count, filterfalse, repeat

import numpy as np
from numpy.typing import NDArray

from briefings.text.words import LETTER_WORD as WORD_RE

__all__ = ["TermExtractor"]

Ids = NDArray[np.int64]
_NONE = -1
_SEPARATOR = -2
_MISS = -3
_MULTI = -4  # codes <= _MULTI index the table of several-word chunks
# Between sentences: whitespace-free, never produced by normalised text.
_SEPARATOR_CHUNK = "\x00"
_JOIN = f" {_SEPARATOR_CHUNK} "
# A chunk that is letters once these are stripped from its ends is one word:
# no need to run the word regex ("kidney.", "(cnn", "'people").
_EDGE_PUNCTUATION = ".,;:!?\"'()[]{}“”‘’«»—–-…*/"
# ASCII text: letters lower-cased; characters that no word contains (digits,
# punctuation but ' and -) become spaces, which leaves the words unchanged.
_ASCII_WORDS = bytes(
    ord(c.lower()) if c.isalpha() or c in "'-" + _SEPARATOR_CHUNK or c.isspace() else 32
    for c in map(chr, range(128))
) + bytes(range(128, 256))


class TermExtractor:
    """Maps sentences to stemmed content-word ids for one language.

    Args:
        stemmer: lower-case word -> stem.
        stop_words: lower-case words to ignore.
        max_entries: bound of the memo table.
    """

    def __init__(
        self,
        stemmer: Callable[[str], str],
        stop_words: frozenset[str],
        max_entries: int = 65_536,
    ) -> None:
        self._stem = stemmer
        self._stop_words = stop_words
        self._max = max_entries
        self._codes: dict[str, int] = {_SEPARATOR_CHUNK: _SEPARATOR}
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._multi: list[list[int]] = []

    def _clear(self) -> None:
        self._codes.clear()
        self._codes[_SEPARATOR_CHUNK] = _SEPARATOR
        self._ids.clear()
        self._names.clear()
        self._multi.clear()

    def _learn_words(self, words: list[str]) -> None:
        """Memoise the codes of new lower-case words (all stems in one batch)."""
        codes = self._codes
        stop = self._stop_words
        content = [w for w in words if len(w) > 1 and w not in stop]
        codes.update(dict.fromkeys(words, _NONE))
        if not content:
            return
        stems = list(map(self._stem, content))
        ids = self._ids
        new = list(filterfalse(ids.__contains__, dict.fromkeys(stems)))
        if new:
            ids.update(zip(new, count(len(self._names))))
            self._names.extend(new)
        codes.update(zip(content, map(ids.__getitem__, stems), strict=True))

    def _learn(self, chunks: list[str]) -> None:
        """Memoise the codes of distinct chunks not seen before."""
        codes = self._codes
        cores = list(map(str.strip, chunks, repeat(_EDGE_PUNCTUATION, len(chunks))))
        # Nearly every chunk is one word with punctuation around it.
        single = list(map(str.isalpha, cores))
        words = dict.fromkeys(compress(cores, single))
        others: list[str] = []
        several: list[list[str]] = []
        if not all(single):
            others = list(compress(chunks, map(operator.not_, single)))
            several = list(map(WORD_RE.findall, others))
            words.update(dict.fromkeys(chain.from_iterable(several)))
        new = list(filterfalse(codes.__contains__, words))
        if new:
            self._learn_words(new)
        get = codes.__getitem__
        alpha_cores = map(get, compress(cores, single))
        codes.update(zip(compress(chunks, single), alpha_cores, strict=True))
        for chunk, found in zip(others, several, strict=True):
            out = [code for code in map(get, found) if code >= 0]
            if not out:
                codes[chunk] = _NONE
            elif len(out) == 1:
                codes[chunk] = out[0]
            else:
                codes[chunk] = _MULTI - len(self._multi)
                self._multi.append(out)

    def ids(self, sentences: Sequence[str]) -> tuple[Ids, Ids]:
        """Term ids of all sentences and the sentence each one belongs to.

        Args:
            sentences: the sentences of one document.

        Returns:
            ``(ids, rows)``: parallel arrays, one entry per content word.
        """
        if len(self._codes) >= self._max:
            self._clear()
        text = _JOIN.join(sentences)
        if text.count(_SEPARATOR_CHUNK) != max(len(sentences) - 1, 0):  # NULs in the text
            text = _JOIN.join(s.replace(_SEPARATOR_CHUNK, " ") for s in sentences)
        if text.isascii():
            # One C pass lower-cases and blanks out everything that cannot be
            # part of a word: fewer distinct chunks ("kidney." is "kidney").
            chunks = text.encode("ascii").translate(_ASCII_WORDS).decode("ascii").split()
        else:
            chunks = text.lower().split()
        n = len(chunks)
        get = self._codes.get
        codes = np.fromiter(map(get, chunks, repeat(_MISS, n)), np.int64, count=n)
        missing = np.flatnonzero(codes == _MISS)
        if missing.size:
            found = list(map(chunks.__getitem__, missing.tolist()))
            self._learn(list(dict.fromkeys(found)))
            codes[missing] = list(map(self._codes.__getitem__, found))
        chunk_rows = np.cumsum(codes == _SEPARATOR)
        single = codes >= 0
        ids, rows = codes[single], chunk_rows[single]
        several = np.flatnonzero(codes <= _MULTI)
        if several.size:
            extra = [self._multi[_MULTI - c] for c in codes[several].tolist()]
            extra_ids = np.fromiter(chain.from_iterable(extra), dtype=np.int64)
            extra_rows = np.repeat(chunk_rows[several], [len(e) for e in extra])
            ids = np.concatenate([ids, extra_ids])
            rows = np.concatenate([rows, extra_rows])
        return ids, rows

    def terms(self, sentences: Sequence[str]) -> list[list[str]]:
        """Stemmed content words of each sentence (order within it not kept).

        Args:
            sentences: the sentences of one document.

        Returns:
            One list of stems per sentence.
        """
        ids, rows = self.ids(sentences)
        out: list[list[str]] = [[] for _ in sentences]
        for term_id, row in zip(ids.tolist(), rows.tolist(), strict=True):
            out[row].append(self._names[term_id])
        return out
