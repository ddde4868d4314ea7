"""Low-level text normalisation and per-line features shared by the cleaner and the splitter.

Everything here is pure and cheap: the ingest worker calls it on every line of every dump.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import ftfy

from briefings.text import patterns
from briefings.text.words import FUNCTION_WORDS, WORD

# UTF-8 bytes decoded as cp1252/latin-1 leave a lead byte (Â..ô) followed by a
# continuation byte rendered as a cp1252 punctuation sign or a latin-1 symbol.
# Checking this first keeps ftfy (milliseconds per page) off the common, clean path.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|\ufffd"
)
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,5}|#x[0-9a-fA-F]{2,4});")
_FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, fix_latin_ligatures=True)
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_BLANK = "[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
_SPACES = re.compile(_BLANK + "+")
# Only what needs changing: a run of 2+ blanks, or any blank that is not a plain space.
_BAD_SPACES = re.compile(
    "[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]" + _BLANK + "*| " + _BLANK + "+"
)
_ODD_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x85]")

_LETTER_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "′": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "″": '"',
        "«": '"',
        "»": '"',
    }
)
_KEY_STRIP = re.compile(r"[^\w]+")


def fix_text(text: str) -> str:
    """Repair mojibake and entities (only when there is any), unify newlines and spaces.

    Args:
        text: decoded text, possibly with mojibake, ``\\r\\n`` line ends, NBSPs, zero-width marks.

    Returns:
        The text with ``\\n`` line ends and single ASCII spaces inside lines; curly quotes are kept.
    """
    ascii_only = text.isascii()
    if (not ascii_only and _MOJIBAKE.search(text)) or ("&" in text and _ENTITY.search(text)):
        text = ftfy.fix_text(text, _FTFY_CONFIG)
        ascii_only = text.isascii()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not ascii_only:
        if any(sep in text for sep in "\u2028\u2029\x0b\x0c\x85"):
            text = _NEWLINES.sub("\n", text)
        text = _INVISIBLE.sub("", text)
    if "  " in text or "\t" in text or (not ascii_only and _ODD_SPACE.search(text)):
        text = _BAD_SPACES.sub(" ", text)
    return text


_WRAP_CHARS = 40
_WRAP_WORDS = 6
_WRAP_END = frozenset(".!?…。！？:;")


def text_lines(text: str) -> list[str]:
    """The non-empty, stripped lines of fixed text, hard-wrapped sentences joined.

    Text copied from a paragraph broken with line-break tags, or from a preformatted
    block, breaks sentences at a fixed width: a run of lines each going on from the one
    before (a lower-case start after a long line that does not end a sentence) that ends
    a sentence is one paragraph. Menus and link lists do not end like sentences; they stay lines.

    Args:
        text: text as :func:`fix_text` returns it.
    """
    out: list[str] = []
    chain: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            _flush(chain, out)
            continue
        if chain and not (_wraps(chain[-1]) and line[0].isalpha() and line[0].islower()):
            _flush(chain, out)
        chain.append(line)
    _flush(chain, out)
    return out


def _wraps(line: str) -> bool:
    """A long line that stops mid-sentence (a hard-wrapped paragraph's line)."""
    return (
        len(line) >= _WRAP_CHARS
        and line[-1] not in _WRAP_END
        and line.count(" ") >= _WRAP_WORDS - 1
    )


def _flush(chain: list[str], out: list[str]) -> None:
    """Move ``chain`` to ``out``: one line when it ends a sentence, else line by line."""
    if len(chain) > 1 and chain[-1].rstrip(_CLOSERS)[-1:] in _ENDERS:
        out.append(" ".join(chain))
    else:
        out.extend(chain)
    chain.clear()


def norm_line(line: str) -> str:
    """Strip a line and collapse inner whitespace."""
    return _SPACES.sub(" ", line).strip()


def line_key(line: str) -> str:
    """Comparison key: case-, quote-, punctuation- and whitespace-insensitive."""
    return _KEY_STRIP.sub(" ", line.casefold().translate(_QUOTES)).strip()


class LineInfo(NamedTuple):
    """Cheap shape features of one non-empty line.

    Attributes:
        text: the normalised line.
        key: ``line_key(text)``.
        words: number of letter words.
        stop: share of words that are function words.
        caps: share of words that start with a capital letter.
        terminal: ends like a sentence (``. ! ? …`` possibly followed by a closing quote).
        label: a short "Label:" line such as "Image:" or "Read more:".
        prose: reads like running text (see :func:`briefings.text.patterns.prose`).
        ui: button/menu/credit/call-to-action line.
        cta: call to action ("Download our app ...") or cookie banner.
        timestamp: a short date/time line.
        credit: a photo credit or caption label.
        urlish: contains a URL, domain or e-mail address.
    """

    text: str
    key: str
    words: int
    stop: float
    caps: float
    terminal: bool
    label: bool
    prose: bool
    ui: bool
    cta: bool
    timestamp: bool
    urlish: bool
    credit: bool


# A word's first letter unless plainly lower-case; of these only upper-case ones count
# (Arabic, Hebrew, Hindi, … have no case, and "ł", "ж" are lower-case letters).
_CAP_START = re.compile(r"\b[^\W\d_a-zß-ÿ]")
_CLOSERS = "\"'”’»)]*_ "
_ENDERS = frozenset(".!?…。！？")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def line_info(text: str) -> LineInfo:
    """Compute :class:`LineInfo` for one already-normalised line."""
    ascii_only = text.isascii()
    low = text.casefold() if ascii_only else text.casefold().translate(_QUOTES)
    low_words = WORD.findall(low)
    key = " ".join(low_words)
    tokens = frozenset(low_words)
    n = len(low_words) - sum(map(str.isdigit, low_words))
    cjk = 0 if ascii_only else len(_CJK.findall(text))
    if cjk > n:
        # No spaces between words: count ~2 characters as a word, and assume the
        # function-word share of running text (there is no cheap way to measure it).
        n = max(n, cjk // 2)
        stop, caps = 0.3, 0.0
    elif n:
        stop = sum(map(FUNCTION_WORDS.__contains__, low_words)) / n
        starts = _CAP_START.findall(text)
        capitals = len(starts) if ascii_only else sum(map(str.isupper, starts))
        caps = min(1.0, capitals / n)
    else:
        stop = caps = 0.0
    tail = text.rstrip(_CLOSERS)
    terminal = bool(tail) and tail[-1] in _ENDERS
    if terminal and n < 25 and tail.endswith(("...", "…")):
        terminal = False  # a truncated teaser, not a sentence
    label = n <= 5 and text.endswith(":")
    urlish = patterns.urlish(text)
    cta = patterns.call_to_action(text, n, tokens)
    credit = patterns.credit(text, n, tokens)
    first = low_words[0] if low_words else ""
    # Buttons and menu entries do not end like sentences ("Home prices rose 5%." is text).
    ui_word = (
        n <= 8
        and not terminal
        and (first in patterns.UI_FIRST or first.isdigit() or "©" in text)
        and bool(patterns.UI.match(text))
    ) or (n <= 25 and ":" in text and bool(patterns.LINK.match(text)))
    return LineInfo(
        text,
        key,
        n,
        stop,
        caps,
        terminal,
        label,
        patterns.prose(n, stop, caps, terminal),
        cta or ui_word or credit or (urlish and n <= 12),  # ui
        cta,
        patterns.timestamp(text, n, terminal, tokens),
        urlish,
        credit,
    )
