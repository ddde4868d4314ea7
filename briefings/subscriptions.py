"""Subscription services: topics, keyword follows, briefing time and time zone of a chat.

No Telegram here: handlers (and the terminal) call these with a session they opened.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy.orm import Session

from briefings.browse import find_topic
from briefings.digest.schedule import time_of_day
from briefings.errors import InvalidSetting
from briefings.topics.taxonomy import Taxonomy, Topic
from storage import chats
from storage.models import Chat

MAX_FOLLOW_WORDS = 10
MAX_FOLLOWS = 20
MAX_WORD = 40
MAX_FOLLOW_KEY = 200  # the stored key column holds 300 characters
_WORD = re.compile(r"\w+(?:['’]\w+)*")


@dataclass(frozen=True)
class FollowQuery:
    """A keyword follow: every ``include`` word must occur, no ``exclude`` word may."""

    include: tuple[str, ...]
    exclude: tuple[str, ...]

    @property
    def key(self) -> str:
        """The normalised form stored as the subscription key ("chips tariffs -sports")."""
        return " ".join([*self.include, *(f"-{word}" for word in self.exclude)])

    def matches(self, text: str) -> bool:
        """True when ``text`` holds every included word and no excluded one (whole words).

        Args:
            text: an article's title and body (any case).
        """
        words = set(re.findall(r"\w+", text.casefold()))

        def has(term: str) -> bool:
            parts = re.findall(r"\w+", term)
            return bool(parts) and all(part in words for part in parts)

        return all(has(w) for w in self.include) and not any(has(w) for w in self.exclude)


def parse_follow(text: str) -> FollowQuery:
    """Parse "/follow" keywords: words, ``-word`` exclusions; case-insensitive, deduplicated.

    Args:
        text: the user's keywords, e.g. ``"chips tariffs -sports"``.

    Raises:
        InvalidSetting: no positive word, or too many / too long words.
    """
    include: list[str] = []
    exclude: list[str] = []
    for token in text.casefold().split():
        negative = token.startswith("-")
        word = "-".join(_WORD.findall(token))  # "covid-19" stays, "<b>&amp;" -> "b-amp"
        if not word:
            continue
        if len(word) > MAX_WORD:
            raise InvalidSetting(f"words can be at most {MAX_WORD} characters long")
        target = exclude if negative else include
        if word not in target:
            target.append(word)
    if not include:
        raise InvalidSetting("give at least one word to look for (words with - only exclude)")
    if len(include) + len(exclude) > MAX_FOLLOW_WORDS:
        raise InvalidSetting(f"use at most {MAX_FOLLOW_WORDS} words")
    query = FollowQuery(tuple(include), tuple(exclude))
    if len(query.key) > MAX_FOLLOW_KEY:
        raise InvalidSetting(f"keep it under {MAX_FOLLOW_KEY} characters")
    return query


def parse_time(text: str) -> str:
    """Normalise a 24-hour time ("7:30", "07.30", "0730") to "HH:MM".

    Raises:
        InvalidSetting: not a valid time of day.
    """
    parsed = time_of_day(text, lenient=True)
    if parsed is None:
        raise InvalidSetting("use a 24-hour time like 07:30")
    return f"{parsed:%H:%M}"


_NOT_ZONES = frozenset({"localtime", "posixrules", "factory"})  # system aliases, not places


@cache
def _zones() -> dict[str, str]:
    names = available_timezones()
    return {name.casefold(): name for name in names if name.casefold() not in _NOT_ZONES}


def parse_timezone(text: str) -> str:
    """Return the canonical IANA name for ``text`` ("europe/berlin", or a unique "Berlin").

    Raises:
        InvalidSetting: unknown zone; the message suggests close names.
    """
    wanted = text.strip().replace(" ", "_")
    zones = _zones()
    name = zones.get(wanted.casefold())
    if name is None and "/" not in wanted and wanted:
        suffix = "/" + wanted.casefold()
        found = [full for key, full in zones.items() if key.endswith(suffix)]
        if len(found) == 1:
            name = found[0]
    if name is None:
        close = difflib.get_close_matches(wanted, sorted(zones.values()), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise InvalidSetting(f"unknown time zone (use Area/City, e.g. Europe/Berlin).{hint}")
    ZoneInfo(name)  # available_timezones() lists loadable zones only
    return name


def resolve_topics(taxonomy: Taxonomy, text: str) -> tuple[list[Topic], list[str]]:
    """Find the topics named in ``text`` (one name, comma-separated, or space-separated).

    Args:
        taxonomy: the topics that exist.
        text: the user's argument ("ai", "Climate & Energy", "ai, china", "ai china").

    Returns:
        The topics found (no repeats) and the names that matched none.
    """
    whole = find_topic(taxonomy, text)
    if whole is not None:
        return [whole], []
    names = text.split(",") if "," in text else text.split()
    found: list[Topic] = []
    unknown: list[str] = []
    for name in (n.strip() for n in names):
        if not name:
            continue
        topic = find_topic(taxonomy, name)
        if topic is None:
            unknown.append(name)
        elif topic not in found:
            found.append(topic)
    return found, unknown


@dataclass(frozen=True)
class Preferences:
    """What a chat receives and when (defaults applied where the chat set nothing)."""

    topics: list[Topic]
    stale_topics: list[str]  # subscribed slugs no longer in the taxonomy
    follows: list[tuple[int, str]]  # (subscription id, key)
    briefing_time: str
    timezone: str
    time_is_default: bool
    timezone_is_default: bool


def preferences(
    session: Session, taxonomy: Taxonomy, chat_id: int, *, default_time: str, default_timezone: str
) -> Preferences:
    """Return a chat's topics, follows, briefing time and time zone.

    Args:
        session: an open session.
        taxonomy: to turn slugs into topics.
        chat_id: the chat.
        default_time: the briefing time of chats that set none ("08:00").
        default_timezone: the time zone of chats that set none ("UTC").
    """
    chat = chats.chat(session, chat_id)
    topics: list[Topic] = []
    stale: list[str] = []
    for sub in chats.subscriptions(session, chat_id, chats.TOPIC):
        topic = taxonomy.get(sub.key)
        if topic is None:
            stale.append(sub.key)
        else:
            topics.append(topic)
    follows = [(sub.id, sub.key) for sub in chats.subscriptions(session, chat_id, chats.FOLLOW)]
    time_ = chat.briefing_time if chat else None
    zone = chat.timezone if chat else None
    return Preferences(
        topics=topics,
        stale_topics=stale,
        follows=follows,
        briefing_time=time_ or default_time,
        timezone=zone or default_timezone,
        time_is_default=not time_,
        timezone_is_default=not zone,
    )


def subscribed_slugs(session: Session, chat_id: int) -> set[str]:
    """Return the topic slugs a chat is subscribed to."""
    return {sub.key for sub in chats.subscriptions(session, chat_id, chats.TOPIC)}


def subscribe(
    session: Session, chat_id: int, topics: list[Topic]
) -> tuple[list[Topic], list[Topic]]:
    """Subscribe a chat to topics; return (newly added, already subscribed).

    Args:
        session: the caller's transaction; the chat row must exist (``chats.ensure_chat``).
        chat_id: the chat.
        topics: topics to add.
    """
    added: list[Topic] = []
    already: list[Topic] = []
    for topic in topics:
        new = chats.add_subscription(session, chat_id, chats.TOPIC, topic.slug)
        (added if new else already).append(topic)
    return added, already


def unsubscribe(
    session: Session, chat_id: int, topics: list[Topic] | None
) -> tuple[int, list[Topic]]:
    """Unsubscribe a chat from ``topics`` (all topics when None).

    Args:
        session: the caller's transaction.
        chat_id: the chat.
        topics: topics to remove, or None for every topic subscription.

    Returns:
        How many subscriptions were removed, and the given topics it was not subscribed to.
    """
    if topics is None:
        return chats.remove_subscriptions(session, chat_id, chats.TOPIC), []
    current = subscribed_slugs(session, chat_id)
    absent = [topic for topic in topics if topic.slug not in current]
    slugs = [topic.slug for topic in topics if topic.slug in current]
    removed = chats.remove_subscriptions(session, chat_id, chats.TOPIC, slugs) if slugs else 0
    return removed, absent


def toggle_topic(session: Session, chat_id: int, slug: str) -> bool:
    """Subscribe to ``slug`` if not subscribed, else unsubscribe; return the new state.

    Args:
        session: the caller's transaction; the chat row must exist.
        chat_id: the chat.
        slug: a topic slug.
    """
    if chats.add_subscription(session, chat_id, chats.TOPIC, slug):
        return True
    chats.remove_subscriptions(session, chat_id, chats.TOPIC, [slug])
    return False


def set_briefing_time(session: Session, chat_id: int, text: str) -> str:
    """Validate and store a chat's local briefing time; return it as "HH:MM".

    Args:
        session: the caller's transaction; the chat row must exist.
        chat_id: the chat.
        text: the user's time ("7:30").

    Raises:
        InvalidSetting: not a valid time.
    """
    value = parse_time(text)
    _chat(session, chat_id).briefing_time = value
    return value


def set_timezone(session: Session, chat_id: int, text: str) -> str:
    """Validate and store a chat's time zone; return its canonical IANA name.

    Args:
        session: the caller's transaction; the chat row must exist.
        chat_id: the chat.
        text: the user's zone ("Europe/Berlin", "europe/berlin", "Berlin").

    Raises:
        InvalidSetting: unknown time zone.
    """
    name = parse_timezone(text)
    _chat(session, chat_id).timezone = name
    return name


def follow(session: Session, chat_id: int, text: str) -> tuple[FollowQuery, bool]:
    """Add a keyword follow; return it and whether it is new.

    Args:
        session: the caller's transaction; the chat row must exist.
        chat_id: the chat.
        text: keywords with optional ``-word`` exclusions.

    Raises:
        InvalidSetting: malformed keywords, or the chat already has too many follows.
    """
    query = parse_follow(text)
    existing = chats.subscriptions(session, chat_id, chats.FOLLOW)
    if len(existing) >= MAX_FOLLOWS and all(sub.key != query.key for sub in existing):
        raise InvalidSetting(f"you can follow at most {MAX_FOLLOWS} keyword sets; /unfollow some")
    return query, chats.add_subscription(session, chat_id, chats.FOLLOW, query.key)


def unfollow(session: Session, chat_id: int, text: str | None) -> int:
    """Remove the follow matching ``text`` (normalised like :func:`parse_follow`), or all.

    Args:
        session: the caller's transaction.
        chat_id: the chat.
        text: the keywords of a follow, or None for every follow.

    Returns:
        How many follows were removed (0 when none matched).
    """
    if text is None:
        return chats.remove_subscriptions(session, chat_id, chats.FOLLOW)
    try:
        key = parse_follow(text).key
    except InvalidSetting:
        return 0
    return chats.remove_subscriptions(session, chat_id, chats.FOLLOW, [key])


def unfollow_id(session: Session, chat_id: int, subscription_id: int) -> str | None:
    """Remove one follow by its id (buttons); return its key, or None if it is gone.

    Args:
        session: the caller's transaction.
        chat_id: the chat (a chat can only remove its own follows).
        subscription_id: the follow's subscription id.
    """
    for sub in chats.subscriptions(session, chat_id, chats.FOLLOW):
        if sub.id == subscription_id:
            chats.delete_subscription(session, sub)
            return sub.key
    return None


def _chat(session: Session, chat_id: int) -> Chat:
    return chats.ensure_chat(session, chat_id)
