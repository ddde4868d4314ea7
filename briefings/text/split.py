"""Split a plain-text page dump into articles (main story, related teasers, chained stories).

A dump may hold several whole pages one after another: it is first cut into its pages
(:mod:`briefings.text.pages`), and each page is split on its own. Within a page a new
article starts at a headline: a headline-shaped line that is repeated within a few
lines (pages print a story's title two or three times around its outlet/time/byline) and
is followed by prose. Each segment is then cleaned with :mod:`briefings.text.clean`, and its
header lines give the title, outlet, byline and time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from itertools import pairwise

from briefings.text.article import ParsedArticle
from briefings.text.body import story_span
from briefings.text.clean import (
    FileStats,
    file_stats,
    is_prose,
    is_timestamp,
    is_ui,
    keep_flags,
    story_paragraphs,
)
from briefings.text.meta import (
    find_byline,
    find_dateline,
    find_source,
    outlet_mentions,
    page_outlet,
    parse_time,
)
from briefings.text.normalise import LineInfo, fix_text, line_info, line_key, text_lines
from briefings.text.pages import page_starts

_LOOKAHEAD = 8
_MIN_WORDS = 25
_TITLE_SUFFIX = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,40}$")
_DROP_CAP = re.compile(r"^([B-HJ-Z]) ([a-z]{2,})")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9\"'”’)][.!?])\s+(?=[A-Z\"“‘'])")


def headline_shaped(info: LineInfo) -> bool:
    """True for a line that could be a story title (short, not a sentence, not UI)."""
    if not 3 <= info.words <= 25 or info.label or is_prose(info) or info.text.isupper():
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


def _guess_title(
    header: Sequence[LineInfo], stats: FileStats, page_title: str
) -> tuple[str | None, int | None]:
    """Title of a page's first story and its index in ``header`` (or ``None``).

    Preference: the headline the page's <title> line starts with ("Headline - Site"),
    a headline repeated near the story, a headline right above it, the only line of a
    plain "Title / body" file, the <title> line itself minus the site name.
    """
    page_key = line_key(page_title)
    for idx in range(len(header) - 1, 0, -1):
        info = header[idx]
        if info.words >= 3 and page_key.startswith(info.key) and info.key != page_key:
            return info.text, idx
    near = range(len(header) - 1, max(-1, len(header) - 26), -1)
    for idx in near:
        info = header[idx]
        if headline_shaped(info) and info.words >= 4 and stats.keys[info.key] >= 2:
            return info.text, idx
    for idx in list(near)[:6]:
        if headline_shaped(header[idx]) and header[idx].words >= 4:
            return header[idx].text, idx
    # A plain file: "Title\n\n[By X\n\n][date\n\n]Body..."
    if header and all(is_timestamp(i) or i.key.startswith("by ") for i in header[1:]):
        first = header[0]
        if 1 <= first.words <= 25 and not is_ui(first) and not is_timestamp(first):
            return first.text, 0
    if header and headline_shaped(header[0]) and header[0].words >= 4:
        return _TITLE_SUFFIX.sub("", header[0].text), 0
    return None, None


def _published(zone: Sequence[LineInfo], file_time: datetime | None) -> datetime | None:
    for info in zone:
        if info.words <= 14 and (is_timestamp(info) or "ago" in info.key.split()):
            when = parse_time(info.text, file_time=file_time)
            if when is not None:
                return when
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
    title_idx: int | None = 0  # a boundary segment starts with its title
    if title is None:
        title, title_idx = _guess_title(header, stats, page_title)
    # Outlet, byline and time sit between the title and the story.
    zone = header[title_idx + 1 :] if title_idx is not None else header[-12:]
    title_key = line_info(title).key if title else ""
    byline, by_idx = find_byline(zone)
    drop = {title_key} if title_key else set()
    if by_idx is not None:
        drop.add(zone[by_idx].key)
    run = seg[span[0] : span[1]]
    flags = keep_flags(run, stats, drop_keys=frozenset(drop), boilerplate_lines=boilerplate_lines)
    paragraphs = story_paragraphs(run, flags)
    if paragraphs:  # a drop cap copied as its own letter: "W hile Anglophiles ..."
        paragraphs[0] = _DROP_CAP.sub(r"\1\2", paragraphs[0], count=1)
    body = "\n\n".join(paragraphs)
    if sum(i.words for i, k in zip(run, flags, strict=True) if k) < _MIN_WORDS:
        return None
    published = _published(zone, file_time) or _published(header[-12:], file_time)
    by_key = line_key(byline) if byline else ""
    candidates = [i for i in zone[:8] if not is_ui(i) and i.key != by_key]
    # The header's outlet; else the one the story's own lines name ("Read more from X:").
    source = find_source(candidates, title_key or None) or page_outlet(
        outlet_mentions([i.text for i in seg])
    )
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


def _inline_card(prev: Sequence[LineInfo], seg: Sequence[LineInfo], title_end: int) -> bool:
    """A "related story" card inside a story: prose, [label], title(s), one blurb, prose.

    Such a card interrupts the story without a separator, and the story goes on right
    after the blurb; a real next article (or a teaser) does not continue like that.
    """
    tail = prev[-2:]
    if not tail or (not is_prose(tail[-1]) and not (len(tail) == 2 and is_prose(tail[0]))):
        return False
    if any(is_ui(x) or is_timestamp(x) for x in tail if not is_prose(x)):
        return False
    j = title_end + 1
    while j < len(seg) and j <= title_end + 2 and not is_prose(seg[j]):
        j += 1
    if j >= len(seg) or not is_prose(seg[j]):
        return False
    after = seg[j + 1 : j + 3]  # the story goes on (maybe after an "Advertisement" slot)
    return bool(after) and (is_prose(after[0]) or (is_ui(after[0]) and any(map(is_prose, after))))


def _segments(
    infos: Sequence[LineInfo], bounds: Sequence[tuple[int, int]]
) -> list[tuple[list[LineInfo], str | None]]:
    """Cut the dump at article boundaries; inline cards are dropped, not split on."""
    out: list[tuple[list[LineInfo], str | None]] = []
    current: list[LineInfo] = list(infos[: bounds[0][0]]) if bounds else list(infos)
    title: str | None = None
    for k, (first, last) in enumerate(bounds):
        end = bounds[k + 1][0] if k + 1 < len(bounds) else len(infos)
        seg = list(infos[first:end])
        if _inline_card(current, seg, last - first):
            j = last - first + 1
            while not is_prose(seg[j]):
                j += 1
            current.extend(seg[j + 1 :])  # drop the card's title(s) and blurb
            continue
        out.append((current, title))
        current, title = seg, infos[last].text
    out.append((current, title))
    return out


_SHARED_MAX_WORDS = 15


def shared_lines(segments: Sequence[Sequence[LineInfo]]) -> frozenset[str]:
    """Keys of short sentences printed in two or more articles of one dump: the caption of
    a video player or a promo the site sets into every story, not a story's own text (a
    paragraph two related stories share is longer than a caption)."""
    seen: dict[str, int] = {}
    for k, seg in enumerate(segments):
        for info in seg:
            if info.prose and info.words <= _SHARED_MAX_WORDS:
                seen.setdefault(info.key, k)
                if seen[info.key] != k:
                    seen[info.key] = -1
    return frozenset(key for key, k in seen.items() if k == -1)


def split_dump(
    text: str,
    *,
    file_time: datetime | None = None,
    boilerplate_lines: frozenset[str] = frozenset(),
) -> list[ParsedArticle]:
    """Split a plain-text dump into its articles, page by page, each page's main story first.

    Args:
        text: the page text as copied from a browser (any line-end convention).
        file_time: when the dump was saved; resolves "an hour ago". ``None`` leaves such
            times unresolved (never guessed).
        boilerplate_lines: keys of lines known to repeat across many dumps (always dropped).

    Returns:
        The articles with a title and a body of their own; may be empty.
    """
    cache: dict[str, LineInfo] = {}  # menus and captions repeat: classify each text once
    infos = []
    for line in text_lines(fix_text(text)):
        info = cache.get(line)
        if info is None:
            info = cache[line] = line_info(line)
        infos.append(info)
    if not infos:
        return []
    stats = file_stats(infos)
    cuts = [0, *page_starts(infos), len(infos)]
    pages = [infos[a:b] for a, b in pairwise(cuts)]
    per_page = [_segments(page, find_boundaries(page, stats)) for page in pages]
    segments = [seg for page in per_page for seg, _ in page]
    if len(segments) > 1:
        boilerplate_lines = boilerplate_lines | shared_lines(segments)
    articles = []
    for page, page_segments in zip(pages, per_page, strict=True):
        found = [
            art
            for seg, seg_title in page_segments
            if (
                art := _article(
                    seg,
                    stats,
                    seg_title,
                    file_time=file_time,
                    page_title=page[0].text,
                    boilerplate_lines=boilerplate_lines,
                )
            )
            is not None
        ]
        if not all(a.source for a in found):  # the page's own name for those that give none
            outlet = page_outlet(outlet_mentions([i.text for i in page]))
            found = [a if a.source else replace(a, source=outlet) for a in found]
        articles += _main_first(found)
    return articles


def _main_first(articles: list[ParsedArticle]) -> list[ParsedArticle]:
    """A page's main story first: the biggest, unless the first is at least half its size."""
    if len(articles) > 1:
        sizes = [len(a.body) for a in articles]
        biggest = sizes.index(max(sizes))
        if sizes[0] < 0.5 * sizes[biggest]:
            articles.insert(0, articles.pop(biggest))
    return articles
