"""Line/paragraph boilerplate classifier for plain-text page dumps.

The model is deliberately simple and site-independent:

1. every non-empty line gets shape features (:mod:`briefings.textnorm`): word count,
   function-word share, sentence-like ending, capitalisation, "Label:" form;
2. prose lines score positive, everything else (menus, buttons, captions, credits,
   timestamps) negative; the maximum-sum run of lines is the story (as in Finn et al.'s
   body-text extraction);
3. inside that run short lines are kept as sub-headings unless they look like page
   furniture: UI vocabulary, photo credits, captions (lines around a credit or after an
   "Image:" label), lines repeated in the file, lines following a common template ("More
   on X", "Stills from ..."), link lists after "Read more:"-style labels, timestamps.

Optionally the caller passes ``boilerplate_lines`` (keys of lines that repeat across many
dumps, see :func:`briefings.textnorm.line_key`); those are always dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from briefings.textnorm import LineInfo, fix_text, line_info, norm_line

# Generic web-UI vocabulary (the words buttons, banners and widget headers are made of on
# any site); only ever applied to short lines.
_UI = re.compile(
    r"^(?:[•·|>»▶►\-*]\s*)?(?:advertisement|advertising|ad|sponsored|promoted|share|shares|"
    r"tweet|email|e-mail|print|save|follow|subscribe|subscription|sign (?:in|up)|log ?in|"
    r"log ?out|register|connect with|download|get (?:the|our) app|install|comments?|\d+ comments?|"
    r"no comments|leave a (?:comment|reply)|join the (?:conversation|discussion)|"
    r"related|more (?:on|from|about|stories|news|in|like this)|read (?:more|next|also)|"
    r"see (?:also|more)|continue reading|keep reading|skip (?:to|ad)|back to|go to|"
    r"cookies?|accept|privacy|terms|copyright|©|all rights reserved|trending|most "
    r"(?:popular|read|viewed|shared)|recommended|you may (?:also )?like|"
    r"don't miss|watch|listen|video|gallery|image \d+|photo|loading|published|updated|"
    r"posted|by|on|at|logo|menu|search|home|close|next|previous|prev|click|tap|"
    r"explore|try|learn more|view|show more|load more|newsletter|contact us|about us|"
    r"facebook|twitter|instagram|linkedin|whatsapp|youtube|pinterest|reddit|telegram|"
    r"x|rss|top stories|latest|sections|topics|tags?|filed under|featured)\b",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"\b(?:photo|photos|image|images|picture|pic|pics|credit|credits|illustration|"
    r"photograph|graphic|footage)\s*(?::|/|by\b|copyright\b|caption\b|source\b)|copyright\b|\(\s*(?:ap|afp|reuters|getty)\b|"
    r"\bgetty images\b|\bshutterstock\b|\b\d+\s*(?:of|/)\s*\d+\s*$",
    re.IGNORECASE,
)
_STILLS = re.compile(r"^(?:image|photo|picture|video|caption)\b", re.IGNORECASE)
_TIME = re.compile(
    r"\b(?:\d{1,2}:\d{2}|\d+\s*(?:min|mins|minutes?|hours?|hrs?|days?|weeks?)\s+ago|"
    r"an? (?:minute|hour|day|week) ago|yesterday|today|(?:jan|feb|mar|apr|may|jun|jul|aug|"
    r"sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|"
    r"sep|sept|oct|nov|dec)[a-z]*|\d{4}-\d{2}-\d{2})",
    re.IGNORECASE,
)
_URLISH = re.compile(
    r"https?://|www\.|%2F|\.(?:com|org|net|html?)\b|@\w+\.\w+|^@\w+$", re.IGNORECASE
)
_CTA = re.compile(
    r"\b(?:download|subscribe|sign up|sign in|log in|click|tap|follow us|register|app store|"
    r"newsletter|get started|start exploring|unlock|free trial|upgrade|enable javascript|"
    r"cookies?|browser)\b",
    re.IGNORECASE,
)
_YOU = re.compile(r"\b(?:you|your|you're|yours|our|us)\b", re.IGNORECASE)
_IMPERATIVE = re.compile(
    r"^(?:get|download|subscribe|sign|join|try|click|tap|follow|register)\b", re.IGNORECASE
)
_NUMBERISH = re.compile(r"^[\W\d_]*$")


@dataclass(frozen=True, slots=True)
class FileStats:
    """Counts over one whole dump used as repetition signals.

    Attributes:
        keys: how often each line key occurs in the file.
        prefixes: how many distinct short lines start with each two-word prefix.
    """

    keys: Counter[str]
    prefixes: Counter[str]


def _prefix(info: LineInfo) -> str:
    parts = info.key.split(" ", 2)
    return " ".join(parts[:2]) if len(parts) >= 2 else ""


def file_stats(infos: Sequence[LineInfo]) -> FileStats:
    """Build :class:`FileStats` for all non-empty lines of one dump.

    Args:
        infos: features of every non-empty line of the dump, in order.
    """
    keys = Counter(i.key for i in infos)
    seen: dict[str, set[str]] = {}
    for i in infos:
        if 2 <= i.words <= 14 and not is_prose(i):
            seen.setdefault(_prefix(i), set()).add(i.key)
    prefixes = Counter({p: len(v) for p, v in seen.items() if p})
    return FileStats(keys, prefixes)


def is_prose(info: LineInfo) -> bool:
    """True for a line that reads like running text (a story paragraph or sentence)."""
    if info.words >= 30 and info.stop >= 0.1:
        return True
    if info.words >= 30 and info.terminal:
        return True
    return info.words >= 8 and info.terminal and info.stop >= 0.18 and info.caps < 0.7


def is_ui(info: LineInfo) -> bool:
    """True for short button/widget/menu-like lines, calls to action and photo credits."""
    if info.words <= 8 and _UI.match(info.text):
        return True
    if info.words <= 40 and is_call_to_action(info):
        return True
    if info.words <= 40 and _CREDIT.search(info.text):
        return True
    return bool(_URLISH.search(info.text)) and info.words <= 12


def is_call_to_action(info: LineInfo) -> bool:
    """True for "Download our app"/"Sign up for our newsletter"-style promotion."""
    hits = {m.lower() for m in _CTA.findall(info.text)}
    if not hits or not _YOU.search(info.text):
        return False
    return len(hits) >= 2 or bool(_IMPERATIVE.match(info.text))


def is_timestamp(info: LineInfo) -> bool:
    """True for a short line that is mostly a date/time."""
    return info.words <= 12 and not info.terminal and bool(_TIME.search(info.text))


_NUMBERS = re.compile(r"\d+(?:[.,:]\d+)*")


def line_score(info: LineInfo) -> float:
    """Contribution of one line to the story run: positive for prose, negative otherwise."""
    if is_prose(info):
        if info.words <= 40 and is_call_to_action(info):
            return -3.0
        value = float(min(info.words, 120))
        return value * 0.3 if _URLISH.search(info.text) else value
    if is_timestamp(info) or info.label:
        return -6.0  # comment headers ("jdoe says:", "Nov 19 at 6:34 am"), teaser lists
    if is_ui(info):
        return -3.0
    if info.terminal and info.words >= 4 and info.stop >= 0.15:
        return info.words * 0.4
    if info.terminal and info.words >= 5:
        return info.words * 0.2  # data lines: "Smith 25 points. Jones 17 points."
    if info.words >= 2 and len(_NUMBERS.findall(info.text)) >= 3:
        return 0.5  # table rows
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


def comments_start(infos: Sequence[LineInfo]) -> int:
    """Index of a comment-section header that follows a story, else ``len(infos)``."""
    words = 0
    for i, info in enumerate(infos):
        if words >= _MIN_STORY_WORDS and info.words <= 12 and _COMMENTS.search(info.text):
            return i
        if is_prose(info):
            words += info.words
    return len(infos)


def _trigrams(info: LineInfo) -> set[str]:
    w = info.key.split()
    return {" ".join(w[i : i + 3]) for i in range(len(w) - 2)}


def repeats_earlier(infos: Sequence[LineInfo]) -> list[bool]:
    """Flag prose lines whose word trigrams were (nearly) all seen on earlier lines.

    Pages repeat their story in summaries, "key points" boxes and share blurbs; a
    repeated copy must neither pull the story run further down nor appear twice.
    """
    seen: set[str] = set()
    out = []
    for info in infos:
        dup = False
        if is_prose(info):
            grams = _trigrams(info)
            if grams and len(grams & seen) >= 0.8 * len(grams):
                dup = True
            seen |= grams
        out.append(dup)
    return out


def story_span(infos: Sequence[LineInfo]) -> tuple[int, int] | None:
    """The run of lines ``[start, end)`` holding the story, or ``None`` when there is none.

    Args:
        infos: the lines of one article's share of a dump, in order.
    """
    end = comments_start(infos)
    dups = repeats_earlier(infos[:end])
    scores = [
        -3.0 if dup else line_score(x) * position_weight(i, end)
        for i, (x, dup) in enumerate(zip(infos[:end], dups, strict=True))
    ]
    return best_run(scores)


def _template(info: LineInfo, stats: FileStats) -> bool:
    return 2 <= info.words <= 14 and not is_prose(info) and stats.prefixes[_prefix(info)] >= 2


def keep_flags(
    infos: Sequence[LineInfo],
    stats: FileStats,
    *,
    drop_keys: frozenset[str] = frozenset(),
    boilerplate_lines: frozenset[str] = frozenset(),
) -> list[bool]:
    """Decide, for each line of a story run, whether it belongs to the story text.

    Args:
        infos: the lines of the run, in order.
        stats: repetition counts of the whole dump.
        drop_keys: keys of lines to drop wherever they occur (the title, the byline).
        boilerplate_lines: keys of lines known to repeat across many dumps.

    Returns:
        One flag per line; ``True`` means keep.
    """
    n = len(infos)
    keep = [True] * n
    caption = [False] * n
    for i, info in enumerate(infos):
        prose = is_prose(info)
        if (
            info.key in drop_keys
            or info.key in boilerplate_lines
            or not info.key
            or _NUMBERISH.match(info.text)
        ):
            keep[i] = False
        elif (
            info.label
            or (_CREDIT.search(info.text) and info.words <= 40)
            or _template(info, stats)
            or (_STILLS.match(info.text) and not prose)
        ):
            keep[i] = False
            caption[i] = True
        elif prose:
            keep[i] = info.words > 40 or not is_call_to_action(info)
        elif is_ui(info) or is_timestamp(info):
            keep[i] = False
        elif stats.keys[info.key] >= 2 or info.words > 25:
            keep[i] = False
            caption[i] = info.words >= 5
    # Captions come in clusters: the alt text before a credit, the caption after "Image:",
    # and the link list after "Read more:" - non-prose neighbours go with them.
    for i in range(n):
        if not caption[i]:
            continue
        j = i - 1
        while j >= 0 and i - j <= 2 and not is_prose(infos[j]) and not infos[j].terminal:
            keep[j] = False
            j -= 1
        j = i + 1
        while j < n and not is_prose(infos[j]) and (infos[i].label or j == i + 1):
            if infos[j].words > 40:
                break
            keep[j] = False
            j += 1
    # Lines equal to a dropped caption are captions too (alt text repeated as a caption).
    dropped = {infos[i].key for i in range(n) if caption[i] or (not keep[i] and infos[i].words > 5)}
    for i, info in enumerate(infos):
        if keep[i] and info.key in dropped and stats.keys[info.key] >= 2:
            keep[i] = False
    # Drop trailing non-prose lines: a story ends with a paragraph, not a heading.
    for i in range(n - 1, -1, -1):
        if is_prose(infos[i]) or (infos[i].terminal and keep[i]):
            break
        keep[i] = False
    return keep


def clean_lines(
    lines: Sequence[str],
    *,
    stats: FileStats | None = None,
    drop_keys: frozenset[str] = frozenset(),
    boilerplate_lines: frozenset[str] = frozenset(),
) -> list[str]:
    """Return the story paragraphs found in a sequence of lines (one article's share of a dump).

    Args:
        lines: normalised lines; blank ones are ignored.
        stats: repetition counts of the whole dump (computed from ``lines`` when omitted).
        drop_keys: keys of lines to drop wherever they occur (title, byline).
        boilerplate_lines: keys of lines known to repeat across many dumps.

    Returns:
        The kept paragraphs, in order.
    """
    infos = [line_info(t) for t in (norm_line(x) for x in lines) if t]
    if stats is None:
        stats = file_stats(infos)
    span = story_span(infos)
    if span is None:
        return []
    run = infos[span[0] : span[1]]
    flags = keep_flags(run, stats, drop_keys=drop_keys, boilerplate_lines=boilerplate_lines)
    return [i.text for i, k in zip(run, flags, strict=True) if k]


def clean(text: str, *, boilerplate_lines: frozenset[str] = frozenset()) -> str:
    """Clean the text of one page/article: repair encoding, keep only the story paragraphs.

    Args:
        text: plain text as copied from a web page (one story plus page furniture).
        boilerplate_lines: keys (:func:`briefings.textnorm.line_key`) of lines known to
            repeat across many dumps; they are always dropped.

    Returns:
        The story text, paragraphs separated by a blank line; ``""`` when nothing is prose.
    """
    lines = fix_text(text).split("\n")
    return "\n\n".join(clean_lines(lines, boilerplate_lines=boilerplate_lines))
