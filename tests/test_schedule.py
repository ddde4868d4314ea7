"""Due-time computation: local times across zones and DST, catch-up policy, quiet hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from briefings.digest.schedule import (
    QuietHours,
    ScheduleError,
    decide,
    latest_slot,
    next_slot,
    parse_quiet_hours,
    parse_time,
    slot_on,
    zone,
)

LONDON = ZoneInfo("Europe/London")
EIGHT = time(8, 0)
GRACE = timedelta(hours=2)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 28), utc(2026, 3, 28, 8, 0)),  # Saturday before the change: GMT
        (date(2026, 3, 29), utc(2026, 3, 29, 7, 0)),  # clocks went forward at 01:00: BST
        (date(2026, 10, 24), utc(2026, 10, 24, 7, 0)),  # still BST
        (date(2026, 10, 25), utc(2026, 10, 25, 8, 0)),  # back to GMT
    ],
)
def test_london_0800_is_0800_local_on_both_sides_of_the_change(
    day: date, expected: datetime
) -> None:
    slot = slot_on(day, EIGHT, LONDON)
    assert slot == expected
    assert slot.astimezone(LONDON).time() == EIGHT


def test_next_slot_crosses_the_spring_change() -> None:
    now = utc(2026, 3, 28, 8, 30)  # Saturday, after that day's briefing
    assert next_slot(now, EIGHT, LONDON) == utc(2026, 3, 29, 7, 0)
    assert latest_slot(now, EIGHT, LONDON) == utc(2026, 3, 28, 8, 0)
    assert latest_slot(utc(2026, 3, 29, 7, 0), EIGHT, LONDON) == utc(2026, 3, 29, 7, 0)
    assert latest_slot(utc(2026, 3, 29, 6, 59), EIGHT, LONDON) == utc(2026, 3, 28, 8, 0)


@pytest.mark.parametrize(
    ("zone_name", "now", "expected"),
    [
        ("Asia/Tokyo", utc(2026, 6, 1, 0, 0), utc(2026, 6, 1, 23, 0)),  # 08:00 JST = 23:00 UTC
        ("America/New_York", utc(2026, 6, 1, 0, 0), utc(2026, 6, 1, 12, 0)),  # EDT
        ("America/New_York", utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 13, 0)),  # EST
        ("Asia/Kolkata", utc(2026, 6, 1, 0, 0), utc(2026, 6, 1, 2, 30)),  # half-hour offset
        ("Pacific/Kiritimati", utc(2026, 6, 1, 0, 0), utc(2026, 6, 1, 18, 0)),  # UTC+14
    ],
)
def test_next_slot_in_other_zones(zone_name: str, now: datetime, expected: datetime) -> None:
    assert next_slot(now, EIGHT, ZoneInfo(zone_name)) == expected


def test_a_time_in_the_spring_gap_moves_forward_and_an_ambiguous_one_is_the_first() -> None:
    new_york = ZoneInfo("America/New_York")
    gap = slot_on(date(2026, 3, 8), time(2, 30), new_york)  # 02:00 -> 03:00 that night
    assert gap == utc(2026, 3, 8, 7, 30)
    assert gap.astimezone(new_york).time() == time(3, 30)
    ambiguous = slot_on(date(2026, 11, 1), time(1, 30), new_york)  # 01:00-02:00 twice
    assert ambiguous == utc(2026, 11, 1, 5, 30)  # the first (EDT) one


def test_on_time_run_sends_the_slot_once_then_nothing() -> None:
    baseline = utc(2026, 5, 1, 12, 0)  # subscribed at noon
    now = utc(2026, 5, 2, 8, 0) + timedelta(seconds=30)
    first = decide(now, at=EIGHT, tz=LONDON, baseline=baseline, grace=GRACE)
    assert first.due == utc(2026, 5, 2, 7, 0) and first.skipped == ()
    # once that slot is recorded (baseline moves to it), the next minute has nothing due
    again = decide(now + timedelta(minutes=1), at=EIGHT, tz=LONDON, baseline=first.due, grace=GRACE)
    assert again.due is None and again.skipped == ()


def test_a_slot_before_the_subscription_is_not_due() -> None:
    now = utc(2026, 5, 2, 9, 0)
    decision = decide(now, at=EIGHT, tz=LONDON, baseline=utc(2026, 5, 2, 8, 30), grace=GRACE)
    assert decision == type(decision)()


def test_catch_up_after_downtime_sends_only_the_latest_within_grace() -> None:
    last_sent = utc(2026, 5, 1, 7, 0)
    now = utc(2026, 5, 4, 8, 15)  # down for three days; today's slot was 07:00 UTC
    decision = decide(now, at=EIGHT, tz=LONDON, baseline=last_sent, grace=GRACE)
    assert decision.due == utc(2026, 5, 4, 7, 0)
    assert decision.skipped == (utc(2026, 5, 2, 7, 0), utc(2026, 5, 3, 7, 0))


def test_catch_up_past_grace_skips_everything() -> None:
    last_sent = utc(2026, 5, 1, 7, 0)
    now = utc(2026, 5, 2, 12, 0)  # five hours late
    decision = decide(now, at=EIGHT, tz=LONDON, baseline=last_sent, grace=GRACE)
    assert decision.due is None
    assert decision.skipped == (utc(2026, 5, 2, 7, 0),)


def test_a_long_outage_records_a_bounded_number_of_skipped_slots() -> None:
    decision = decide(
        utc(2026, 6, 30, 7, 30), at=EIGHT, tz=LONDON, baseline=utc(2026, 1, 1), grace=GRACE,
        max_skipped=5,
    )  # fmt: skip
    assert decision.due == utc(2026, 6, 30, 7, 0)
    assert len(decision.skipped) == 5
    assert decision.skipped[-1] == utc(2026, 6, 29, 7, 0)


def test_quiet_hours_hold_a_late_slot_until_they_end() -> None:
    quiet = QuietHours(time(22, 0), time(7, 0))
    tokyo = ZoneInfo("Asia/Tokyo")
    at = time(21, 30)  # 12:30 UTC
    baseline = utc(2026, 5, 1)
    late = utc(2026, 5, 1, 13, 10)  # 22:10 local: quiet
    held = decide(late, at=at, tz=tokyo, baseline=baseline, grace=GRACE, quiet=quiet)
    assert held.due is None and held.waiting == utc(2026, 5, 1, 12, 30)
    on_time = utc(2026, 5, 1, 12, 31)
    assert decide(on_time, at=at, tz=tokyo, baseline=baseline, grace=GRACE, quiet=quiet).due
    # a time the user put inside the quiet hours is their choice: it is sent
    night = time(23, 0)
    chosen = decide(
        utc(2026, 5, 1, 14, 1), at=night, tz=tokyo, baseline=baseline, grace=GRACE, quiet=quiet
    )
    assert chosen.due == utc(2026, 5, 1, 14, 0)


def test_quiet_hours_release_a_held_slot_within_grace_else_skip_it() -> None:
    quiet = QuietHours(time(9, 0), time(10, 0))  # a daytime window, London
    baseline = utc(2026, 1, 10)
    slot = utc(2026, 1, 12, 8, 0)
    held = decide(utc(2026, 1, 12, 9, 5), at=EIGHT, tz=LONDON, baseline=baseline, grace=GRACE,
                  quiet=quiet)  # fmt: skip
    assert held.waiting == slot
    released = decide(utc(2026, 1, 12, 10, 0), at=EIGHT, tz=LONDON, baseline=baseline,
                      grace=GRACE, quiet=quiet)  # fmt: skip
    assert released.due == slot
    short = decide(utc(2026, 1, 12, 10, 0), at=EIGHT, tz=LONDON, baseline=baseline,
                   grace=timedelta(minutes=90), quiet=quiet)  # fmt: skip
    assert short.due is None and slot in short.skipped


@pytest.mark.parametrize("bad", ["8", "24:00", "08:60", "noon", ""])
def test_parse_time_rejects_malformed(bad: str) -> None:
    with pytest.raises(ScheduleError):
        parse_time(bad)


def test_parsers() -> None:
    assert parse_time("7:05") == time(7, 5)
    assert parse_quiet_hours("22:00-07:00") == QuietHours(time(22), time(7))
    assert parse_quiet_hours(None) is None and parse_quiet_hours(" ") is None
    for bad in ("22:00", "22:00-22:00", "a-b"):
        with pytest.raises(ScheduleError):
            parse_quiet_hours(bad)
    with pytest.raises(ScheduleError):
        zone("Mars/Olympus")
    assert QuietHours(time(22), time(7)).contains(time(23, 59))
    assert QuietHours(time(22), time(7)).contains(time(0, 0))
    assert not QuietHours(time(22), time(7)).contains(time(7, 0))
