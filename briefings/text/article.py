"""Plain data types shared by the text pipeline (no I/O, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ParsedArticle:
    """One article as the readers/splitter/cleaner produce it.

    Attributes:
        title: headline, cleaned, one line.
        body: cleaned story text; paragraphs separated by a blank line ("\\n\\n").
        source: outlet name ("Sky News", "Time of India") when the input gives it.
        byline: author(s) when given.
        published: publication time (timezone-aware when known), never invented.
        dateline: place dateline ("WASHINGTON") when given.
        url: canonical URL when given.
    """

    title: str
    body: str
    source: str | None = None
    byline: str | None = None
    published: datetime | None = None
    dateline: str | None = None
    url: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False)
