"""Telegram HTML helpers: escaping, highlighting, and splitting into ≤ 4096-character messages."""

from __future__ import annotations

import html
import re

from storage.search import MARK_END, MARK_START

MAX_MESSAGE = 4096
_TAG = re.compile(r"<[^>]*>")


def esc(text: str | None) -> str:
    """Escape dynamic text for Telegram HTML (only ``&``, ``<`` and ``>`` need it)."""
    return html.escape(text or "", quote=False)


def esc_attr(text: str) -> str:
    """Escape text for an HTML attribute value in double quotes."""
    return html.escape(text, quote=True)


def highlight(snippet: str) -> str:
    """Escape a search snippet and turn its match markers into bold tags (balanced)."""
    snippet = " ".join(snippet.split())  # paragraph breaks inside a snippet read badly
    out: list[str] = []
    open_ = False
    for part in re.split(f"([{MARK_START}{MARK_END}])", snippet):
        if part == MARK_START and not open_:
            out.append("<b>")
            open_ = True
        elif part == MARK_END and open_:
            out.append("</b>")
            open_ = False
        elif part not in (MARK_START, MARK_END):
            out.append(esc(part))
    if open_:
        out.append("</b>")
    return "".join(out)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(fragment: str) -> str:
    """Return what Telegram shows of an HTML fragment: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", fragment))


def split_plain(text: str, limit: int) -> list[str]:
    """Split plain text into pieces of at most ``limit`` UTF-16 units.

    Cuts at paragraph breaks, then sentence ends, then spaces; a single unbroken run
    longer than ``limit`` is cut hard.
    """
    if utf16_len(text) <= limit:
        return [text]
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = rest[:limit]
        while utf16_len(window) > limit:  # astral characters count double
            window = window[:-1]
        cut = -1
        for separator in ("\n\n", "\n", ". ", " "):
            found = window.rfind(separator)
            if found > limit // 3:
                cut = found + len(separator)
                break
        if cut <= 0:
            cut = len(window)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return [piece for piece in pieces if piece]


def pack_blocks(
    blocks: list[str], *, limit: int = MAX_MESSAGE, separator: str = "\n\n"
) -> list[str]:
    """Pack complete HTML blocks into as few messages of ≤ ``limit`` units as possible.

    Blocks are never split (each must itself fit; callers split long text with
    :func:`split_plain` before marking it up), so no tag is ever cut in two. Sizes are
    measured as Telegram does, after entity parsing (``&amp;`` counts as one character).
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        if utf16_len(visible_text(block)) > limit:
            raise ValueError("a block longer than a message; split it first")
        candidate = f"{current}{separator}{block}" if current else block
        if utf16_len(visible_text(candidate)) <= limit:
            current = candidate
        else:
            messages.append(current)
            current = block
    if current:
        messages.append(current)
    return messages


def fit_callback(data: str) -> str:
    """Return ``data`` unchanged if it fits Telegram's 64-byte callback limit, else raise."""
    if len(data.encode()) > 64:
        raise ValueError(f"callback data over 64 bytes: {data!r}")
    return data
