"""Metadata found in the lines around a story: publication time, byline, outlet, dateline.

Never invents anything: a relative time ("an hour ago") is only resolved against a known
file time, and an absolute date without a year or with an unparsable form gives ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from briefings.text.normalise import LineInfo

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}
_MONTH = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MDY = re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})", re.I)
_DMY = re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})", re.I)
_ISO = re.compile(r"(?P<year>\d{4})-(?P<m>\d{2})-(?P<day>\d{2})(?:[T ](?P<h>\d{2}):(?P<mi>\d{2}))?")
_CLOCK = re.compile(
    r"\b(?P<h>\d{1,2})[:.](?P<mi>\d{2})\s*(?P<ap>[ap]\.?m\.?)?(?:\s*(?P<tz>[A-Z]{2,4})\b)?", re.I
)
_RELATIVE = re.compile(
    r"(?P<n>\d+|an?|one)\s*(?P<unit>min(?:ute)?s?|hours?|hrs?|days?|weeks?)\s+ago", re.I
)
_TZ: dict[str, tzinfo] = {
    "UTC": UTC,
    "GMT": UTC,
    "BST": timezone(timedelta(hours=1)),
    "EST": timezone(timedelta(hours=-5)),
    "EDT": timezone(timedelta(hours=-4)),
    "CST": timezone(timedelta(hours=-6)),
    "CDT": timezone(timedelta(hours=-5)),
    "MST": timezone(timedelta(hours=-7)),
    "MDT": timezone(timedelta(hours=-6)),
    "PST": timezone(timedelta(hours=-8)),
    "PDT": timezone(timedelta(hours=-7)),
    "IST": timezone(timedelta(hours=5, minutes=30)),
    "CET": timezone(timedelta(hours=1)),
    "CEST": timezone(timedelta(hours=2)),
}
_ET = {"ET": ("EST", "EDT"), "PT": ("PST", "PDT"), "CT": ("CST", "CDT")}
_UNIT = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def as_utc(when: datetime | None) -> datetime | None:
    """Return ``when`` as an aware UTC datetime; a zone-less one is read as UTC.

    Every reader's dates pass through here (see :func:`briefings.text.read.parse_document`),
    so the store only ever sees aware UTC times. A date without a time was parsed as
    midnight, so it keeps its day.

    Args:
        when: a parsed publication time, naive or aware, or ``None``.
    """
    if when is None:
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def parse_time(text: str, *, file_time: datetime | None = None) -> datetime | None:
    """Parse a publication time from a short line.

    Args:
        text: e.g. "Nov. 19, 2019 8:03 am ET", "timean hour ago", "2019-11-19T08:03".
        file_time: when the dump was saved; relative times resolve against it only.

    Returns:
        A datetime (aware when a zone is given or ``file_time`` is aware), or ``None``.
    """
    rel = _RELATIVE.search(text)
    if rel:
        if file_time is None:
            return None
        n_text = rel["n"].lower()
        n = int(n_text) if n_text.isdigit() else 1
        unit = _UNIT[rel["unit"][0].lower()]
        return file_time - timedelta(**{unit: n})
    m = _MDY.search(text) or _DMY.search(text)
    if m:
        year, month, day = int(m["year"]), _MONTHS[m["mon"].lower().rstrip(".")], int(m["day"])
    else:
        m = _ISO.search(text)
        if not m:
            return None
        year, month, day = int(m["year"]), int(m["m"]), int(m["day"])
    hour = minute = 0
    tz: tzinfo | None = None
    clock = _CLOCK.search(text[: m.start()] + " " + text[m.end() :])
    if clock and int(clock["h"]) < 24 and int(clock["mi"]) < 60:
        hour, minute = int(clock["h"]), int(clock["mi"])
        ap = (clock["ap"] or "").lower()
        if ap.startswith("p") and hour < 12:
            hour += 12
        elif ap.startswith("a") and hour == 12:
            hour = 0
        zone = (clock["tz"] or "").upper()
        if zone in _ET:
            zone = _ET[zone][1] if 3 < month < 11 else _ET[zone][0]
        tz = _TZ.get(zone)
    try:
        return datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        return None


_BY = re.compile(r"^(?:by|written by|words by)\s*:?\s+(?P<name>.+)$", re.I)
_NAME = re.compile(
    r"^[A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|da|di|la|le|bin|al))"
    r"{1,4}(?:\s*(?:,|and|&)\s*[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]*){1,4})*$"
)


def find_byline(infos: Sequence[LineInfo]) -> tuple[str | None, int | None]:
    """Find "By Jane Doe" (or "By" followed by a name line) among header lines.

    Returns:
        ``(byline, index of the line holding the name)`` or ``(None, None)``.
    """
    for i, info in enumerate(infos):
        m = _BY.match(info.text)
        if m and _NAME.match(m["name"].split(" | ")[0].strip()):
            return m["name"].split(" | ")[0].strip().rstrip(","), i
        if info.key == "by" and i + 1 < len(infos) and _NAME.match(infos[i + 1].text):
            return infos[i + 1].text, i + 1
    return None, None


_BULLET = re.compile(r"^[•·*\-–|]\s*")


def find_source(infos: Sequence[LineInfo], title_key: str | None) -> str | None:
    """Outlet name: a short title-case line repeated in the header (e.g. "Time of India").

    Args:
        infos: header lines between the title and the body.
        title_key: key of the title (never the source).
    """
    seen: dict[str, str] = {}
    for info in infos:
        text = _BULLET.sub("", info.text).strip()
        if not 1 <= info.words <= 5 or info.terminal or any(c.isdigit() for c in text):
            continue
        if info.key == title_key or info.caps < 0.5 or info.label:
            continue
        key = info.key
        if key in seen:
            return seen[key] if len(seen[key]) <= len(text) else text
        seen[key] = text
    return None


_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Za-z.'’ -]{1,30}?(?:,\s*[A-Z][A-Za-z. ]{1,20})?)"
    r"\s*(?P<agency>\([A-Za-z .]{1,20}\))?\s*[—–-]{1,2}\s+\S"
)


def find_dateline(first_paragraph: str) -> str | None:
    """Dateline at the start of the body ("MADRID — ...", "Dekalb, Ill. — ...")."""
    m = _DATELINE.match(first_paragraph)
    if not m:
        return None
    place = m["place"].strip()
    words = place.split()
    if len(words) > 5 or not all(w[0].isupper() for w in words if w[0].isalpha()):
        return None
    if not (place.isupper() or "," in place or m["agency"]):
        return None
    return place


# An outlet's name: up to five capitalised words ("Sky News", "The Economic Times", "Daily8").
_OUTLET = r"(?P<name>[A-Z][\w'’&-]*(?:\s+(?:of|and|&|on|[A-Z][\w'’&-]*)){0,4}?)"
_OUTLET_GREEDY = _OUTLET.removesuffix("?)") + ")"
# Where a page names its own outlet, most site-wide first: its cross-links, its copyright
# line, its app and its messenger channels.
_OUTLET_CUES = (
    re.compile(r"\b(?:[Rr]ead|[Mm]ore|[Ww]atch) (?:more )?from " + _OUTLET + r"\s*:"),
    re.compile(
        r"(?:©|\([cC]\)|\b[Cc]opyright)\s*(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*,?\s*)?" + _OUTLET_GREEDY
    ),
    re.compile(r"\b(?:[Dd]ownload|[Gg]et) (?:the )?" + _OUTLET + r"\s+app\b"),
    re.compile(
        _OUTLET + r"\s+(?:WhatsApp|Telegram|YouTube|Google News|Instagram) (?:channel|page)\b"
    ),
)
_CUE_HINT = re.compile(r"from |©|opyright|\([cC]\)| app| channel| page")
_NOT_OUTLET = frozenset(("all rights reserved", "the", "our", "all", "app", "the app"))


def outlet_mentions(lines: Sequence[str]) -> list[tuple[int, str]]:
    """Outlet names a page's own text gives, with the rank of the cue that gave them.

    Args:
        lines: the lines of (part of) a dump, e.g. "Read more from Sky News:",
            "© 2025 Reuters", "Download Daily8 app today", "Economic Times WhatsApp channel".

    Returns:
        ``(rank, name)`` pairs in text order; rank 0 is the most site-wide cue.
    """
    out = []
    for line in lines:
        if _CUE_HINT.search(line) is None:
            continue  # one cheap test keeps the four cues off almost every line
        for rank, cue in enumerate(_OUTLET_CUES):
            for m in cue.finditer(line):
                name = m["name"].strip(" -–&")
                if 2 <= len(name) <= 60 and name.casefold() not in _NOT_OUTLET:
                    out.append((rank, name))
    return out


def page_outlet(mentions: Sequence[tuple[int, str]]) -> str | None:
    """The outlet a page names most site-wide (lowest rank; then most often; then first)."""
    if not mentions:
        return None
    counts: dict[str, int] = {}
    for _, name in mentions:
        counts[name] = counts.get(name, 0) + 1
    best = min(enumerate(mentions), key=lambda im: (im[1][0], -counts[im[1][1]], im[0]))
    return best[1][1]
