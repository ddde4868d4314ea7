"""Page furniture inside a story line: scrapers that join a page's text into one long line
carry teaser links ("Read more: <headline>"), widget labels between two sentences ("Live
Events"), section labels ("Synopsis") and promo tails ("... WhatsApp channel )").

Everything here works on word shapes only: a sentence ends with ``. ! ?`` (maybe followed
by a closing quote or bracket); a sentence starts with a capitalised function word ("In",
"He", "The") or an opening quote before a capital; a headline of another story runs from
its "Read more:" label to the next sentence start.
"""

from __future__ import annotations

import re

from briefings.text.words import FUNCTION_WORDS

# "Ukraine war latest: Title", "Watch: Title" - kickers of another story's headline.
KICKER_WORDS = frozenset(
    ("latest", "live", "breaking", "watch", "explainer", "video", "podcast", "listen", "updates")
)
# "Read more: Title", "Also read: Title", "Related: Title" - a teaser link, mid-line too.
_TEASER = re.compile(
    r"(?:^|(?<=[.!?\"'”’)\]]\s))\s*(?:read (?:more|also|next)|also read|see also|must read|"
    r"related(?: (?:article|story|stories|news|coverage))?|recommended(?: for you)?)\s*:\s*",
    re.IGNORECASE,
)
# Labels that head a box and carry no text of their own ("Synopsis Foxconn is ...").
_LABEL = re.compile(
    r"^(?:synopsis|story highlights|key (?:points|takeaways)|tl;?dr|at a glance)\b"
    r"\s*:?\s+(?=[\"“‘'(]?[A-Z0-9])",
    re.IGNORECASE,
)
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")
_OPENS_QUOTE = re.compile(r"^[\"“‘'][A-Z0-9]")
_END_CHARS = frozenset(".!?…\"'”’)]")
_WORDY = re.compile(r"[^\W\d_]{2}")
_MAX_TITLE = 30
_MAX_WIDGET = 3
_MAX_TAIL = 8


def starts_sentence(word: str) -> bool:
    """A word that opens a sentence: a capitalised function word or a quote before a capital."""
    if _OPENS_QUOTE.match(word):
        return True
    if not word[:1].isupper() or (len(word) > 1 and word.isupper()):
        return False  # "US", "UK": acronyms in titles, not sentence starts
    bare = word.strip(",;:").casefold().replace("’", "'")
    return bare != "i" and bare in FUNCTION_WORDS


def _drop_teasers(words: list[str]) -> set[int]:
    """Word indexes of "Read more: <headline>" teasers (label and headline)."""
    drop: set[int] = set()
    line = " ".join(words)
    for m in _TEASER.finditer(line):
        first = len(line[: m.end()].split())  # index of the headline's first word
        label = len(line[: m.start()].split())
        end = None
        for k in range(first + 2, min(len(words), first + _MAX_TITLE + 1)):
            if starts_sentence(words[k]) or _ENDS_SENTENCE.search(words[k - 1]):
                end = k
                break
        if end is None and len(words) - first <= _MAX_TITLE:
            end = len(words)  # the teaser closes the line
        if end is not None:
            drop.update(range(label, end))
    return drop


def _plain_sentence(words: list[str]) -> bool:
    """The words open a sentence in running text: five or more words before its end,
    at most half of them capitalised (not a title-cased reference or a name list)."""
    sentence = []
    for w in words:
        sentence.append(w)
        if _ENDS_SENTENCE.search(w) or len(sentence) >= 12:
            break
    caps = sum(w[:1].isupper() for w in sentence)
    return len(sentence) >= 5 and caps <= len(sentence) / 2


def _drop_widgets(words: list[str]) -> set[int]:
    """Word indexes of 2-3 capitalised words wedged between two sentences ("Live Events")."""
    drop: set[int] = set()
    for k in range(1, len(words)):
        if (
            words[k - 1][-1:] not in _END_CHARS
            or not _ENDS_SENTENCE.search(words[k - 1])
            or not _WORDY.search(words[k - 1])
        ):
            continue  # "14. Security Considerations To ..." is a numbered heading
        for m in range(2, _MAX_WIDGET + 1):
            if k + m + 1 >= len(words):
                break
            chunk = words[k : k + m]
            if not all(w[:1].isupper() and w.isalnum() for w in chunk):
                break
            if any(w.casefold() in FUNCTION_WORDS for w in chunk):
                break
            after = words[k + m]
            if after[:1].isupper() and starts_sentence(after) and _plain_sentence(words[k + m :]):
                drop.update(range(k, k + m))
                break
    return drop


def _unbalanced_tail(words: list[str]) -> int:
    """Index where a short non-sentence tail with an unbalanced ")" starts, else len."""
    for k in range(len(words) - 1, max(-1, len(words) - _MAX_TAIL - 2), -1):
        if k == 0 or _ENDS_SENTENCE.search(words[k - 1]):
            tail = " ".join(words[k:])
            closes_nothing = sum(w.count(")") - w.count("(") for w in words) > 0
            if closes_nothing and tail.endswith(")") and tail.count(")") > tail.count("("):
                return k
            break
    return len(words)


def strip_inline(text: str) -> str:
    """Remove teaser links, widget labels and promo tails from one story line.

    Args:
        text: one normalised line (a paragraph as the scraper copied it).

    Returns:
        The line without them (single spaces); ``""`` when nothing else is left.
    """
    text = _LABEL.sub("", text, count=1)
    words = text.split(" ")
    if len(words) < 2:
        return text
    drop = _drop_widgets(words)
    if ":" in text:
        drop |= _drop_teasers(words)
    cut = _unbalanced_tail(words) if ")" in text else len(words)
    kept = [w for k, w in enumerate(words[:cut]) if k not in drop]
    return " ".join(kept)
