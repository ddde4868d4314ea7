"""A briefing as data: whom it is for, what it holds (titles, outlets, summaries, ids).

Also its wording (the "since …" phrase), loading subscribers from the store and finding
today's stored briefing; ``bot.render`` turns a :class:`ComposedBriefing` into Telegram
HTML or plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from briefings.digest.schedule import zone_or_none
from storage import briefings as stored
from storage.models import Briefing


@dataclass(frozen=True)
class Subscriber:
    """What a briefing is composed for.

    Attributes:
        chat_id: the chat (0 is the terminal).
        topics: subscribed topic slugs; empty means "latest across all topics".
        follows: keyword follow queries ("chips tariffs -sports").
        timezone: IANA zone for the wording of the opening line.
        last_briefing: when the chat's previous briefing was composed, if ever.
    """

    chat_id: int
    topics: tuple[str, ...] = ()
    follows: tuple[str, ...] = ()
    timezone: str = "UTC"
    last_briefing: datetime | None = None

    @property
    def personal(self) -> bool:
        """True when the chat subscribed to anything."""
        return bool(self.topics or self.follows)

    @property
    def subscriptions(self) -> tuple[str, ...]:
        """Its subscriptions as one comparable key: ("topic:ai", "follow:chips")."""
        return tuple(f"topic:{t}" for t in self.topics) + tuple(f"follow:{q}" for q in self.follows)


def follow_terms(query: str) -> tuple[str, list[str]]:
    """Split a follow query into its words to match and the words it excludes (``-word``)."""
    words = query.split()
    include = " ".join(w for w in words if not w.startswith("-"))
    return include, [w.lstrip("-") for w in words if w.startswith("-") and len(w) > 1]


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


def local_zone(name: str | None) -> ZoneInfo:
    return zone_or_none(name or "UTC") or ZoneInfo("UTC")


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
        hint: a closing line for chats (e.g. how to subscribe), may be empty.
        subscriptions: the subscriptions it was composed for (``Subscriber.subscriptions``).
        section_keys: each section's key, parallel to ``sections``: a topic slug,
            "follow:<query>" or "other" (untagged news) (forum routes split on it).
    """

    opening: str
    sections: list[tuple[str, list[BriefingEntry]]]
    story_ids: list[int]
    empty: bool
    since: datetime
    hint: str = ""
    subscriptions: tuple[str, ...] = ()
    section_keys: list[str] = field(default_factory=list)


def load_subscribers(
    session: Session, chat_ids: Iterable[int], *, default_timezone: str = "UTC"
) -> dict[int, Subscriber]:
    """Load chats' subscriptions, time zones and previous briefing times in a few queries.

    Args:
        session: an open session.
        chat_ids: the chats (unknown ids get a subscriber without subscriptions).
        default_timezone: zone of chats that set none.
    """
    return {
        cid: Subscriber(
            cid,
            tuple(sorted(set(state.topics))),
            tuple(sorted(set(state.follows))),
            state.timezone or default_timezone,
            state.last_briefing,
        )
        for cid, state in stored.chat_briefing_states(session, chat_ids).items()
    }


def todays_briefing(
    session: Session, chat_id: int, *, now: datetime, timezone: str = "UTC"
) -> Briefing | None:
    """Return the chat's newest non-empty briefing composed today (in its time zone).

    Args:
        session: an open session.
        chat_id: the chat.
        now: the current time.
        timezone: the chat's IANA zone (local midnight starts "today").
    """
    local = now.astimezone(local_zone(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return next(
        (b for b in stored.briefings_since(session, chat_id, midnight) if b.story_ids), None
    )
