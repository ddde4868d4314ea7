"""Page boundaries in a chained dump: several whole scraped pages one after another.

A scraper that appends page after page to one file leaves every page's own chrome in
place: its title line, menus, the story, related links, a footer. Nothing marks where
one page ends, but pages end and begin the same way on any site, so the boundaries are
found from site-independent cues, each checked against the stories around it:

- a page-title line, echoed by the headline a little further down ("Headline | Site"
  ... "Headline", or the headline itself after a footer with only chrome between), the
  way a page's <title> precedes its own headline; the headline must open the next story;
- a headline-shaped line without an echo, with a footer line (copyright, legal links,
  "back to top") just above it and a menu block right under it;
- the line after a copyright line ("© 2019 X. All rights reserved"), when a headline
  with its byline or date, or a menu block and a headline, leads to the next story;
- the first page's top chrome (the lines under its title) starting over: the next page
  of the same site.

A cut is kept only when the page before it already holds a story (``_STRONG_WORDS`` of
prose since its story began) and a story (two paragraphs in a row) follows it, so a
single page, whose copyright line and repeated headings have no second story around
them, stays whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from briefings.text.normalise import LineInfo, line_key

# The end of a page: its copyright line (a photo credit "© AP" is short and sits in
# the story; a footer's names a year or reserves rights).
_COPYRIGHT = re.compile(
    r"(?:©|\(c\)|\bcopyright\b)\s*(?:\d{4}|.{0,80}\b(?:19|20)\d\d\b)|\ball rights reserved\b",
    re.IGNORECASE,
)
_LEGAL = re.compile(
    r"\b(?:privacy (?:policy|notice|settings)|terms (?:of (?:use|service)|and conditions|"
    r"& conditions)|cookie (?:policy|settings)|back to top|scroll to top|sitemap|site map)\b",
    re.IGNORECASE,
)
_LEGAL_WORDS = ("privacy", "terms", "cookie", "top", "site")
_END_REACH = 25
_MENU_WORDS = 4
_MENU_RUN = 6
_STRONG_WORDS = 80
_ECHO_WINDOW = 150
_ECHO_REST = 8
_BYLINE = re.compile(r"^(?:by|written by|words by)\b", re.IGNORECASE)
_HEAD_ZONE = 10
_STORY_WORDS = 50
_LONG_PARAGRAPH = 60
_HEAD_REACH = 250
_WEAK = ("footer", "chrome")  # cuts a page-title line nearer the story replaces
_SEPARATOR = re.compile(r"\s+[|–—·•»/-]+\s+|:\s+|\s+::\s+")
_RESTART_LINES = 4
_STORY_AFTER = 60
_ENDED = 5


def _legal(info: LineInfo) -> bool:
    """A footer line other than the copyright: legal links, "back to top"."""
    key = info.key
    if info.words > 40 or not any(word in key for word in _LEGAL_WORDS):
        return False
    return _LEGAL.search(info.text) is not None


def _copyright(info: LineInfo) -> bool:
    """A page's copyright line ("© 2019 X", "Copyright 2024 Y", "All rights reserved")."""
    if info.prose or info.words > 40:
        return False
    # cheap tests first: almost no line names a copyright
    if "©" not in info.text and "copyright" not in info.key and "reserved" not in info.key:
        return "(c)" in info.text.casefold() and _COPYRIGHT.search(info.text) is not None
    return _COPYRIGHT.search(info.text) is not None


def _menu_block(infos: Sequence[LineInfo], start: int, stop: int) -> bool:
    """``_MENU_RUN`` or more consecutive short, non-sentence lines: a menu."""
    run = 0
    for i in range(start, stop):
        info = infos[i]
        if not info.prose and not info.terminal and info.words <= _MENU_WORDS:
            run += 1
            if run >= _MENU_RUN:
                return True
        else:
            run = 0
    return False


def _title_lines(infos: Sequence[LineInfo], start: int, stop: int) -> list[tuple[int, int]]:
    """Page-title lines in ``[start, stop)`` with their echo: ``(title, headline)``, the
    headline's index negated when it repeats the title whole (see :func:`_echo`)."""
    later: dict[str, int] = {}  # key -> nearest line after i
    for j in range(min(len(infos), stop + _ECHO_WINDOW) - 1, stop - 1, -1):
        later[infos[j].key] = j
    out = []
    for i in range(stop - 1, start - 1, -1):
        title = infos[i]
        if 4 <= title.words <= 40 and not (title.prose or title.ui or title.timestamp):
            echo = _echo(infos, i, later)
            if echo is not None:
                out.append((i, echo))
        later[title.key] = i
    return out[::-1]


def _echo(infos: Sequence[LineInfo], i: int, later: dict[str, int]) -> int | None:
    """The nearest later line that is line ``i``'s headline: the part before a separator
    ("Headline | Site", " - ", " – ", ": "), or (negated) the whole line repeated.

    Args:
        infos: all lines.
        i: the candidate title line.
        later: key -> nearest index after ``i``.
    """
    title = infos[i]
    if _BYLINE.match(title.text):
        return None  # "By The Times | Source: ..." is a credit, not a title
    same = later.get(title.key)
    if (
        same is not None
        and same <= i + _ECHO_WINDOW
        and _headline(title)
        and not any(x.prose for x in infos[max(0, i - _ENDED) : i])
        and not any(x.prose for x in infos[i + 1 : same])
    ):
        # The <title> is the headline itself: weaker evidence (a heading listed in a
        # table of contents, or a chart title, repeats the same way), so the page
        # must have ended before it (a footer, not a paragraph), only chrome may sit
        # between the two, and its story must follow closely.
        return -same
    for m in _SEPARATOR.finditer(title.text):
        head = line_key(title.text[: m.start()])
        j = later.get(head)
        if (
            j is not None
            and j <= i + _ECHO_WINDOW
            and head.count(" ") >= 2
            and title.words - infos[j].words <= _ECHO_REST
        ):
            return j
    return None


def _headline_cluster(infos: Sequence[LineInfo], stop: int) -> int | None:
    """A headline followed by a byline or a date in the last lines before ``stop``."""
    for i in range(max(0, stop - _HEAD_ZONE), stop):
        info = infos[i]
        if _headline(info) and any(
            x.timestamp or _BYLINE.match(x.text) for x in infos[i + 1 : min(stop, i + 5)]
        ):
            return i
    return None


def story_starts(infos: Sequence[LineInfo], *, strict: bool = True) -> list[int]:
    """For each line, the first line at or after it where a story begins (``len(infos)``
    when none does): two paragraphs in a row of together ``_STORY_WORDS`` words or more
    (teaser blurbs come one at a time); unless ``strict``, one long paragraph will do."""
    n = len(infos)
    out = [n] * (n + 1)
    following = False  # infos[k + 1] is a paragraph
    for k in range(n - 1, -1, -1):
        a = infos[k]
        here = _paragraph(a)
        story = here and (
            (not strict and a.words >= _LONG_PARAGRAPH)
            or (following and a.words + infos[k + 1].words >= _STORY_WORDS)
        )
        out[k] = k if story else out[k + 1]
        following = here
    return out


def _paragraph(info: LineInfo) -> bool:
    return info.prose and not info.cta


def _chrome_restart(infos: Sequence[LineInfo], page: int, start: int, stop: int) -> list[int]:
    """Where the first lines of the page starting at ``page`` (its menus) recur, in
    order, in ``[start, stop)``: the next page of the same site begins there."""
    head = [x.key for x in infos[page + 1 : page + 1 + _RESTART_LINES]]
    if len(head) < _RESTART_LINES or any(infos[page + 1 + k].prose for k in range(len(head))):
        return []
    out = []
    for m in range(start + 1, stop - _RESTART_LINES):
        if infos[m].key == head[0] and [x.key for x in infos[m : m + _RESTART_LINES]] == head:
            out.append(m - 1)  # the line before the menus: the page's title
    return out


def _page_start_cue(infos: Sequence[LineInfo], cut: int, story: int) -> bool:
    """Between a copyright line and the next story: a headline just above the story
    (a byline or date under it, or a menu block before it)."""
    head = _headline_cluster(infos, story)
    if head is not None and head >= cut:
        return True
    near = range(max(cut, story - _HEAD_ZONE), story)
    return any(_headline(infos[i]) for i in near) and _menu_block(infos, cut, story)


def _page_head(infos: Sequence[LineInfo], i: int, ends: Sequence[int]) -> bool:
    """A page's title line without an echo: a headline-shaped line after chrome (no
    paragraph just above it), a footer line shortly before it (``ends``: running count
    of footer lines before each line) and a menu block right under it."""
    title = infos[i]
    if not 5 <= title.words <= 40 or title.prose or title.ui or title.timestamp:
        return False
    if title.terminal or ". " in title.text or any(x.prose for x in infos[max(0, i - 3) : i]):
        return False
    below = infos[i + 1 : i + 1 + _MENU_RUN]
    if sum(not x.prose and not x.terminal and x.words <= _MENU_WORDS for x in below) < 5:
        return False
    return ends[i] > ends[max(0, i - _END_REACH)]


def _headline(info: LineInfo) -> bool:
    return 4 <= info.words <= 25 and not (info.prose or info.terminal or info.ui or info.timestamp)


def page_starts(infos: Sequence[LineInfo]) -> list[int]:
    """Indices of the first lines of the 2nd, 3rd, ... page of a chained dump (empty for
    a single page).

    Candidates are page-title lines, the line after a copyright line and the restart of
    the first page's top chrome; a candidate is kept when a story lies between it and
    the previous page start, and another story follows it (after its title's echo; after
    a menu block or a headline cluster for a copyright cut).

    Args:
        infos: features of every non-empty line of the dump, in order.
    """
    n = len(infos)
    candidates: dict[int, str] = {}
    echoes: dict[int, int] = {}
    for i, j in _title_lines(infos, 1, n):
        candidates[i] = "title" if j > 0 else "headline"
        echoes[i] = abs(j)
    copyright = [_copyright(x) for x in infos]
    ends = [0]
    for x, cop in zip(infos, copyright, strict=True):
        ends.append(ends[-1] + (cop or _legal(x)))
    for i in range(1, n - _MENU_RUN):
        if i not in candidates and _page_head(infos, i, ends):
            candidates[i] = "head"
    for i in _chrome_restart(infos, 0, 1, n):
        candidates.setdefault(i, "chrome")
    for i in range(1, n - 1):
        if copyright[i] and not copyright[i + 1]:
            candidates.setdefault(i + 1, "footer")
    if not candidates:
        return []
    starts = story_starts(infos)
    loose = story_starts(infos, strict=False)
    prose_words = [0]
    for x in infos:
        prose_words.append(prose_words[-1] + (x.words if x.prose else 0))
    out: list[int] = []
    kinds: list[str] = []
    story = loose[0]  # where the story of the current page begins
    claim = n  # the next page's story, which the last cut was made for
    for c in sorted(candidates):
        kind = candidates[c]
        anchor = echoes.get(c, c)
        if out and c < claim and starts[anchor] == claim and kinds[-1] in _WEAK:
            out[-1], kinds[-1] = c, kind  # the same page's own title: a better cut
            continue
        if c <= story + 1 or prose_words[c] - prose_words[story] < _STRONG_WORDS:
            continue  # the page before has no story of its own yet
        nxt = starts[anchor]
        if nxt >= n:
            break
        if c in echoes and nxt > echoes[c] + (_STORY_AFTER if kind == "title" else _HEAD_ZONE):
            continue  # the echo is not the headline of the next story
        if kind == "head" and nxt - c > _HEAD_REACH:
            continue
        if kind == "footer" and not _page_start_cue(infos, c, nxt):
            continue
        out.append(c)
        kinds.append(kind)
        story, claim = loose[anchor], nxt
    return out
