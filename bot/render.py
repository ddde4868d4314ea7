"""Render service views as Telegram HTML blocks (each block complete and ≤ 4096 units)."""

from __future__ import annotations

from datetime import datetime

from bot.format import MAX_MESSAGE, esc, highlight, pack_blocks, split_plain
from briefings.service import ArticleView, TopicsOverview

SUMMARY_LIMIT = 900


def when(moment: datetime | None) -> str:
    """Format a date for display ("22 Nov 2026, 08:15 UTC")."""
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def outlet_line(view: ArticleView) -> str:
    """Outlet, date and "also in" line of an entry."""
    parts = [esc(view.source or "unknown outlet")]
    if view.published:
        parts.append(esc(when(view.published)))
    line = " · ".join(parts)
    if view.also_in:
        line += f" · also in: {esc(', '.join(view.also_in[:5]))}"
    return f"<i>{line}</i>"


def entry(view: ArticleView, *, number: int | None = None, snippet: bool = False) -> str:
    """One story entry: title, outlet(s), summary (or search snippet), read command."""
    head = f"{number}. " if number is not None else ""
    if snippet and view.snippet:
        text = highlight(view.snippet)
    else:
        summary = " ".join(view.summary)
        if len(summary) > SUMMARY_LIMIT:
            summary = summary[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0] + "…"
        text = esc(summary)
    block = f"<b>{head}{esc(view.title)}</b>\n{outlet_line(view)}\n{text}\n/read_{view.id}"
    if len(block) > MAX_MESSAGE - 100:
        block = f"<b>{head}{esc(view.title[:300])}</b>\n{outlet_line(view)}\n/read_{view.id}"
    return block


def article_messages(view: ArticleView) -> list[str]:
    """The full article split at paragraph boundaries into messages."""
    header = f"<b>{esc(view.title)}</b>\n{outlet_line(view)}"
    if view.byline:
        header += f"\n<i>By {esc(view.byline)}</i>"
    blocks = [header]
    for paragraph in view.body.split("\n\n"):
        paragraph = paragraph.strip()
        if paragraph:
            # escaping can lengthen text ("&" -> "&amp;"): split with room to spare
            blocks.extend(esc(piece) for piece in split_plain(paragraph, MAX_MESSAGE // 2))
    return pack_blocks(blocks)


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
