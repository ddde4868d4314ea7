"""A composed briefing as data: its entries (titles, outlets, summaries, ids) and wording.

Pure: ``bot.render`` turns a :class:`ComposedBriefing` into Telegram HTML or plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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
    """

    story_id: int
    article_id: int
    title: str
    outlet: str | None
    also_in: tuple[str, ...]
    summary: tuple[str, ...]
    sort_time: datetime
    reports: int = 1


Sections = Sequence[tuple[str, Sequence[BriefingEntry]]]


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
    """A composed briefing, ready for the bot to render and store.

    Attributes:
        opening: e.g. "5 stories in AI, World and Business since yesterday", or the one
            friendly line of an empty briefing.
        sections: (section label, entries) in display order.
        story_ids: the stories it holds, in display order.
        empty: nothing new in the window.
        since: start of the window.
        hint: a closing line (e.g. how to subscribe), may be empty.
    """

    opening: str
    sections: list[tuple[str, list[BriefingEntry]]]
    story_ids: list[int]
    empty: bool
    since: datetime
    hint: str = ""
