"""The one Telegram renderer's primitives: cutting HTML, packing blocks (bot.format)."""

from __future__ import annotations

import pytest
from fakebot import parse_html
from hypothesis import given
from hypothesis import strategies as st

from bot.format import cut_html, esc, pack_blocks, utf16_len, visible_text


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short <b>text</b>", 100, "short <b>text</b>"),
        ("<b>Tom &amp; Jerry</b> and more", 12, "<b>Tom </b>"),
        ("<b>Tom &amp; Jerry</b> and more", 16, "<b>Tom &amp;</b>"),
        ("a &lt;b&gt; c", 5, "a "),
        ('<a href="https://x.org/?a=1&amp;b=2">link</a> tail', 20, ""),
        ('<a href="https://x.org/">link</a> tail', 30, '<a href="https://x.org/">l</a>'),
        ("<i>one <b>two</b> three</i>", 21, "<i>one <b>two</b></i>"),
        ("<code>&#x27;&#39;</code>", 19, "<code>&#x27;</code>"),
        ("🎉🎉🎉", 5, "🎉🎉"),
        ("plain text only", 5, "plain"),
    ],
)
def test_cut_html_keeps_tags_and_entities_whole(text: str, limit: int, expected: str) -> None:
    assert cut_html(text, limit) == expected


_fragment = st.lists(
    st.one_of(
        st.text(alphabet="ab &<>🎉\n", max_size=30).map(esc),
        st.sampled_from(["<b>", "</b>", "<i>", "</i>", "<code>", "</code>"]),
    ),
    max_size=40,
)


def _balanced(parts: list[str]) -> str:
    """Join parts, dropping closers without an opener and closing what is left open."""
    out: list[str] = []
    stack: list[str] = []
    for part in parts:
        if part.startswith("</"):
            if stack and stack[-1] == part[2:-1]:
                stack.pop()
                out.append(part)
        else:
            if part.startswith("<"):
                stack.append(part[1:-1])
            out.append(part)
    return "".join(out) + "".join(f"</{name}>" for name in reversed(stack))


@given(_fragment, st.integers(min_value=0, max_value=200))
def test_cut_html_is_valid_prefix(parts: list[str], limit: int) -> None:
    text = _balanced(parts)
    cut = cut_html(text, limit)
    assert utf16_len(cut) <= max(limit, 0) or cut == text
    parse_html(cut)  # raises on an unbalanced tag or a broken entity
    assert visible_text(text).startswith(visible_text(cut))


def test_pack_measures_visible_text_unless_told() -> None:
    blocks = ["&amp;" * 10, "&amp;" * 10]
    assert pack_blocks(blocks, limit=22, separator="") == ["&amp;" * 20]
    assert pack_blocks(blocks, limit=50, separator="", measure=utf16_len) == blocks
    with pytest.raises(ValueError):
        pack_blocks(["x" * 11], limit=10)
