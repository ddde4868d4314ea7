"""Line/paragraph boilerplate classifier for plain-text page dumps.

The model is deliberately simple and site-independent:

1. every non-empty line gets shape features (:mod:`briefings.text.normalise`): word count,
   function-word share, sentence-like ending, capitalisation, "Label:" form, and
   furniture flags (:mod:`briefings.text.patterns`);
2. prose lines score positive, everything else (menus, buttons, captions, credits,
   timestamps) negative; the maximum-sum run of lines is the story
   (:mod:`briefings.text.body`);
3. inside that run short lines are kept as sub-headings unless they look like page
   furniture: UI vocabulary, photo credits, captions (lines around a credit or after an
   "Image:" label), lines repeated in the file, lines following a common template ("More
   on X", "Stills from ..."), link lists after "Read more:"-style labels, timestamps.

Optionally the caller passes ``boilerplate_lines`` (keys of lines that repeat across many
dumps, see :func:`briefings.text.normalise.line_key`); those are always dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from briefings.text.body import dated_list, story_span
from briefings.text.inline import KICKER_WORDS, strip_inline
from briefings.text.normalise import LineInfo, fix_text, line_info, norm_line, text_lines
from briefings.text.patterns import LINK, STILLS

_TEMPLATE_WORDS = 6
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
        if 2 <= i.words <= _TEMPLATE_WORDS and not is_prose(i):
            seen.setdefault(_prefix(i), set()).add(i.key)
    prefixes = Counter({p: len(v) for p, v in seen.items() if p})
    return FileStats(keys, prefixes)


def is_prose(info: LineInfo) -> bool:
    """True for a line that reads like running text (a story paragraph or sentence)."""
    return info.prose


def is_ui(info: LineInfo) -> bool:
    """True for short button/widget/menu-like lines, calls to action and photo credits."""
    return info.ui


def is_call_to_action(info: LineInfo) -> bool:
    """True for "Download our app"/"Sign up for our newsletter"-style promotion."""
    return info.cta


def is_timestamp(info: LineInfo) -> bool:
    """True for a short line that is mostly a date/time."""
    return info.timestamp


_CONNECTIVE = re.compile(
    r"^(?:[\"“‘'][A-Z0-9]|(?:but|and|so|yet|still|however|then|meanwhile|instead|indeed)\b)",
    re.IGNORECASE,
)


def continues_prose(info: LineInfo) -> bool:
    """A short sentence that carries the story on: a quotation ("“It's our time.”") or one
    opening with a connective ("But the attacks didn't stop there."). Captions and credits
    are neither, so the caption clusters around them never take such a line."""
    return (
        info.terminal
        and 2 <= info.words <= 40
        and not info.credit
        and bool(_CONNECTIVE.match(info.text))
    )


_KICKER = re.compile(r"^[A-Z][\w'’-]*(?: [\w'’-]+){0,3}: [\"“‘']?[A-Z]")


def teaser_headline(prev: LineInfo, info: LineInfo, after: LineInfo | None) -> bool:
    """The headline of another story set between two paragraphs: "Topic latest: Title"
    (a kicker with a live/latest/watch word before a colon), or a title-cased question
    that heads a photo, not a section ("Why does Trump want Greenland?" above a credit).

    Args:
        prev: the line before (must be prose: teasers sit inside the text).
        info: the candidate line.
        after: the line after; a credit/caption there marks a question as a teaser.
    """
    if not prev.prose or info.prose or not 4 <= info.words <= 20:
        return False
    kicker = _KICKER.match(info.text)
    if not info.terminal and info.words >= 6 and kicker:
        said = set(info.text.split(":", 1)[0].casefold().split())
        return not said.isdisjoint(KICKER_WORDS) and (after is None or after.prose)
    return (
        info.text.endswith("?")
        and info.words <= 12
        and info.caps >= 0.4
        and after is not None
        and after.credit
    )


def _template(info: LineInfo, stats: FileStats) -> bool:
    return (
        2 <= info.words <= _TEMPLATE_WORDS
        and not is_prose(info)
        and stats.prefixes[_prefix(info)] >= 2
    )


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
    dated = dated_list(infos)
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
            or (info.ui and LINK.match(info.text) is not None)
            or info.credit
            or _template(info, stats)
            or (STILLS.match(info.text) and not prose)
        ):
            keep[i] = False
            caption[i] = True
        elif prose:
            keep[i] = info.words > 40 or not is_call_to_action(info)
        elif dated[i]:
            continue
        elif is_ui(info) or is_timestamp(info):
            keep[i] = False
        elif stats.keys[info.key] >= 2 or (info.words > 25 and info.stop < 0.2):
            keep[i] = False
            caption[i] = info.words >= 5
    for i in range(1, n):
        if keep[i] and teaser_headline(infos[i - 1], infos[i], infos[i + 1] if i + 1 < n else None):
            keep[i] = False
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
        lister = infos[i].label or LINK.match(infos[i].text) is not None
        while j < n and not is_prose(infos[j]) and (lister or j == i + 1):
            if infos[j].words > 40 or continues_prose(infos[j]):
                break
            keep[j] = False
            j += 1
    # Lines equal to a dropped caption are captions too (alt text repeated as a caption).
    dropped = {infos[i].key for i in range(n) if caption[i] or (not keep[i] and infos[i].words > 5)}
    for i, info in enumerate(infos):
        if keep[i] and info.key in dropped and stats.keys[info.key] >= 2:
            keep[i] = False
    # A paragraph printed twice in the run (a summary box, a disclaimer under each chart)
    # is read once: the first copy stays.
    seen: set[str] = set()
    for i, info in enumerate(infos):
        if keep[i] and info.prose and stats.keys[info.key] >= 2:
            if info.key in seen:
                keep[i] = False
            seen.add(info.key)
    # Drop trailing non-prose lines (a story ends with a paragraph, not a heading) and a
    # closing contact line ("Have a tip? Reach her at jane@example.com").
    for i in range(n - 1, -1, -1):
        info = infos[i]
        if info.urlish and info.words <= 40:
            keep[i] = False
            continue
        if is_prose(info) or ((info.terminal or dated[i]) and keep[i]):
            break
        keep[i] = False
    return keep


def story_paragraphs(run: Sequence[LineInfo], flags: Sequence[bool]) -> list[str]:
    """The kept lines of a story run as paragraphs, prose lines without inline furniture.

    Args:
        run: the lines of the story run.
        flags: :func:`keep_flags` of ``run``.
    """
    out = []
    for info, keep in zip(run, flags, strict=True):
        if keep:
            text = strip_inline(info.text) if info.prose else info.text
            if text:
                out.append(text)
    return out


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
    return story_paragraphs(run, flags)


def clean(text: str, *, boilerplate_lines: frozenset[str] = frozenset()) -> str:
    """Clean the text of one page/article: repair encoding, keep only the story paragraphs.

    Args:
        text: plain text as copied from a web page (one story plus page furniture).
        boilerplate_lines: keys (:func:`briefings.text.normalise.line_key`) of lines known to
            repeat across many dumps; they are always dropped.

    Returns:
        The story text, paragraphs separated by a blank line; ``""`` when nothing is prose.
    """
    lines = text_lines(fix_text(text))
    return "\n\n".join(clean_lines(lines, boilerplate_lines=boilerplate_lines))
