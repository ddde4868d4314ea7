"""Pure due-time computation: daily briefing slots in local time, catch-up and quiet hours.

A *slot* is the UTC instant of one daily briefing: the chat's local "HH:MM" on a given local
day in its IANA zone, so a 08:00 Europe/London briefing is 08:00 local on both sides of a
clock change (07:00 UTC in summer, 08:00 UTC in winter). Local times that do not exist (the
spring-forward gap) move forward by the gap; ambiguous ones (fall-back) take the first.

Catch-up policy (:func:`decide`): of the slots missed since the chat's last recorded slot, the
latest is sent once if it is at most ``grace`` old; every other missed slot (and the latest too
when it is older than ``grace``) is recorded as skipped, never sent, so downtime never floods a
chat with old briefings. Quiet hours hold a late (catch-up) send back until they end; a slot
whose own time the user put inside the quiet hours is sent on time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from briefings.errors import BriefingsError

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_HHMM_LENIENT = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")  # what people type: 0730, 7.30
MAX_SKIPPED = 7  # at most this many missed slots are recorded as skipped per chat and run


class ScheduleError(BriefingsError):
    """A briefing time, time zone or quiet-hours value is malformed."""


@dataclass(frozen=True)
class QuietHours:
    """A local-time window [start, end) during which late briefings are held back."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        """Whether the local wall time falls inside the window (which may wrap midnight)."""
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True)
class Decision:
    """What a delivery run does for one chat at one instant."""

    due: datetime | None = None  # the slot to send now
    skipped: tuple[datetime, ...] = ()  # missed slots to record as skipped, oldest first
    waiting: datetime | None = None  # a slot held back by quiet hours (sent once they end)


def time_of_day(value: str, *, lenient: bool = False) -> time | None:
    """The one parser of times of day: "HH:MM" (24-hour) to a time; None when malformed.

    Args:
        value: e.g. "08:00" or "7:30".
        lenient: also accept "0730", "7.30" and "7h30" (what people type).
    """
    match = (_HHMM_LENIENT if lenient else _HHMM).match(value.strip())
    return time(int(match.group(1)), int(match.group(2))) if match else None


def zone_or_none(name: str) -> ZoneInfo | None:
    """The one loader of time zones: the IANA zone ``name``, or None when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_time(value: str) -> time:
    """Parse "HH:MM" (24-hour).

    Args:
        value: the text, e.g. "08:00" or "7:30".

    Raises:
        ScheduleError: malformed.
    """
    parsed = time_of_day(value)
    if parsed is None:
        raise ScheduleError(f"briefing time must be HH:MM, got {value!r}")
    return parsed


def zone(name: str) -> ZoneInfo:
    """Return the IANA zone ``name``.

    Args:
        name: e.g. "Europe/London".

    Raises:
        ScheduleError: unknown zone.
    """
    found = zone_or_none(name)
    if found is None:
        raise ScheduleError(f"unknown time zone {name!r}")
    return found


def parse_quiet_hours(value: str | None) -> QuietHours | None:
    """Parse "HH:MM-HH:MM" (e.g. "22:00-07:00"); None or "" means no quiet hours.

    Args:
        value: the setting's text.

    Raises:
        ScheduleError: malformed, or start equals end.
    """
    if not value or not value.strip():
        return None
    parts = value.split("-")
    if len(parts) != 2:
        raise ScheduleError(f"quiet hours must be HH:MM-HH:MM, got {value!r}")
    start, end = parse_time(parts[0]), parse_time(parts[1])
    if start == end:
        raise ScheduleError(f"quiet hours must not be empty, got {value!r}")
    return QuietHours(start, end)


def slot_on(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local wall time ``at`` on local ``day`` in ``tz``.

    Args:
        day: the local calendar day.
        at: the local wall time.
        tz: the chat's zone.
    """
    # fold=0 (PEP 495): an ambiguous wall time is its first occurrence; a non-existent one
    # (DST gap) is read with the pre-gap offset, i.e. it lands the gap's length later
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def latest_slot(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The most recent slot at or before ``now`` (aware).

    Args:
        now: the current instant (aware).
        at: the chat's local briefing time.
        tz: the chat's zone.
    """
    today = now.astimezone(tz).date()
    slot = slot_on(today, at, tz)
    if slot > now:
        slot = slot_on(today - timedelta(days=1), at, tz)
    return slot


def next_slot(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The first slot strictly after ``now`` (aware).

    Args:
        now: the current instant (aware).
        at: the chat's local briefing time.
        tz: the chat's zone.
    """
    today = now.astimezone(tz).date()
    for offset in range(3):
        slot = slot_on(today + timedelta(days=offset), at, tz)
        if slot > now:
            return slot
    raise AssertionError("unreachable: a slot exists every local day")  # pragma: no cover


def decide(
    now: datetime,
    *,
    at: time,
    tz: ZoneInfo,
    baseline: datetime,
    grace: timedelta,
    quiet: QuietHours | None = None,
    max_skipped: int = MAX_SKIPPED,
) -> Decision:
    """Decide which slot (if any) to send now and which missed ones to record as skipped.

    Args:
        now: the current instant (aware).
        at: the chat's local briefing time.
        tz: the chat's zone.
        baseline: slots at or before this instant are settled (the chat's newest recorded
            slot, or when it subscribed).
        grace: how late a slot may still be sent (catch-up window).
        quiet: quiet hours in the chat's local time, if any.
        max_skipped: cap on the missed slots recorded per call (a long outage records the
            most recent ones only).
    """
    missed: list[datetime] = []
    day = now.astimezone(tz).date()
    while len(missed) <= max_skipped:
        slot = slot_on(day, at, tz)
        day -= timedelta(days=1)
        if slot > now:
            continue
        if slot <= baseline:
            break
        missed.append(slot)
    if not missed:
        return Decision()
    latest, older = missed[0], missed[1:]
    skipped = tuple(reversed(older))
    if now - latest > grace:
        return Decision(skipped=(*skipped, latest))
    if quiet is not None and quiet.contains(now.astimezone(tz).time()) and not quiet.contains(at):
        return Decision(skipped=skipped, waiting=latest)
    return Decision(due=latest, skipped=skipped)
