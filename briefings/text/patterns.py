"""Regular expressions and per-line predicates for page furniture (site-independent).

These are generic web-UI words and shapes (buttons, widget headers, photo credits,
timestamps, calls to action), the same on any news site; they are only ever applied to
short lines or combined with shape features.
"""

from __future__ import annotations

import re

# Generic web-UI vocabulary (the words buttons, banners and widget headers are made of on
# any site); only ever applied to short lines.
# "Related: Title of another story", "Read more: ...", "Also: ..." - a link, any length.
LINK = re.compile(
    r"^(?:related|read (?:more|also|next)|see also|also|more|watch|listen|recommended|"
    r"further reading|related (?:article|story|content|coverage)s?)\s*:",
    re.IGNORECASE,
)
UI = re.compile(
    r"^(?:[•·|>»▶►\-*]\s*)?(?:advertisement|advertising|ad|sponsored|promoted|share|shares|"
    r"tweet|email|e-mail|print|save|copy|reply|report|like|likes|follow|subscribe|subscription|"
    r"sign (?:in|up)|log ?in|"
    r"log ?out|register|connect with|download|get (?:the|our) app|install|comments?|\d+ comments?|"
    r"no comments|leave a (?:comment|reply)|join the (?:conversation|discussion)|"
    r"related|more (?:on|from|about|stories|news|in|like this)|read (?:more|next|also)|"
    r"see (?:also|more)|continue reading|keep reading|skip (?:to|ad)|back to|go to|"
    r"cookies?|accept|privacy|terms|copyright|©|all rights reserved|trending|most "
    r"(?:popular|read|viewed|shared)|recommended|you may (?:also )?like|"
    r"don't miss|watch|listen|video|gallery|image \d+|photo|loading|published|updated|"
    r"posted|by|on|at|logo|menu|search|home|close|next|previous|prev|click|tap|"
    r"explore|try|learn more|view|show more|load more|newsletter|contact us|about us|"
    r"facebook|twitter|instagram|linkedin|whatsapp|youtube|pinterest|reddit|telegram|"
    r"x|rss|top stories|latest|sections|topics|tags?|filed under|featured)\b",
    re.IGNORECASE,
)
# Photo credits. On any line up to 40 words only explicit labels count ("Pic: Reuters",
# "(AP Photo/...", "... / Getty Images"); the weaker cues ("(AP)", "copyright", "3 of 12")
# only on short lines, since datelines and sentences contain them too.
CREDIT = re.compile(
    r"\b(?:photo|photos|image|images|picture|pic|pics|credit|credits|illustration|"
    r"photograph)\s*(?::|/)|\(\s*(?:ap|afp|reuters|getty)\s+(?:photo|images?)\b|"
    r"\b(?:getty images|shutterstock)\s*\)?\s*$",
    re.IGNORECASE,
)
CREDIT_SHORT = re.compile(
    r"\b(?:photo|photos|image|images|picture|pic|pics|credit|credits|illustration|"
    r"photograph|graphic|footage)\s*(?::|/|by\b|copyright\b|caption\b|source\b)|"
    r"copyright\b|\(\s*(?:ap|afp|reuters|getty)\b|\bgetty images\b|\bshutterstock\b|"
    r"\b\d+\s*(?:of|/)\s*\d+\s*$",
    re.IGNORECASE,
)
STILLS = re.compile(r"^(?:image|photo|picture|video|caption)\b", re.IGNORECASE)
TIME = re.compile(
    r"\b(?:\d{1,2}:\d{2}|\d+\s*(?:min|mins|minutes?|hours?|hrs?|days?|weeks?)\s+ago|"
    r"an? (?:minute|hour|day|week) ago|yesterday|today|(?:jan|feb|mar|apr|may|jun|jul|aug|"
    r"sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|"
    r"sep|sept|oct|nov|dec)[a-z]*|\d{4}-\d{2}-\d{2})",
    re.IGNORECASE,
)
URLISH = re.compile(
    r"https?://|www\.|%2F|\.(?:com|org|net|html?)\b|@\w+\.\w+|^@\w+$", re.IGNORECASE
)
CTA = re.compile(
    r"\b(?:download|subscribe[ds]?|subscription|sign(?:ing)?[ -]up|sign in|log in|click|tap|"
    r"follow us|register|app store|opt-in|inbox|join|"
    r"newsletter|get started|start exploring|unlock|free trial|upgrade|enable javascript|"
    r"cookies?|browser)\b",
    re.IGNORECASE,
)
COOKIE = re.compile(
    r"\bcookies?\b.{0,200}\b(?:website|browser|consent|experience|settings|privacy)\b|"
    r"\b(?:website|browser|consent|experience|settings|privacy)\b.{0,200}\bcookies?\b",
    re.IGNORECASE,
)
YOU = re.compile(r"\b(?:you|your|you're|yours|our|us)\b", re.IGNORECASE)
IMPERATIVE = re.compile(
    r"^(?:get|download|subscribe|sign|join|try|click|tap|follow|register|please|thanks for)\b",
    re.IGNORECASE,
)


def prose(words: int, stop: float, caps: float, terminal: bool) -> bool:
    """A line that reads like running text (a story paragraph or sentence)."""
    if words >= 30 and (stop >= 0.1 or terminal):
        return True
    if words >= 8 and terminal and stop >= 0.18 and caps < 0.7:
        return True
    # Languages missing from the function-word list: mostly lower-case sentence.
    return words >= 10 and terminal and stop < 0.18 and caps < 0.3


# Cheap pre-filters (set intersections) that keep the regexes off most lines.
# First words of the ``UI`` alternatives: a line starting with anything else cannot match.
_UI_FIRST_TEXT = """
advertisement advertising ad sponsored promoted share shares tweet email e print save
copy reply report like likes follow subscribe subscription sign log register connect
download get install comments comment no leave join related more read see continue keep
skip back go cookies cookie accept privacy terms copyright all trending most recommended
you don watch listen video gallery image photo loading published updated posted by on at
logo menu search home close next previous prev click tap explore try learn view show
load newsletter contact about facebook twitter instagram linkedin whatsapp youtube
pinterest reddit telegram x rss top latest sections topics tag tags filed featured
"""
UI_FIRST = frozenset(_UI_FIRST_TEXT.split())
_CTA_TRIGGERS_TEXT = """
download subscribe subscribed subscribes subscription sign signing log click tap follow
register app newsletter get start unlock free upgrade enable opt inbox join
"""
_CTA_TRIGGERS = frozenset(_CTA_TRIGGERS_TEXT.split())
_YOU_WORDS_TEXT = """
you your you're yours our us
"""
_YOU_WORDS = frozenset(_YOU_WORDS_TEXT.split())
_CREDIT_TRIGGERS_TEXT = """
photo photos image images picture pic pics credit credits illustration photograph
graphic footage copyright ap afp reuters getty shutterstock
"""
_CREDIT_TRIGGERS = frozenset(_CREDIT_TRIGGERS_TEXT.split())


def call_to_action(text: str, words: int, tokens: frozenset[str]) -> bool:
    """ "Download our app", "Sign up for our newsletter", cookie banners.

    Args:
        text: the line.
        words: its number of words.
        tokens: its lower-cased word tokens.
    """
    if words > 40:
        return False
    if "ookie" in text and COOKIE.search(text):
        return True
    if "JavaScript" in text or "javascript" in text:
        return True  # "Please enable JavaScript to view the comments"
    if tokens.isdisjoint(_CTA_TRIGGERS) or tokens.isdisjoint(_YOU_WORDS):
        return False
    hits = {m.lower() for m in CTA.findall(text)}
    if not hits:
        return False
    return len(hits) >= 2 or bool(IMPERATIVE.match(text))


def credit(text: str, words: int, tokens: frozenset[str]) -> bool:
    """A photo credit or caption label ("Pic: Reuters", "Image 3 of 12", "© AP")."""
    if words > 40:
        return False
    if "©" in text and words <= 12:
        return True
    if tokens.isdisjoint(_CREDIT_TRIGGERS) and not text[-1:].isdigit():
        return False
    if words <= 12:
        return bool(CREDIT_SHORT.search(text))
    return bool(CREDIT.search(text))


_DIGIT = re.compile(r"\d")
_DAY_WORDS = frozenset(("ago", "yesterday", "today"))


def timestamp(text: str, words: int, terminal: bool, tokens: frozenset[str]) -> bool:
    """A short line that is mostly a date/time."""
    if words > 12 or terminal:
        return False
    if tokens.isdisjoint(_DAY_WORDS) and not _DIGIT.search(text):
        return False
    return bool(TIME.search(text))


def urlish(text: str) -> bool:
    """The line holds a URL, a domain name or an e-mail address."""
    if "://" in text or "www." in text or "%2F" in text:
        return True
    if "@" in text or ".com" in text or ".org" in text or ".net" in text or ".htm" in text:
        return bool(URLISH.search(text))
    return False
