"""Where the story is: score each line, take the best run, cut comments and tails.

The story of a page is the maximum-sum run of lines when prose lines score positive and
page furniture negative (as in Finn et al.'s body-text extraction), with these
refinements: long stretches of furniture cost progressively more (only real text, not a
line that barely scores, starts the count again), the figures of a chart or table weigh
nothing either way, a comment thread after the story is cut at its header or, without
one, where a list of dated posts begins, and a small block hanging after a break of
buttons (an "about us" blurb, a newsletter pitch) is trimmed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from briefings.text.normalise import LineInfo

_NUMBERS = re.compile(r"\d+(?:[.,:]\d+)*")


def line_score(info: LineInfo) -> float:
    """Contribution of one line to the story run: positive for prose, negative otherwise."""
    if info.prose:
        if info.words <= 40 and info.cta:
            return -3.0
        value = float(min(info.words, 120))
        return value * 0.3 if info.urlish else value
    if info.timestamp or info.label:
        return -6.0  # comment headers ("jdoe says:", "Nov 19 at 6:34 am"), teaser lists
    if info.ui:
        return -3.0
    if info.terminal and info.words >= 4 and info.stop >= 0.15:
        return info.words * 0.4
    if info.terminal and info.words >= 5:
        return info.words * 0.2  # data lines: "Smith 25 points. Jones 17 points."
    if info.words >= 20 and info.caps < 0.35:
        return info.words * 0.5  # a long sentence without its full stop (or cut mid-way)
    if info.words >= 2 and len(_NUMBERS.findall(info.text)) >= 2:
        return 0.5  # table rows
    if info.words >= 5 and info.stop >= 0.2 and info.caps < 0.5:
        return -1.0  # list items, sentence fragments: weaker evidence against than menus
    return -3.0


def position_weight(index: int, total: int) -> float:
    """Stories sit in the upper part of a page; footers and link farms at the bottom."""
    return 1.2 - 0.6 * index / max(1, total)


def best_run(scores: Sequence[float]) -> tuple[int, int] | None:
    """Maximum-sum contiguous run ``[start, end)``; ``None`` if no line scores positive."""
    best = 0.0
    best_span: tuple[int, int] | None = None
    total = 0.0
    start = 0
    for i, s in enumerate(scores):
        if total <= 0:
            total, start = s, i
        else:
            total += s
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span


_COMMENTS = re.compile(
    r"^(?:\d+\s+)?(?:comments?|responses?|replies|reactions|discussion)(?:\s*\(\d+\))?:?$|"
    r"^\d+\s+(?:comments?|responses?|replies)\b|\bresponses? to\b|"
    r"^(?:leave|post|add|write|submit) a (?:comment|reply|response)\b|"
    r"^join the (?:conversation|discussion)\b|^comments are closed\b",
    re.IGNORECASE,
)
_MIN_STORY_WORDS = 50
_COMMENT_HINT = re.compile(r"comment|respons|repl|reaction|discussion|conversation")


def comments_start(infos: Sequence[LineInfo], start: int = 0, stop: int | None = None) -> int:
    """Index of the first comment-section header in ``[start, stop)`` that follows at least
    ``_MIN_STORY_WORDS`` words of prose, else ``stop`` (default ``len(infos)``)."""
    stop = len(infos) if stop is None else stop
    words = 0
    for i in range(start, stop):
        info = infos[i]
        if (
            words >= _MIN_STORY_WORDS
            and info.words <= 12
            and _COMMENT_HINT.search(info.key) is not None
            and _COMMENTS.search(info.text)
            and _looks_like_thread(infos[i + 1 : i + 61])
        ):
            return i
        if info.prose:
            words += info.words
    return stop


_POST_WINDOW = 40
_ATTRIBUTION = ("—", "–", "-", "~")
_POST_HEADS = 3


def _post_head(infos: Sequence[LineInfo], i: int) -> bool:
    """A post's header ("jdoe · March 10, 2017 at 1:26 AM", "14:32", "Nov 19 at 6:34 am")
    with the post's text right under it."""
    info = infos[i]
    if not info.timestamp or info.text.startswith(_ATTRIBUTION):
        return False  # "— Jane Doe (@jdoe) November 18, 2019" closes an embedded post
    return any(x.prose for x in infos[i + 1 : i + 3])


def posts_start(infos: Sequence[LineInfo], start: int = 0, stop: int | None = None) -> int:
    """Index of the first header of a list of dated posts (comments, a live feed, dated
    teasers: ``_POST_HEADS`` or more headers each followed by its text, within
    ``_POST_WINDOW`` lines) that follows at least ``_MIN_STORY_WORDS`` words of prose in
    ``[start, stop)``, else ``stop``. A story's own timestamps come one at a time. The list
    may reach past ``stop``: the run often ends inside it."""
    stop = len(infos) if stop is None else stop
    words = 0
    reach = min(len(infos), stop + _POST_WINDOW)  # the list may go on past the run
    heads = [i for i in range(start, reach) if _post_head(infos, i)]
    k = 0
    for i in range(start, stop):
        info = infos[i]
        if k < len(heads) and heads[k] == i:
            if (
                words >= _MIN_STORY_WORDS
                and k + _POST_HEADS - 1 < len(heads)
                and heads[k + _POST_HEADS - 1] < i + _POST_WINDOW
            ):
                return i
            k += 1
        if info.prose:
            words += info.words
    return stop


def _looks_like_thread(infos: Sequence[LineInfo]) -> bool:
    """Comments come with per-post headers: "jdoe says:", "Nov 19, 2019 at 6:34 am", and
    the first post starts right under the section header: a story that goes on after a
    "Comments" button (the first header far below, after paragraphs) is no thread."""
    headers = 0
    words = 0
    for info in infos:
        if info.label or info.timestamp:
            headers += 1
            if headers >= 3:
                return True
        elif info.prose and not headers:
            words += info.words
            if words >= _MIN_STORY_WORDS:
                return False
    return False


_LONG_LINE = 25
_GAP_CAP = 3.0
_GAP_RESET = 3.0


def _trigrams(info: LineInfo) -> set[tuple[str, str, str]]:
    w = info.key.split()
    return set(zip(w, w[1:], w[2:], strict=False))


def repeats_earlier(infos: Sequence[LineInfo]) -> list[bool]:
    """Flag prose lines whose word trigrams were (nearly) all seen on earlier lines.

    Pages repeat their story in summaries, "key points" boxes and share blurbs; a
    repeated copy must neither pull the story run further down nor appear twice.
    """
    seen: set[tuple[str, str, str]] = set()
    keys: set[str] = set()
    out = []
    for info in infos:
        dup = False
        if info.prose:
            if info.key in keys:
                dup = True
            elif info.words >= _LONG_LINE:  # copies worth the trigram work are long
                grams = _trigrams(info)
                dup = len(grams & seen) >= 0.8 * len(grams)
                seen |= grams
            keys.add(info.key)
        out.append(dup)
    return out


_LIST_MIN = 4


def dated_list(infos: Sequence[LineInfo]) -> list[bool]:
    """Flag blocks of 4+ consecutive dated entries ("June 9 - Tampa, FL @ Arena"):
    schedules and tour dates belong to the story, unlike a lone timestamp line."""
    out = [False] * len(infos)
    start = 0
    for i in range(len(infos) + 1):
        if i < len(infos) and infos[i].timestamp and infos[i].words >= 3:
            continue
        if i - start >= _LIST_MIN:
            out[start:i] = [True] * (i - start)
        start = i + 1
    return out


def story_span(infos: Sequence[LineInfo]) -> tuple[int, int] | None:
    """The run of lines ``[start, end)`` holding the story, or ``None`` when there is none.

    Args:
        infos: the lines of one article's share of a dump, in order.
    """
    dups = repeats_earlier(infos)
    dated = dated_list(infos)
    n = len(infos)
    scores = []
    gap = 0
    for i, (x, dup) in enumerate(zip(infos, dups, strict=True)):
        if dup:  # a repeated paragraph neither extends nor breaks a run
            scores.append(0.0)
            continue
        if dated[i]:
            scores.append(0.5)
            gap = 0
            continue
        if not x.words and sum(not y.words for y in infos[max(0, i - 2) : i + 3]) >= 3:
            scores.append(0.0)  # chart axes, table figures: no evidence either way
            continue
        score = line_score(x) * position_weight(i, n)
        if score <= 0:
            # Long stretches of furniture separate page regions: each further line
            # costs more, while a caption or two inside a story stays cheap.
            gap += 1
            score *= min(_GAP_CAP, 1.0 + 0.15 * gap)
        elif score >= _GAP_RESET:
            gap = 0
        scores.append(score)
    span = best_run(scores)
    if span is None:
        return None
    # A comment thread right after the story reads like prose too: stop at its header.
    end = min(comments_start(infos, span[0], span[1]), posts_start(infos, span[0], span[1]))
    if end < span[1]:
        inner = best_run(scores[span[0] : end])
        if inner is not None:
            span = span[0] + inner[0], span[0] + inner[1]
    return _trim_tail(infos, scores, span)


_TAIL_SHARE = 0.15


def _trim_tail(
    infos: Sequence[LineInfo], scores: Sequence[float], span: tuple[int, int]
) -> tuple[int, int]:
    """Cut a small block hanging after a break at the end of the run (an "about us"
    blurb, a newsletter pitch): little prose behind two or more non-prose lines."""
    start, end = span
    total = sum(i.words for i in infos[start:end] if i.prose)
    tail_words = 0
    gap = 0
    furniture = False  # captions inside a story make gaps too; buttons and pitches do not
    for k in range(end - 1, start, -1):
        info = infos[k]
        if scores[k] > 0:
            if gap >= 2 and furniture:
                break
            gap, furniture = 0, False
            tail_words += info.words if info.prose else 0
        else:
            gap += 1
            furniture = furniture or (info.ui and not info.credit)
    else:
        return span
    if tail_words < _TAIL_SHARE * total:
        return start, k + 1
    return span
