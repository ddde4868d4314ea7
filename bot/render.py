"""Render what ``briefings`` returns (views, briefings) as Telegram HTML, or as plain text.

Every dynamic text is escaped here; every message is complete HTML of at most
:data:`~bot.format.MAX_MESSAGE` units, split only between blocks (entries, paragraphs).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
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
from briefings.browse import ArticleView, TopicsOverview
from briefings.digest.briefing import BriefingEntry, ComposedBriefing, Sections

SUMMARY_LIMIT = 900
TITLE_LIMIT = 300  # in lists; /read shows up to HEADER_TITLE_LIMIT
HEADER_TITLE_LIMIT = 1000
URL_LIMIT = 2000
PAGE_LINE_ROOM = 40  # "Page 12345 of 12345" and its blank line
OUTLETS_SHOWN = 5
ENTRY_BUDGET = 2900  # escaped briefing entry; a section header (≤ 100 characters) fits beside it
LABEL_LIMIT = 100
OPENING_LIMIT = 500


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
        also = ", ".join(shorten(name, 60) for name in view.also_in[:OUTLETS_SHOWN])
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
    title = esc(title_text(view.title, TITLE_LIMIT))
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
    header = _lines(f"<b>{esc(title_text(view.title, HEADER_TITLE_LIMIT))}</b>", outlet_line(view))
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


# ------------------------------------------------------------------ briefings
def _clip(text: str, limit: int) -> str:
    """Whitespace squashed to single spaces, then :func:`shorten`."""
    return shorten(" ".join(text.split()), limit)


def title_text(title: str, limit: int) -> str:
    """A title for display: :func:`_clip`, and "(untitled)" when nothing visible is left."""
    return _clip(title, limit) or "(untitled)"


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
        parts = [f"<b>{esc(title_text(entry.title, title_limit))}</b>"]
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
    lines = [title_text(entry.title, TITLE_LIMIT)]
    if outlet_text(entry):
        lines.append(f"  {outlet_text(entry)}")
    summary = _clip(" ".join(entry.summary), SUMMARY_LIMIT)
    if summary:
        lines.append(f"  {summary}")
    lines.append(f"  /read_{entry.article_id}")
    if entry.other_reports:
        lines.append(f"  {reports_text(entry)}")
    return "\n".join(lines)


def render_html(opening: str, sections: Sections, hint: str = "") -> list[str]:
    """A briefing as Telegram HTML messages of at most 4096 units each.

    A section header travels with its first entry, so no message ends on a bare header.
    Messages are measured on their HTML (stricter than Telegram's visible count).

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
    return pack_blocks(blocks, measure=utf16_len)


PLAIN_FOOTER = "Read a story in full: briefbot chat, then its /read_<id>."


def render_plain(opening: str, sections: Sections) -> str:
    """A briefing as plain text for the command line (no chat-only hint at the end)."""
    out = [opening]
    for label, entries in sections:
        out.append(f"== {label} ==")
        out.extend(entry_plain(entry) for entry in entries)
    if sections:
        out.append(PLAIN_FOOTER)
    return "\n\n".join(out) + "\n"


def briefing_messages(briefing: ComposedBriefing) -> list[str]:
    """A composed briefing as Telegram HTML messages (≤ 4096 units each), split between entries."""
    return render_html(briefing.opening, briefing.sections, briefing.hint)


def briefing_plain(briefing: ComposedBriefing) -> str:
    """A composed briefing as plain text (``briefbot brief``; chat hints left out)."""
    return render_plain(briefing.opening, briefing.sections)


BACKLOG_OPENING = "Here is what you missed today:"
MORE_OPENING = "More from this alert"


def alert_messages(entries: list[BriefingEntry], *, shown: int, backlog: bool) -> list[str]:
    """An alert batch (or a new subscriber's backlog): the first ``shown`` entries, then
    "…and N more" (the sender adds the button that shows the rest).

    Args:
        entries: the batch's stories in order.
        shown: how many are listed.
        backlog: open with "Here is what you missed today:" instead of the alert line.
    """
    count = len(entries)
    opening = (
        BACKLOG_OPENING
        if backlog
        else f"🔔 {count} new {'story' if count == 1 else 'stories'} for your alerts"
    )
    blocks = [f"<b>{esc(opening)}</b>"] + [entry_html(entry) for entry in entries[:shown]]
    more = count - min(shown, count)
    if more > 0:
        blocks.append(f"<i>…and {more} more</i>")
    return pack_blocks(blocks, measure=utf16_len)


def alert_more_messages(entries: list[BriefingEntry]) -> list[str]:
    """The rest of an alert batch, shown by its "more" button."""
    blocks = [f"<b>{esc(MORE_OPENING)}</b>"] + [entry_html(entry) for entry in entries]
    return pack_blocks(blocks, measure=utf16_len)
