"""Render service views as Telegram HTML blocks (each block complete and ≤ 4096 units)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from bot.format import (
    MAX_MESSAGE,
    esc,
    esc_attr,
    highlight,
    pack_blocks,
    split_plain,
    utf16_len,
    visible_text,
)
from briefings.service import ArticleView, TopicsOverview

SUMMARY_LIMIT = 900
TITLE_LIMIT = 300  # in lists; /read shows up to HEADER_TITLE_LIMIT
HEADER_TITLE_LIMIT = 1000
URL_LIMIT = 2000
PAGE_LINE_ROOM = 40  # "Page 12345 of 12345" and its blank line


def when(moment: datetime | None) -> str:
    """Format a date for display ("22 Nov 2026, 08:15 UTC")."""
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def shorten(text: str, limit: int) -> str:
    """Cut plain text to at most ``limit`` characters at a space, marking the cut with "…"."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut + "…"


def outlet_line(view: ArticleView) -> str:
    """Outlet, date and "also in" line of an entry, each part only when known ("" if none)."""
    parts = [esc(shorten(view.source, 100))] if view.source else []
    if view.published:
        parts.append(esc(when(view.published)))
    if view.also_in:
        also = ", ".join(shorten(name, 60) for name in view.also_in[:5])
        parts.append(f"also in: {esc(also)}")
    return f"<i>{' · '.join(parts)}</i>" if parts else ""


def _lines(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


def entry(
    view: ArticleView,
    *,
    number: int | None = None,
    snippet: bool = False,
    summary_limit: int = SUMMARY_LIMIT,
) -> str:
    """One story entry: title, outlet(s), summary (or search snippet), read command."""
    head = f"{number}. " if number is not None else ""
    if snippet and view.snippet:
        # cutting the raw snippet may split a marker pair: highlight() rebalances it
        text = highlight(view.snippet[:summary_limit])
    else:
        text = esc(shorten(" ".join(view.summary), summary_limit))
    title = esc(shorten(view.title, TITLE_LIMIT))
    return _lines(f"<b>{head}{title}</b>", outlet_line(view), text, f"/read_{view.id}")


def page_text(
    header: str, views: list[ArticleView], *, start: int = 0, snippet: bool = False
) -> str:
    """A header and numbered entries in one message, summaries shortened until it fits."""
    text = header
    for limit in (SUMMARY_LIMIT, 400, 150, 0):
        blocks = [header] + [
            entry(view, number=start + i + 1, snippet=snippet, summary_limit=limit)
            for i, view in enumerate(views)
        ]
        text = "\n\n".join(blocks)
        if utf16_len(visible_text(text)) <= MAX_MESSAGE:
            break
    return text


def article_messages(view: ArticleView, *, limit: int = MAX_MESSAGE) -> list[str]:
    """The full article split at paragraph boundaries into messages of ≤ ``limit`` units."""
    header = _lines(f"<b>{esc(shorten(view.title, HEADER_TITLE_LIMIT))}</b>", outlet_line(view))
    if view.byline:
        header += f"\n<i>By {esc(shorten(view.byline, 200))}</i>"
    if view.url:
        header += f"\nSource: {source_link(view.url)}"
    blocks = [header]
    for paragraph in view.body.split("\n\n"):
        paragraph = paragraph.strip()
        if paragraph:
            # escaping can lengthen text ("&" -> "&amp;"): split with room to spare
            blocks.extend(esc(piece) for piece in split_plain(paragraph, limit // 2))
    return pack_blocks(blocks, limit=limit)


def article_page(pages: list[str], page: int) -> str:
    """One page of :func:`article_pages` with its "Page k of n" line."""
    return f"{pages[page]}\n\n<i>Page {page + 1} of {len(pages)}</i>"


def article_pages(view: ArticleView) -> list[str]:
    """The full article as messages with room left for :func:`article_page`'s line."""
    return article_messages(view, limit=MAX_MESSAGE - PAGE_LINE_ROOM)


def source_link(url: str) -> str:
    """An article's URL as an HTML link named by its host; plain text unless http(s)."""
    url = url.strip()[:URL_LIMIT]
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return esc(shorten(url, 200))
    return f'<a href="{esc_attr(url)}">{esc(parts.hostname)}</a>'


def topics_text(overview: TopicsOverview) -> str:
    """The /topics reply: topics with counts, then trending terms."""
    if not overview.topics:
        return "No topics yet: the store has no tagged stories. Admins can /ingest a dump."
    lines = ["<b>Topics</b> (stories today · this week)"]
    for row in overview.topics:
        lines.append(f"• {esc(row.label)}: {row.today} · {row.week}")
    if overview.trending:
        trending = ", ".join(f"{esc(term)} ({count})" for term, count in overview.trending)
        lines.append(f"\n<b>Trending</b>: {trending}")
    return "\n".join(lines)
