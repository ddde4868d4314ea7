"""Split a plain-text page dump into articles (main story, related teasers, chained stories).

A new article starts at a headline: a headline-shaped line that is repeated within a few
lines (pages print a story's title two or three times around its outlet/time/byline) and
is followed by prose. Each segment is then cleaned with :mod:`briefings.clean`, and its
header lines give the title, outlet, byline and time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from briefings.article import ParsedArticle
from briefings.clean import (
    FileStats,
    file_stats,
    is_prose,
    is_timestamp,
    is_ui,
    keep_flags,
    story_span,
)
from briefings.meta import find_byline, find_dateline, find_source, parse_time
from briefings.textnorm import LineInfo, fix_text, line_info, line_key

_LOOKAHEAD = 8
_MIN_WORDS = 25
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,40}$")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9\"'”’)][.!?])\s+(?=[A-Z\"“‘'])")


def headline_shaped(info: LineInfo) -> bool:
    """True for a line that could be a story title (short, not a sentence, not UI)."""
    if not 3 <= info.words <= 25 or info.label or is_prose(info):
        return False
    if info.text.endswith(".") or ". " in info.text:
        return False
    return not is_ui(info) and not is_timestamp(info)


def find_boundaries(infos: Sequence[LineInfo], stats: FileStats) -> list[tuple[int, int]]:
    """Find article starts: ``(first line of the title, last repeat of the title)`` pairs."""
    out: list[tuple[int, int]] = []
    i = 0
    n = len(infos)
    while i < n:
        info = infos[i]
        if headline_shaped(info) and 2 <= stats.keys[info.key] <= 4:
            last = None
            for j in range(i + 1, min(n, i + 1 + _LOOKAHEAD)):
                if is_prose(infos[j]) or infos[j].label:
                    break
                if infos[j].key == info.key:
                    last = j
            if last is not None and any(
                is_prose(x) for x in infos[last + 1 : last + 1 + _LOOKAHEAD + 4]
            ):
                out.append((i, last))
                i = last + 1
                continue
        i += 1
    return out


def _first_sentence(body: str) -> str:
    first = _SENTENCE_END.split(body.split("\n", 1)[0], maxsplit=1)[0]
    if len(first) > 140:
        first = first[:140].rsplit(" ", 1)[0] + "…"
    return first


def _guess_title(header: Sequence[LineInfo], stats: FileStats, page_title: str) -> str | None:
    page_key = line_key(page_title)
    near = list(enumerate(header))[::-1][:15]
    for _, info in near:
        if (
            headline_shaped(info)
            and info.words >= 3
            and (
                stats.keys[info.key] >= 2
                or (page_key.startswith(info.key) and info.key != page_key)
            )
        ):
            return info.text
    for _, info in near[:6]:
        if headline_shaped(info) and info.words >= 4:
            return info.text
    # A plain file: "Title\n\n[By X\n\n][date\n\n]Body..."
    if header and all(is_timestamp(i) or i.key.startswith("by ") for i in header[1:]):
        first = header[0]
        if 1 <= first.words <= 25 and not is_ui(first) and not is_timestamp(first):
            return first.text
    return None


def _article(
    seg: Sequence[LineInfo],
    stats: FileStats,
    title: str | None,
    *,
    file_time: datetime | None,
    page_title: str,
    boilerplate_lines: frozenset[str],
) -> ParsedArticle | None:
    span = story_span(seg)
    if span is None:
        return None
    header = seg[: span[0]]
    if title is None:
        title = _guess_title(header, stats, page_title)
    title_key = line_info(title).key if title else ""
    byline, by_idx = find_byline(header)
    drop = {title_key} if title_key else set()
    if by_idx is not None:
        drop.add(header[by_idx].key)
    run = seg[span[0] : span[1]]
    flags = keep_flags(run, stats, drop_keys=frozenset(drop), boilerplate_lines=boilerplate_lines)
    paragraphs = [i.text for i, k in zip(run, flags, strict=True) if k]
    body = "\n\n".join(paragraphs)
    if sum(i.words for i, k in zip(run, flags, strict=True) if k) < _MIN_WORDS:
        return None
    published = None
    for info in header:
        if info.words <= 14 and (is_timestamp(info) or "ago" in info.key.split()):
            published = parse_time(info.text, file_time=file_time)
            if published is not None:
                break
    source = find_source(header, title_key or None)
    if not title:
        title = _first_sentence(body)
    return ParsedArticle(
        title=_TITLE_SUFFIX.sub("", title) if len(title) > 60 else title,
        body=body,
        source=source,
        byline=byline,
        published=published,
        dateline=find_dateline(paragraphs[0]) if paragraphs else None,
    )


def split_dump(
    text: str,
    *,
    file_time: datetime | None = None,
    boilerplate_lines: frozenset[str] = frozenset(),
) -> list[ParsedArticle]:
    """Split a plain-text dump into its articles, main story first.

    Args:
        text: the page text as copied from a browser (any line-end convention).
        file_time: when the dump was saved; resolves "an hour ago". ``None`` leaves such
            times unresolved (never guessed).
        boilerplate_lines: keys of lines known to repeat across many dumps (always dropped).

    Returns:
        The articles with a title and a body of their own; may be empty.
    """
    infos = [line_info(t) for t in (x.strip() for x in fix_text(text).split("\n")) if t]
    if not infos:
        return []
    stats = file_stats(infos)
    bounds = find_boundaries(infos, stats)
    segments: list[tuple[int, int, str | None]] = []
    start, title = 0, None
    for first, last in bounds:
        segments.append((start, first, title))
        start, title = first, infos[last].text
    segments.append((start, len(infos), title))
    page_title = infos[0].text
    articles = []
    for s, e, seg_title in segments:
        art = _article(
            infos[s:e],
            stats,
            seg_title,
            file_time=file_time,
            page_title=page_title,
            boilerplate_lines=boilerplate_lines,
        )
        if art is not None:
            articles.append(art)
    if len(articles) > 1:
        sizes = [len(a.body) for a in articles]
        biggest = sizes.index(max(sizes))
        if sizes[0] < 0.5 * sizes[biggest]:
            articles.insert(0, articles.pop(biggest))
    return articles
