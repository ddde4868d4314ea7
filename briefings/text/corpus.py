"""Corpus-level boilerplate signal: lines that repeat across many dumps.

A menu entry, a newsletter pitch or a footer line appears in every dump from the same
site; a story paragraph does not (and a wire story repeated by several outlets is prose,
which is never counted here). The store keeps, per line key, the number of documents it
occurs in; :func:`boilerplate_lines` turns those counts into the set the cleaner drops.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from briefings.text.normalise import fix_text, line_info, text_lines

MIN_DOCS = 5
MIN_SHARE = 0.02


def candidate_keys(text: str) -> frozenset[str]:
    """Keys of the lines of one dump that may count as site boilerplate.

    Only page furniture shapes qualify: non-prose lines and calls to action. Story
    paragraphs are never candidates, so syndicated stories cannot erase themselves.

    Args:
        text: the decoded text of one dump.
    """
    keys = set()
    for line in text_lines(fix_text(text)):
        info = line_info(line)
        if info.key and (not info.prose or info.cta):
            keys.add(info.key)
    return frozenset(keys)


def boilerplate_lines(
    doc_counts: Mapping[str, int],
    n_docs: int,
    *,
    min_docs: int = MIN_DOCS,
    min_share: float = MIN_SHARE,
) -> frozenset[str]:
    """Line keys frequent enough across documents to be treated as boilerplate.

    Args:
        doc_counts: for each candidate key, the number of documents containing it.
        n_docs: number of documents counted.
        min_docs: a key must occur in at least this many documents...
        min_share: ...and in at least this share of all documents.

    Returns:
        Keys to pass as ``boilerplate_lines`` to the cleaner/splitter.
    """
    floor = max(min_docs, min_share * n_docs)
    return frozenset(k for k, c in doc_counts.items() if c >= floor)


def count_documents(texts: Iterable[str]) -> tuple[Counter[str], int]:
    """Document frequency of candidate keys over ``texts`` (convenience for batch use)."""
    counts: Counter[str] = Counter()
    n = 0
    for text in texts:
        counts.update(candidate_keys(text))
        n += 1
    return counts, n
