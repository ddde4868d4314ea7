"""Telegram HTML primitives: escaping, UTF-16 lengths, packing at block boundaries, cutting.

The one place that knows Telegram's HTML rules; :mod:`bot.render` builds messages with it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence

from storage.search import MARK_END, MARK_START

MAX_MESSAGE = 4096
_TAG = re.compile(r"<[^>]*>")
# one unit of HTML that must never be cut: a tag, an entity, or one character
_UNIT = re.compile(r"<[^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|\w+);|.", re.DOTALL)
_TAG_NAME = re.compile(r"<(/?)([a-zA-Z][\w-]*)")


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


def visible_len(fragment: str) -> int:
    """Length of a fragment as Telegram counts it after entity parsing (UTF-16 units)."""
    return utf16_len(visible_text(fragment))


def pack_blocks(
    blocks: Sequence[str],
    *,
    limit: int = MAX_MESSAGE,
    separator: str = "\n\n",
    measure: Callable[[str], int] = visible_len,
) -> list[str]:
    """Pack complete HTML blocks into as few messages of ≤ ``limit`` units as possible.

    Blocks are never split (each must itself fit; callers split long text with
    :func:`split_plain` before marking it up), so no tag is ever cut in two.

    Args:
        blocks: complete HTML fragments (balanced tags, whole entities).
        limit: the largest message.
        separator: what joins two blocks within a message.
        measure: how a block's size is counted; by default as Telegram does, after
            entity parsing (``&amp;`` counts as one character). Briefings pass
            :func:`utf16_len` (the HTML itself), which keeps their splits as they were.

    Raises:
        ValueError: a block is longer than ``limit``.
    """
    messages: list[str] = []
    current, size = "", 0
    gap = measure(separator)
    for block in blocks:
        length = measure(block)
        if length > limit:
            raise ValueError("a block longer than a message; split it first")
        if current and size + gap + length <= limit:
            current, size = current + separator + block, size + gap + length
        else:
            if current:
                messages.append(current)
            current, size = block, length
    if current:
        messages.append(current)
    return messages


def cut_html(text: str, limit: int) -> str:
    """Cut Telegram HTML to at most ``limit`` UTF-16 units, never inside a tag or entity.

    Text that fits is returned unchanged; otherwise the longest prefix of whole tags,
    entities and characters that fits together with the closing tags of the elements
    still open, and those closing tags.
    """
    if utf16_len(text) <= limit:
        return text
    out: list[str] = []
    open_tags: list[str] = []
    size = closers = 0  # units kept, and units of the closing tags still owed
    for match in _UNIT.finditer(text):
        unit = match.group()
        length = utf16_len(unit)
        tag = _TAG_NAME.match(unit)
        if tag and tag.group(1) and open_tags and open_tags[-1] == tag.group(2):
            open_tags.pop()  # its room was kept among the closers
            closers -= length
        else:
            owed = utf16_len(f"</{tag.group(2)}>") if tag and not tag.group(1) else 0
            if size + length + closers + owed > limit:
                break
            if owed:
                open_tags.append(tag.group(2))  # type: ignore[union-attr]
                closers += owed
        size += length
        out.append(unit)
    return "".join(out) + "".join(f"</{name}>" for name in reversed(open_tags))


def fit_callback(data: str) -> str:
    """Return ``data`` unchanged if it fits Telegram's 64-byte callback limit, else raise."""
    if len(data.encode()) > 64:
        raise ValueError(f"callback data over 64 bytes: {data!r}")
    return data
