"""Readers for structured inputs: HTML pages, JSON/JSONL records, RSS/Atom feeds."""

from __future__ import annotations

import calendar
import html
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from briefings.errors import BadInput
from briefings.text.article import ParsedArticle
from briefings.text.meta import find_dateline, parse_time
from briefings.text.normalise import fix_text, line_key, norm_line

_BLOCK_END = re.compile(r"(?i)<\s*(?:br\s*/?|/p|/div|/li|/h[1-6]|/blockquote|/tr)\s*>")
_TAG = re.compile(r"<[^>]{0,2000}>")
_PARA_SPLIT = re.compile(r"\n\s*\n")


def paragraphs_text(text: str) -> str:
    """Normalise a clean text to paragraphs separated by one blank line.

    Args:
        text: text whose paragraphs are separated by blank lines, or by single newlines
            when it has no blank line at all.
    """
    text = fix_text(text).strip()
    parts = _PARA_SPLIT.split(text) if "\n\n" in text else text.split("\n")
    paras = [norm_line(p.replace("\n", " ")) for p in parts]
    return "\n\n".join(p for p in paras if p)


def html_to_text(fragment: str) -> str:
    """Text of a small HTML fragment (feed summary, JSON body), paragraphs kept."""
    if "<" not in fragment and "&" not in fragment:
        return paragraphs_text(fragment)
    text = _BLOCK_END.sub("\n\n", fragment)
    text = html.unescape(_TAG.sub("", text))
    return paragraphs_text(text)


_EPOCH = re.compile(r"\d{9,10}(?:\.\d+)?|\d{12,13}")


def parse_date(value: Any, *, file_time: datetime | None = None) -> datetime | None:
    """Parse an ISO 8601, RFC 2822, epoch (seconds or milliseconds) or human date.

    Returns ``None`` when it cannot; a zone-less result is made UTC by
    :func:`briefings.text.read.parse_document`.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if _EPOCH.fullmatch(value):
        seconds = float(value) / (1000 if len(value) >= 12 and "." not in value else 1)
        return datetime.fromtimestamp(seconds, UTC)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        pass
    return parse_time(value, file_time=file_time)


def read_html(text: str) -> list[ParsedArticle]:
    """Extract the article of an HTML page with trafilatura (text plus metadata).

    Raises:
        BadInput: the page has no extractable article text.
    """
    import trafilatura  # heavy import, only needed on the HTML path

    doc = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
    )  # trafilatura's defaults: its fallback extractors on (see benchmarks/cleaning.py)
    if doc is None or isinstance(doc, dict) or not (doc.text or "").strip():
        raise BadInput("HTML page has no article text")
    title = norm_line(fix_text(doc.title or ""))
    lines = [norm_line(x) for x in fix_text(doc.text or "").split("\n")]
    lines = [x for x in lines if x]
    if lines and title and line_key(lines[0]) == line_key(title):
        lines = lines[1:]
    if sum(len(x.split()) for x in lines) < 10:
        raise BadInput("HTML page has no article text")
    body = "\n\n".join(lines)
    return [
        ParsedArticle(
            title=title or lines[0][:140],
            body=body,
            source=doc.sitename or None,
            byline=doc.author or None,
            published=parse_date(doc.date),
            dateline=find_dateline(lines[0]),
            url=doc.url or None,
        )
    ]


def _record(obj: Any, *, file_time: datetime | None) -> ParsedArticle | None:
    if not isinstance(obj, dict):
        return None
    raw = next((obj[k] for k in ("text", "body", "content", "article") if obj.get(k)), "")
    if not isinstance(raw, str):
        return None
    body = html_to_text(raw)
    title = norm_line(fix_text(str(obj.get("title") or obj.get("headline") or "")))
    if not body:
        return None
    if not title:
        title = body.split("\n", 1)[0][:140]
    source = obj.get("source") or obj.get("outlet") or obj.get("site")
    if isinstance(source, dict):
        source = source.get("name") or source.get("title")
    author = obj.get("author") or obj.get("byline")
    published = obj.get("published") or obj.get("date") or obj.get("published_at")
    return ParsedArticle(
        title=title,
        body=body,
        source=str(source) if source else None,
        byline=str(author) if author and not isinstance(author, dict | list) else None,
        published=parse_date(published, file_time=file_time),
        dateline=find_dateline(body),
        url=str(obj["url"]) if obj.get("url") else None,
    )


def _records(objs: Iterable[Any], *, file_time: datetime | None) -> list[ParsedArticle]:
    out = []
    for obj in objs:
        art = _record(obj, file_time=file_time)
        if art is not None:
            out.append(art)
    if not out:
        raise BadInput("JSON has no article with a title and text")
    return out


def read_json(text: str, *, lines: bool, file_time: datetime | None) -> list[ParsedArticle]:
    """Articles from JSON (one object, a list, or ``{"articles": [...]}``) or JSON Lines.

    Raises:
        BadInput: malformed JSON (with the line number) or no usable record.
    """
    if lines:
        objs = []
        for n, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                objs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise BadInput(f"invalid JSON on line {n}: {exc.msg}") from None
        return _records(objs, file_time=file_time)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"invalid JSON on line {exc.lineno}: {exc.msg}") from None
    if isinstance(data, dict):
        inner = next(
            (
                data[k]
                for k in ("articles", "items", "entries", "data")
                if isinstance(data.get(k), list)
            ),
            None,
        )
        data = inner if inner is not None else [data]
    if not isinstance(data, list):
        raise BadInput("JSON is neither an article object nor a list of articles")
    return _records(data, file_time=file_time)


def read_feed(data: bytes) -> list[ParsedArticle]:
    """Articles from an RSS/Atom feed: one per item, its content (or summary) as text.

    Raises:
        BadInput: not a feed, or a feed without items.
    """
    import feedparser

    feed = feedparser.parse(data)
    if not feed.entries:
        if feed.bozo and not feed.feed:
            raise BadInput(f"not a valid RSS/Atom feed: {feed.bozo_exception}".split("\n")[0])
        raise BadInput("feed has no items")
    source = feed.feed.get("title") or None
    out = []
    for entry in feed.entries:
        content = entry.get("content") or []
        raw = content[0].get("value", "") if content else entry.get("summary", "")
        body = html_to_text(raw or "")
        title = norm_line(html_to_text(entry.get("title", "")).replace("\n", " "))
        if not body and not title:
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(when), UTC) if when else None
        out.append(
            ParsedArticle(
                title=title or body[:140],
                body=body or title,
                source=source,
                byline=entry.get("author") or None,
                published=published,
                dateline=find_dateline(body) if body else None,
                url=entry.get("link") or None,
            )
        )
    if not out:
        raise BadInput("feed has no items with a title or text")
    return out
