"""Telegram HTML parse-mode validation, modelled on tdlib's ``parse_html``.

Rules follow https://core.telegram.org/bots/api#formatting-options (HTML style):
only the listed tags, properly nested and closed; only ``&lt; &gt; &amp; &quot;`` plus
numeric entities.  Error texts mirror the Bot API's ("Unsupported start tag ... at byte
offset N", ...); the caller prefixes them with "Bad Request: can't parse entities: ".

One deliberate deviation (``strict_ampersand=True``, the default): real Telegram keeps a bare
``&`` that does not start a known entity literally, although the documentation says it must
be escaped.  The fake rejects it so that unescaped text is caught in tests.
"""

from __future__ import annotations

import re
from typing import Any

ALLOWED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "tg-emoji", "tg-time", "code", "pre", "blockquote",
    }
)  # fmt: skip
SIMPLE = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "tg-spoiler": "spoiler", "span": "spoiler",
}  # fmt: skip
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_UNQUOTED_VALUE = re.compile(r"[A-Za-z0-9.\-]*")


class HtmlParseError(ValueError):
    """Text is not valid Telegram HTML; ``str(exc)`` is the Bot API's detail message."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the entity starting at ``text[pos] == '&'``; the ``;`` is optional (tdlib)."""
    end = pos + 1
    if text.startswith("#", end):
        end += 1
        if text.startswith(("x", "X"), end):
            end += 1
            m = re.compile(r"[0-9A-Fa-f]+").match(text, end)
            base = 16
        else:
            m = re.compile(r"[0-9]+").match(text, end)
            base = 10
        if m is None:
            return None
        code = int(m.group(), base)
        end = m.end()
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        char = chr(code)
    else:
        m = re.compile(r"[A-Za-z]+").match(text, end)
        if m is None or m.group() not in NAMED_ENTITIES:
            return None
        char = NAMED_ENTITIES[m.group()]
        end = m.end()
    if text.startswith(";", end):
        end += 1
    return char, end


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)``; entity offsets/lengths are in UTF-16 units.

    Raises :class:`HtmlParseError` like Telegram's "can't parse entities" errors.
    Leading/trailing whitespace of the result is stripped, as Telegram does.
    """

    def boff(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    out: list[str] = []
    u16 = 0  # current UTF-16 offset in the output
    stack: list[tuple[str, str | None, int]] = []  # (tag, argument, start offset)
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            dec = _decode_entity(text, i)
            if dec is not None:
                out.append(dec[0])
                u16 += utf16_len(dec[0])
                i = dec[1]
                continue
            if strict_ampersand:
                raise HtmlParseError(
                    f"Unsupported HTML entity at byte offset {boff(i)} "
                    "(fakebot strict mode: escape '&' as &amp;)"
                )
        if ch != "<":
            out.append(ch)
            u16 += utf16_len(ch)
            i += 1
            continue
        tag_pos = i
        i += 1
        if i >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {boff(tag_pos)}")
        if text[i] != "/":
            j = i
            while j < n and not text[j].isspace() and text[j] not in ">/":
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {boff(tag_pos)}")
            tag = text[i:j].lower()
            if tag not in ALLOWED_TAGS:
                raise HtmlParseError(
                    f'Unsupported start tag "{text[i:j]}" at byte offset {boff(tag_pos)}'
                )
            i = j
            attrs: dict[str, str] = {}
            while True:
                while i < n and text[i].isspace():
                    i += 1
                if i >= n:
                    raise HtmlParseError(
                        f'Unclosed start tag "{tag}" at byte offset {boff(tag_pos)}'
                    )
                if text[i] == ">":
                    i += 1
                    break
                j = i
                while j < n and not text[j].isspace() and text[j] not in "=>/\"'":
                    j += 1
                name = text[i:j].lower()
                if not name:
                    raise HtmlParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {boff(tag_pos)}'
                    )
                i = j
                while i < n and text[i].isspace():
                    i += 1
                if i >= n or text[i] != "=":
                    attrs[name] = ""
                    continue
                i += 1
                while i < n and text[i].isspace():
                    i += 1
                if i >= n:
                    raise HtmlParseError(
                        f'Unclosed start tag "{tag}" at byte offset {boff(tag_pos)}'
                    )
                if text[i] in "\"'":
                    quote = text[i]
                    i += 1
                    val: list[str] = []
                    while i < n and text[i] != quote:
                        dec = _decode_entity(text, i) if text[i] == "&" else None
                        if dec is not None:
                            val.append(dec[0])
                            i = dec[1]
                        else:
                            val.append(text[i])
                            i += 1
                    if i >= n:
                        raise HtmlParseError(f"Unclosed start tag at byte offset {boff(tag_pos)}")
                    i += 1
                    attrs[name] = "".join(val)
                else:
                    m = _UNQUOTED_VALUE.match(text, i)
                    assert m is not None
                    i = m.end()
                    if i < n and not text[i].isspace() and text[i] != ">":
                        raise HtmlParseError(
                            f"Unexpected end of name token at byte offset {boff(i)}"
                        )
                    attrs[name] = m.group().lower()
            arg: str | None = None
            if tag == "span":
                if attrs.get("class") != "tg-spoiler":
                    raise HtmlParseError(
                        f'Tag "span" must have class "tg-spoiler" at byte offset {boff(tag_pos)}'
                    )
            elif tag == "a":
                arg = attrs.get("href")
            elif tag == "code":
                cls = attrs.get("class", "")
                arg = cls.removeprefix("language-") if cls.startswith("language-") else None
            elif tag == "tg-emoji":
                arg = attrs.get("emoji-id", "")
                if not arg.isdigit():
                    raise HtmlParseError("Invalid custom emoji identifier specified")
            elif tag == "tg-time":
                arg = attrs.get("unix", "")
                if not arg.isdigit():
                    raise HtmlParseError("Invalid Unix time specified")
                fmt = attrs.get("format", "")
                if not re.fullmatch(r"r|w?[dD]?[tT]?", fmt):
                    raise HtmlParseError("Invalid date-time format specified")
                arg = f"{arg}|{fmt}"
            elif tag == "blockquote":
                arg = "expandable" if "expandable" in attrs else None
            stack.append((tag, arg, u16))
            continue
        # end tag
        if not stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {boff(tag_pos)}")
        i += 1
        j = i
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        end_name = text[i:j].lower()
        while j < n and text[j].isspace():
            j += 1
        if j >= n or text[j] != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {boff(tag_pos)}")
        tag, arg, start = stack[-1]
        if end_name and end_name != tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {boff(tag_pos)}, "
                f'expected "</{tag}>", found "</{text[i:j].strip()}>"'
            )
        i = j + 1
        stack.pop()
        if u16 > start:
            entities.append(_make_entity(tag, arg, start, u16 - start, entities, "".join(out)))
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return _strip("".join(out), entities)


def _make_entity(
    tag: str, arg: str | None, offset: int, length: int, done: list[dict[str, Any]], plain: str
) -> dict[str, Any]:
    ent: dict[str, Any] = {"offset": offset, "length": length}
    if tag in SIMPLE:
        ent["type"] = SIMPLE[tag]
    elif tag == "a":
        ent["type"] = "text_link"
        ent["url"] = (
            arg if arg is not None else plain.encode("utf-16-le")[2 * offset :].decode("utf-16-le")
        )
    elif tag == "code":
        ent["type"] = "code"
        if arg:
            ent["language"] = arg
    elif tag == "pre":
        ent["type"] = "pre"
        # <pre><code class="language-x">...</code></pre> -> one pre entity with language
        if (
            done
            and done[-1]["type"] == "code"
            and done[-1]["offset"] == offset
            and (done[-1]["length"] == length)
        ):
            inner = done.pop()
            if "language" in inner:
                ent["language"] = inner["language"]
    elif tag == "tg-emoji":
        ent["type"] = "custom_emoji"
        ent["custom_emoji_id"] = arg
    elif tag == "tg-time":
        unix, fmt = (arg or "0|").split("|")
        ent["type"] = "date_time"
        ent["unix_time"] = int(unix)
        if fmt:
            ent["date_time_format"] = fmt
    elif tag == "blockquote":
        ent["type"] = "expandable_blockquote" if arg else "blockquote"
    return ent


def _strip(plain: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip surrounding whitespace like Telegram and clip entities to the remaining text."""
    lead = utf16_len(plain) - utf16_len(plain.lstrip())
    stripped = plain.strip()
    total = utf16_len(stripped)
    result = []
    for ent in sorted(entities, key=lambda e: (e["offset"], -e["length"])):
        start = max(ent["offset"] - lead, 0)
        end = min(ent["offset"] + ent["length"] - lead, total)
        if end > start:
            result.append({**ent, "offset": start, "length": end - start})
    return stripped, result
