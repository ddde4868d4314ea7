"""Render a briefing as Telegram HTML messages (split at entry boundaries) or plain text.

Pure functions without Telegram imports: the bot sends the strings as they are. Every
dynamic text is escaped here; every message is at most :data:`MAX_MESSAGE` UTF-16 units
of HTML (so its visible text is too), and a message never ends inside a tag or an entry.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_MESSAGE = 4096
TITLE_LIMIT = 300
SUMMARY_LIMIT = 900
OUTLETS_SHOWN = 5
ENTRY_BUDGET = 2900  # escaped entry; a section header (≤ 100 characters) fits beside it
LABEL_LIMIT = 100
OPENING_LIMIT = 500


@dataclass(frozen=True)
class BriefingEntry:
    """One story in a briefing: its best article and the outlets that carried the story.

    Attributes:
        story_id: the story.
        article_id: the article shown (``/read_<article_id>``).
        title: its headline.
        outlet: the shown article's outlet, when known.
        also_in: the story's other outlets.
        reports: how many articles the story has.
        summary: 2–3 summary sentences.
        sort_time: the story's newest article time.
        other_reports: the story's other articles as (article id, outlet or None).
    """

    story_id: int
    article_id: int
    title: str
    outlet: str | None
    also_in: tuple[str, ...]
    summary: tuple[str, ...]
    sort_time: datetime
    reports: int = 1
    other_reports: tuple[tuple[int, str | None], ...] = ()


Sections = Sequence[tuple[str, Sequence[BriefingEntry]]]


def esc(text: str) -> str:
    """Escape text for Telegram HTML (``&``, ``<`` and ``>``)."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut[limit // 2 :] else cut) + "…"


def outlet_text(entry: BriefingEntry, limit: int = 400) -> str:
    """The outlets line, e.g. "Reuters · also in: BBC, CNN · 3 reports" (≤ ``limit`` chars)."""
    parts = [_clip(entry.outlet, 100)] if entry.outlet else []
    if entry.also_in:
        shown = ", ".join(_clip(name, 60) for name in entry.also_in[:OUTLETS_SHOWN])
        more = len(entry.also_in) - OUTLETS_SHOWN
        parts.append(f"also in: {shown}" + (f" and {more} more" if more > 0 else ""))
    if entry.reports > 1:
        parts.append(f"{entry.reports} reports")
    return _clip(" · ".join(parts), limit)


def reports_text(entry: BriefingEntry) -> str:
    """The other reports, each with its command: "Reports: BBC /read_12 · /read_13"."""
    if not entry.other_reports:
        return ""
    shown = [
        f"{_clip(outlet, 40)} /read_{aid}" if outlet else f"/read_{aid}"
        for aid, outlet in entry.other_reports[:OUTLETS_SHOWN]
    ]
    more = len(entry.other_reports) - OUTLETS_SHOWN
    return "Reports: " + " · ".join(shown) + (f" · and {more} more" if more > 0 else "")


# (summary, title) length limits tried in turn until the escaped entry fits its budget
_LIMITS = ((SUMMARY_LIMIT, TITLE_LIMIT), (400, 200), (150, 100), (0, 60))


@lru_cache(maxsize=20_000)
def entry_html(entry: BriefingEntry) -> str:
    """One entry: bold title, italic outlets, summary, ``/read_<id>``; always complete.

    Long text is clipped so that the entry, escaped, stays within :data:`ENTRY_BUDGET`
    units: a header plus an entry always fits one message.
    """
    block = ""
    for summary_limit, title_limit in _LIMITS:
        summary = _clip(" ".join(entry.summary), summary_limit) if summary_limit else ""
        outlets = outlet_text(entry)
        parts = [f"<b>{esc(_clip(entry.title, title_limit))}</b>"]
        if outlets:
            parts.append(f"<i>{esc(outlets)}</i>")
        if summary:
            parts.append(esc(summary))
        parts.append(f"/read_{entry.article_id}")
        if entry.other_reports:
            parts.append(esc(reports_text(entry)))
        block = "\n".join(parts)
        if utf16_len(block) <= ENTRY_BUDGET:
            break
    return block


def entry_plain(entry: BriefingEntry) -> str:
    """One entry as plain text."""
    lines = [_clip(entry.title, TITLE_LIMIT)]
    if outlet_text(entry):
        lines.append(f"  {outlet_text(entry)}")
    summary = _clip(" ".join(entry.summary), SUMMARY_LIMIT)
    if summary:
        lines.append(f"  {summary}")
    lines.append(f"  /read_{entry.article_id}")
    if entry.other_reports:
        lines.append(f"  {reports_text(entry)}")
    return "\n".join(lines)


def pack(blocks: Sequence[str], *, limit: int = MAX_MESSAGE, separator: str = "\n\n") -> list[str]:
    """Pack complete HTML blocks into as few messages of at most ``limit`` units as fit.

    Blocks are never cut, so no tag or entry is ever split across messages.

    Args:
        blocks: complete HTML fragments, each at most ``limit`` units.
        limit: the largest message.
        separator: what joins two blocks within a message.

    Raises:
        ValueError: a block is longer than ``limit``.
    """
    messages: list[str] = []
    current, size = "", 0
    gap = utf16_len(separator)
    for block in blocks:
        length = utf16_len(block)
        if length > limit:
            raise ValueError("a briefing block is longer than a message")
        if current and size + gap + length <= limit:
            current, size = current + separator + block, size + gap + length
        else:
            if current:
                messages.append(current)
            current, size = block, length
    if current:
        messages.append(current)
    return messages


def render_html(opening: str, sections: Sections, hint: str = "") -> list[str]:
    """The briefing as Telegram HTML messages of at most 4096 units each.

    A section header travels with its first entry, so no message ends on a bare header.

    Args:
        opening: the opening line (plain text).
        sections: (section label, entries) in display order.
        hint: an optional closing line (plain text).
    """
    blocks = [f"<b>{esc(_clip(opening, OPENING_LIMIT))}</b>"]
    if not sections and hint:  # an empty briefing stays one line
        return [f"{blocks[0]} {esc(_clip(hint, OPENING_LIMIT))}"]
    for label, entries in sections:
        for i, entry in enumerate(entries):
            block = entry_html(entry)
            if i == 0:
                block = f"<u><b>{esc(_clip(label, LABEL_LIMIT))}</b></u>\n\n{block}"
            blocks.append(block)
    if hint:
        blocks.append(f"<i>{esc(_clip(hint, OPENING_LIMIT))}</i>")
    return pack(blocks)


PLAIN_FOOTER = "Read a story in full: briefbot chat, then its /read_<id>."


def render_plain(opening: str, sections: Sections) -> str:
    """The briefing as plain text for the terminal (no chat-only hint at the end)."""
    out = [opening]
    for label, entries in sections:
        out.append(f"== {label} ==")
        out.extend(entry_plain(entry) for entry in entries)
    if sections:
        out.append(PLAIN_FOOTER)
    return "\n\n".join(out) + "\n"


def local_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def since_phrase(since: datetime, now: datetime, timezone: str = "UTC") -> str:
    """Word a window start for the opening line: "since 07:00", "since yesterday"…

    Args:
        since: window start.
        now: the current time.
        timezone: the reader's IANA zone.
    """
    zone = local_zone(timezone)
    start, today = since.astimezone(zone), now.astimezone(zone)
    days = (today.date() - start.date()).days
    if days <= 0:
        return f"since {start:%H:%M}"
    if days == 1:
        return "since yesterday"
    if days < 7:
        return f"since {start:%A}"
    return f"since {start.day} {start:%b}"


def and_list(names: Sequence[str]) -> str:
    if len(names) > 4:
        names = [*names[:3], f"{len(names) - 3} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@dataclass
class ComposedBriefing:
    """A composed briefing, ready to render and to store.

    Attributes:
        opening: e.g. "5 stories in AI, World and Business since yesterday", or the one
            friendly line of an empty briefing.
        sections: (section label, entries) in display order.
        story_ids: the stories it holds, in display order.
        empty: nothing new in the window.
        since: start of the window.
        hint: a closing line for chats (e.g. how to subscribe), may be empty.
        subscriptions: the subscriptions it was composed for (``Subscriber.subscriptions``).
    """

    opening: str
    sections: list[tuple[str, list[BriefingEntry]]]
    story_ids: list[int]
    empty: bool
    since: datetime
    hint: str = ""
    subscriptions: tuple[str, ...] = ()
    _html: list[str] | None = field(default=None, repr=False, compare=False)

    def html_messages(self) -> list[str]:
        """Telegram HTML messages (≤ 4096 units each), split between entries."""
        if self._html is None:
            self._html = render_html(self.opening, self.sections, self.hint)
        return list(self._html)

    def plain_text(self) -> str:
        """The briefing as plain text for the command line (chat hints left out)."""
        return render_plain(self.opening, self.sections)
