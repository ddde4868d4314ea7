"""Trending terms: names and keyphrases that many of the day's stories share.

Candidates are capitalised words and runs of them ("Greenland", "Xi Jinping",
"White House"), acronyms ("BRICS", "COP30") and camel-case names ("DeepSeek").
A capitalised word only counts as a name when the stories also use it capitalised in
mid-sentence and rarely in lower case, which drops sentence-initial capitals and the
Title Case of headlines. Case variants and possessives are merged.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping

from briefings.text.words import TERM

__all__ = ["DEFAULT_STOP", "trending_terms"]

_BREAK_CHARS = set(".!?:;\"“”‘’'()[]|•–—\n")  # before a word: it starts a sentence
_CONNECTORS = frozenset({"of", "de", "del", "da", "van", "von", "der", "al", "bin", "du", "la"})
_MAX_PHRASE = 4
_CONTRACTION_RE = re.compile(r"['’](?:m|re|ve|ll|d|t)$", re.IGNORECASE)

_MONTHS = "january february march april may june july august september october november december"
_DAYS = "monday tuesday wednesday thursday friday saturday sunday today yesterday tomorrow"
_TITLES = (
    "mr mrs ms miss dr prof sir vice deputy dame lord lady st mt jr sr president prime "
    "minister chief "
    "executive secretary governor senator professor chairman chairwoman ceo spokesman "
    "spokeswoman general gen col lt sgt officer director head founder king queen prince "
    "princess pope judge mayor"
)
_COMMON = (
    "i a an the and or but if so as at by for from in into of on onto to up with without "
    "about after before over under than then this that these those there here it its he "
    "she they we you his her their our your my me him them who whom whose which what "
    "when where why how all any both each few more most other some such no nor not only "
    "own same too very can will just should now also however meanwhile still yet while "
    "although though because since until unless according "
    "first second third last next former photo image video "
    "read more related comments share advertisement subscribe getty images reuters ap afp "
    "news update live breaking opinion analysis editor exclusive watch click here"
)
# Nationality adjectives: "China" trends, "Chinese" is just how stories say it.
_DEMONYMS = (
    "american british english scottish welsh irish european chinese russian ukrainian "
    "indian pakistani japanese korean french german italian spanish portuguese dutch "
    "belgian swiss austrian polish danish swedish norwegian finnish greek turkish "
    "israeli palestinian iranian iraqi syrian lebanese saudi egyptian african "
    "canadian mexican brazilian argentine australian taiwanese vietnamese western "
    "eastern northern southern asian arab muslim christian jewish"
)
# Capitalised, these end a name ("US President Donald Trump" -> "US", "Donald Trump").
_BREAKERS: frozenset[str] = frozenset(f"{_TITLES} {_COMMON}".split())
DEFAULT_STOP: frozenset[str] = _BREAKERS | frozenset(
    f"{_MONTHS} {_DAYS} {_DEMONYMS} christmas easter".split()
)


def _strip_possessive(word: str) -> str:
    """Return ``word`` without a possessive ending ("Greenland's" -> "Greenland")."""
    if word[-2:] in ("'s", "’s", "'S", "’S"):
        return word[:-2]
    return word[:-1] if word[-1] in "'’" else word


def _name_part(word: str) -> str:
    """Drop lower-case suffixes of a hyphenated name: "Hangzhou-based" -> "Hangzhou"."""
    if "-" not in word or not word[0].isupper():
        return word
    parts = word.split("-")
    while len(parts) > 1 and parts[-1].isalpha() and parts[-1].islower():
        parts.pop()
    return "-".join(parts)


def _special(word: str) -> bool:
    """True for acronyms ("BRICS"), camel case ("DeepSeek") and codes ("COP30")."""
    letters = [c for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    return any(c.isupper() for c in word[1:]) and any(c.islower() for c in word)


_Token = tuple[str, bool, bool]  # (word, capitalised, starts a sentence or is in a title)


def _runs(text: str, title: bool) -> Iterable[list[_Token]]:
    """Yield runs of words that are only separated by spaces (no punctuation)."""
    run: list[_Token] = []
    prev_end = -1
    for m in TERM.finditer(text):
        gap = text[max(prev_end, 0) : m.start()]
        initial = prev_end < 0 or bool(set(gap) & _BREAK_CHARS)
        prev_end = m.end()
        if run and (initial or gap.strip(" \t")):
            yield run
            run = []
        raw = m.group()
        stripped = _strip_possessive(raw)
        word = _name_part(stripped)
        if not word:
            continue
        if _CONTRACTION_RE.search(word):  # "I'm", "We'll", "Don't": never names
            word = word.lower()
        cap = word[0].isupper() or _special(word)
        run.append((word, cap, title or initial))
        if stripped != raw:  # "China's Xi Jinping": a possessive ends the name
            yield run
            run = []
    if run:
        yield run


class _Stats:
    """Corpus-wide evidence of which words are names."""

    def __init__(self) -> None:
        self.cap_mid: Counter[str] = Counter()  # capitalised, mid-sentence, in a body
        self.lower: Counter[str] = Counter()  # written in lower case
        self.alone: Counter[str] = Counter()  # a name on its own, mid-sentence
        self.inside: Counter[str] = Counter()  # a word of a longer name, mid-sentence

    def add(self, runs: list[list[_Token]]) -> None:
        """Count how the words of one story are written."""
        for run in runs:
            for word, cap, initial in run:
                if not cap:
                    self.lower[word.lower()] += 1
                elif not initial:
                    self.cap_mid[word.lower()] += 1


def _is_name(word: str, stats: _Stats, stop: frozenset[str]) -> bool:
    """True when ``word`` on its own is a name: capitalised where it need not be."""
    key = word.lower()
    if key in stop or key.isdigit() or len(key) < 2:
        return False
    if _special(word):
        return True
    return word[0].isupper() and stats.cap_mid[key] >= max(1, stats.lower[key])


_Seq = list[tuple[str, bool]]  # (word, starts a sentence or is in a headline)


def _sequences(runs: list[list[_Token]], stats: _Stats, stop: frozenset[str]) -> list[_Seq]:
    """Split runs into sequences of names ("Xi Jinping", "Bank of England")."""
    out: list[_Seq] = []

    def flush(seq: _Seq) -> None:
        while seq and seq[-1][0].lower() in _CONNECTORS:
            seq = seq[:-1]
        if seq:
            out.append(seq)

    for run in runs:
        seq: _Seq = []
        for word, cap, initial in run:
            key = word.lower()
            # Mid-sentence capitals are names by position ("European Union" too, though
            # "European" alone is a stop word); a word that starts a sentence or sits in
            # a headline needs the corpus to confirm it. Titles and function words
            # ("President", "The") end a name: "US President Donald Trump".
            name = cap and key not in _BREAKERS and (not initial or _is_name(word, stats, stop))
            if name or (seq and key in _CONNECTORS):
                seq.append((word, initial))
                continue
            if (
                cap
                and not initial
                and key in _BREAKERS
                and len(seq) == 1
                and not _special(seq[0][0])
            ):
                seq = []  # "Foreign" of "Foreign Secretary" is no name on its own
            flush(seq)
            seq = []
        flush(seq)
    return out


def _story_terms(
    seqs: list[_Seq], stats: _Stats, stop: frozenset[str], surface: dict[str, Counter[str]]
) -> set[str]:
    """Return the lower-cased terms of one story; record their surface forms."""
    terms: set[str] = set()

    def add(words: list[str]) -> None:
        form = " ".join(words)
        key = form.lower()
        terms.add(key)
        surface[key][form] += 1

    for seq in seqs:
        words = [w for w, _ in seq]
        if len(words) == 1:
            if _is_name(words[0], stats, stop):
                add(words)
            continue
        if len(words) <= _MAX_PHRASE:
            add(words)
        for word in words:
            key = word.lower()
            # "Trump" in "Donald Trump" counts as "Trump" (the stories say "Trump" on
            # its own as often); "Michael" in "Michael Howard" does not.
            standalone = 2 * stats.alone[key] >= max(1, stats.inside[key]) or _special(word)
            if standalone and key not in _CONNECTORS and _is_name(word, stats, stop):
                add([word])
    return terms


def trending_terms(
    stories: Iterable[tuple[str, str]],
    *,
    min_stories: int = 2,
    limit: int = 10,
    stop: frozenset[str] = DEFAULT_STOP,
    rarity: Callable[[str], float] | None = None,
) -> list[tuple[str, int]]:
    """Return the names and keyphrases that several stories share.

    Args:
        stories: (title, text) of each story, one entry per story (not per article:
            near-duplicates should be merged first or they inflate the counts).
        min_stories: minimum number of stories mentioning a term.
        limit: maximum number of terms returned.
        rarity: optional weight of a term by how unusual it is in news at large (see
            :func:`idf_rarity`); ranking is then by stories × rarity, so "Greenland" in
            3 stories outranks "US" in 5. Counts reported are still story counts.
        stop: lower-case words never reported on their own (days, months, titles,
            function words…); defaults to ``DEFAULT_STOP``.

    Returns:
        (term, number of stories mentioning it), by count descending then term; the
        term is in its most frequent spelling ("Greenland", not "Greenland's").
        A phrase is dropped when one of its words alone is more widespread ("Trump"
        over "Donald Trump"), and a word that is no more widespread than a phrase
        containing it gives way to the phrase ("Jeff Landry" over "Jeff").
        Deterministic for the same input.
    """
    parsed = [[*_runs(title, title=True), *_runs(text, title=False)] for title, text in stories]
    stats = _Stats()
    for runs in parsed:
        stats.add(runs)
    seqs = [_sequences(runs, stats, stop) for runs in parsed]
    for story in seqs:
        for seq in story:
            if len(seq) == 1 and not seq[0][1]:
                stats.alone[seq[0][0].lower()] += 1
            elif len(seq) > 1:
                stats.inside.update(w.lower() for w, initial in seq if not initial)
    surface: dict[str, Counter[str]] = defaultdict(Counter)
    counts: Counter[str] = Counter()
    for story in seqs:
        counts.update(_story_terms(story, stats, stop, surface))
    kept = {k: c for k, c in counts.items() if c >= max(1, min_stories)}
    phrases = [k for k in kept if " " in k]
    for key in phrases:  # "Trump" (5 stories) makes "Donald Trump" (3) redundant
        parts = [p for p in key.split() if p not in _CONNECTORS]
        if any(counts.get(p, 0) > kept[key] for p in parts):
            del kept[key]
    for key in [k for k in kept if " " in k]:  # "Jeff" only ever in "Jeff Landry"
        for part in key.split():
            if part in kept and kept[part] <= kept[key]:
                del kept[part]

    def display(key: str) -> str:
        forms = surface[key]  # most used spelling; on a tie not the SHOUTED one
        return min(forms, key=lambda f: (-forms[f], f.isupper(), f))

    weight = rarity or (lambda _term: 1.0)
    ranked = sorted(kept.items(), key=lambda kc: (-kc[1] * weight(kc[0]), -kc[1], kc[0]))
    out = [(display(k), c) for k, c in ranked]
    return out[: max(0, limit)]


def idf_rarity(idf: Mapping[str, float], *, unseen: float | None = None) -> Callable[[str], float]:
    """Weight terms by background inverse document frequency (mean over their words).

    Args:
        idf: lower-case word → IDF over a background corpus (e.g. the topic model's).
        unseen: weight of words the background never saw; default its highest IDF.
    """
    top = unseen if unseen is not None else max(idf.values(), default=1.0)

    def rarity(term: str) -> float:
        words = [w for w in term.lower().split() if w not in _CONNECTORS]
        return sum(idf.get(w, top) for w in words) / max(1, len(words))

    return rarity
