"""Topic taxonomy (a user-editable TOML file) and topic tagging of articles.

A topic is recognised by weighted keywords and phrases matched on whole words,
case-insensitively (all-capital keywords such as "US" or "AI" case-sensitively).
For the broad subjects a small linear model trained offline
(``benchmarks/train_topics.py``, shipped as ``data/topic_model.json``) adds its
evidence; topics users add work from their keywords alone.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from briefings.errors import TaxonomyError
from briefings.topics.definitions import (
    Topic,
    TopicModel,
    article_counts,
    load_model,
    lower_tokens,
    plural,
    read_text,
    read_topics,
    token_counts,
    tokenize,
)

__all__ = [
    "Taxonomy",
    "Topic",
    "TopicModel",
    "article_counts",
    "load_taxonomy",
    "token_counts",
    "tokenize",
]

DEFAULT_THRESHOLD = 0.3
MAX_TOPICS = 4  # a story is filed under a few topics at most, the strongest ones
TITLE_WEIGHT = 2.0  # a headline mention counts like two body mentions
SCALE = 6.0  # keyword evidence at which the keyword score reaches 1 - 1/e
PARENT_SHARE = 0.9  # a parent topic gets at least this share of its child's score
DAMP_WORDS = 300.0  # evidence in longer bodies is scaled by sqrt(DAMP_WORDS / words)
DOMINANCE = 0.5  # keyword score *= (evidence / best topic's evidence) ** DOMINANCE


_Tokens = tuple[list[str], list[str]]  # (tokens as written, lower-cased)


@dataclass(frozen=True, eq=False)
class _Entry:
    """A keyword phrase, as tokens, with the topics it points to."""

    tokens: tuple[str, ...]
    targets: tuple[tuple[int, float, int], ...]  # (topic index, weight, keyword id); w < 0: veto


@dataclass(frozen=True, eq=False)
class Taxonomy:
    """A set of topics and the matcher that assigns them to articles.

    Build one with :func:`load_taxonomy`; it is immutable and safe to share.
    """

    topics: tuple[Topic, ...]
    threshold: float = DEFAULT_THRESHOLD
    model: TopicModel | None = None
    _by_slug: dict[str, Topic] = field(init=False, repr=False)
    _lower: dict[str, list[_Entry]] = field(init=False, repr=False)
    _exact: dict[str, list[_Entry]] = field(init=False, repr=False)
    _parents: tuple[int | None, ...] = field(init=False, repr=False)
    _index: dict[str, int] = field(init=False, repr=False)
    _thresholds: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_slug = {t.slug: t for t in self.topics}
        index = {t.slug: i for i, t in enumerate(self.topics)}
        # form -> {topic index: (weight, keyword id)}; a keyword and its plural share an
        # id, so "tariff" and "tariffs" in one story count as one keyword seen twice.
        phrases: dict[tuple[bool, tuple[str, ...]], dict[int, tuple[float, int]]] = {}
        kw_id = 0
        for i, topic in enumerate(self.topics):
            pairs = [(k, w) for k, w in topic.keywords] + [(x, -1.0) for x in topic.exclude]
            for phrase, weight in pairs:
                exact = phrase.isupper()
                toks = tokenize(phrase) if exact else tokenize(phrase.lower())
                if not toks:
                    continue
                kw_id += 1
                for form in {tuple(toks), (*toks[:-1], plural(toks[-1]))}:
                    slot = phrases.setdefault((exact, form), {})
                    old = slot.get(i)
                    if old is None or weight < 0 or (old[0] >= 0 and weight > old[0]):
                        slot[i] = (weight, kw_id)
        lower: dict[str, list[_Entry]] = {}
        exact_d: dict[str, list[_Entry]] = {}
        for (exact, form), targets in phrases.items():
            entry = _Entry(form, tuple(sorted((i, w, k) for i, (w, k) in targets.items())))
            (exact_d if exact else lower).setdefault(form[0], []).append(entry)
        for table in (lower, exact_d):
            for entries in table.values():
                entries.sort(key=lambda e: -len(e.tokens))
        parents = tuple(index.get(t.parent) if t.parent else None for t in self.topics)
        object.__setattr__(self, "_by_slug", by_slug)
        object.__setattr__(self, "_lower", lower)
        object.__setattr__(self, "_exact", exact_d)
        object.__setattr__(self, "_parents", parents)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_thresholds", tuple(self.threshold_of(t) for t in self.topics))

    @property
    def slugs(self) -> tuple[str, ...]:
        """The topic slugs, in taxonomy order."""
        return tuple(t.slug for t in self.topics)

    def get(self, slug: str) -> Topic | None:
        """Return the topic with ``slug``, or None.

        Args:
            slug: a topic slug such as "ai".
        """
        return self._by_slug.get(slug)

    def threshold_of(self, topic: Topic) -> float:
        """The minimum score at which ``topic`` is assigned.

        Its own ``threshold`` when the taxonomy file gives one; else, for a topic the
        model scores, the threshold cross-validated with the model; else the
        taxonomy's ``threshold`` (calibrated for keyword-only scores).

        Args:
            topic: one of this taxonomy's topics.
        """
        if topic.threshold is not None:
            return topic.threshold
        model = self.model
        if model is not None and topic.slug in model.slugs and topic.slug in model.thresholds:
            return model.thresholds[topic.slug]
        return self.threshold

    def __contains__(self, slug: object) -> bool:
        return slug in self._by_slug

    def __len__(self) -> int:
        return len(self.topics)

    def _keyword_evidence(self, title: _Tokens, body: _Tokens, body_len: int) -> list[float]:
        """Return per-topic keyword evidence (>= 0); a vetoed topic gets -1."""
        ev = [0.0] * len(self.topics)
        vetoed: set[int] = set()
        for (raw, low), in_title in ((title, True), (body, False)):
            seen: dict[tuple[int, int], tuple[float, int]] = {}
            for entry, count in self._match(raw, low).items():
                for ti, w, kid in entry.targets:
                    old = seen.get((ti, kid), (w, 0))
                    seen[(ti, kid)] = (max(w, old[0]), old[1] + count)
            for (ti, _kid), (w, count) in seen.items():
                if w < 0:
                    vetoed.add(ti)
                else:  # repeats add little: a story names its subject many times
                    ev[ti] += w * (TITLE_WEIGHT if in_title else 1.0 + math.log(count))
        # Long stories mention everything once; scale evidence down past ~300 words.
        words = max(1, body_len // 6)
        damp = 1.0 / math.sqrt(max(1.0, words / DAMP_WORDS))
        out = [e * damp for e in ev]
        for ti in vetoed:
            out[ti] = -1.0
        return out

    def _match(self, raw: list[str], low: list[str]) -> Counter[_Entry]:
        """Count the keyword phrases in a token list (longest match first, no overlaps)."""
        counts: Counter[_Entry] = Counter()
        exact, lower = self._exact, self._lower
        # Only positions where some phrase starts need a closer look.
        starts = sorted(
            {i for i, t in enumerate(raw) if t in exact}
            | {i for i, t in enumerate(low) if t in lower}
        )
        done = 0  # tokens before this index belong to an earlier match
        for i in starts:
            if i < done:
                continue
            step = 1
            for table, seq in ((exact, raw), (lower, low)):
                for entry in table.get(seq[i], ()):
                    k = len(entry.tokens)
                    if k == 1 or tuple(seq[i : i + k]) == entry.tokens:
                        counts[entry] += 1
                        step = max(step, k)
                        break
            done = i + step
        return counts

    def _model_scores(self, title: list[str], body: list[str]) -> dict[int, float]:
        """Return {topic index: probability} for the topics the model knows."""
        model = self.model
        if model is None:
            return {}
        probs = model.probabilities(token_counts(title, body))
        return {self._index[s]: p for s, p in zip(model.slugs, probs, strict=True) if s in self}

    def scores(self, title: str, body: str) -> list[float]:
        """Return the score (0..1) of every topic, in taxonomy order, unthresholded.

        Args:
            title: the headline.
            body: the story text.
        """
        t_raw, b_raw = tokenize(title), tokenize(body)
        t_low, b_low = lower_tokens(t_raw), lower_tokens(b_raw)
        ev = self._keyword_evidence((t_raw, t_low), (b_raw, b_low), len(body))
        model = self._model_scores(t_low, b_low)
        blend = self.model.blend if self.model else 0.0
        top: dict[str, float] = {}
        for t, e in zip(self.topics, ev, strict=True):
            if not t.catch_all:  # a catch-all (World) overshadows no specific place
                top[t.kind] = max(top.get(t.kind, 0.0), e)
        scores = []
        for i, e in enumerate(ev):
            if e < 0:
                scores.append(-1.0)
                continue
            # Saturate, and let the strongest subject (place) overshadow the subjects
            # (places) merely mentioned.
            best = max(top.get(self.topics[i].kind, 0.0), e if self.topics[i].catch_all else 0.0)
            kw = (1.0 - math.exp(-e / SCALE)) * (e / best) ** DOMINANCE if best > 0 else 0.0
            if i in model:
                kw = (1.0 - blend) * kw + blend * model[i]
            scores.append(kw)
        for i, parent in enumerate(self._parents):
            seen = 0
            while parent is not None and seen < len(self.topics) and scores[i] > 0:
                if self.topics[parent].catch_all:
                    break  # a catch-all stands on its own evidence
                if scores[parent] >= 0:
                    scores[parent] = max(scores[parent], scores[i] * PARENT_SHARE)
                i, parent = parent, self._parents[parent]
                seen += 1
        return [max(0.0, s) for s in scores]

    def classify(self, title: str, body: str) -> list[tuple[str, float]]:
        """Return the topics of an article, best first.

        A topic is assigned when its score reaches its threshold (see
        :meth:`threshold_of`); the parents of an assigned topic come with it, except a
        catch-all parent (World), which is assigned only when no other topic of its
        kind is, or when it outscores them. At most :data:`MAX_TOPICS` are kept.

        Args:
            title: the headline (matches there weigh more than in the body).
            body: the story text.

        Returns:
            (slug, score) pairs with score in 0..1, sorted by score descending, then
            slug. Empty when no topic fits.
        """
        scores = [round(s, 4) for s in self.scores(title, body)]
        topics, thresholds = self.topics, self._thresholds
        passed = {i for i, s in enumerate(scores) if s > 0 and s >= thresholds[i]}
        for i in list(passed):
            parent, hops = self._parents[i], 0
            while parent is not None and hops < len(topics) and not topics[parent].catch_all:
                if scores[parent] > 0:
                    passed.add(parent)
                parent, hops = self._parents[parent], hops + 1
        for i in [i for i in passed if topics[i].catch_all]:
            rivals = [scores[j] for j in passed if j != i and topics[j].kind == topics[i].kind]
            if rivals and max(rivals) > scores[i]:
                passed.discard(i)
        pairs = sorted(((topics[i].slug, scores[i]) for i in passed), key=lambda p: (-p[1], p[0]))
        return pairs[:MAX_TOPICS]


def load_taxonomy(
    path: Path | None = None, *, extra: Path | None = None, use_model: bool = True
) -> Taxonomy:
    """Load and validate a topic taxonomy.

    Args:
        path: TOML taxonomy file; None loads the packaged default.
        extra: optional user TOML file merged on top: its topics are added, a topic
            with an existing slug replaces it, and ``disabled = true`` removes it; its
            ``threshold`` and ``model`` settings override the base file's.
        use_model: also use the packaged linear model for the broad subjects it was
            trained on (business, entertainment, politics, sport, technology).

    Returns:
        The taxonomy.

    Raises:
        TaxonomyError: a file cannot be read or is invalid; the message names the
            file, the line or topic, and what is wrong.
    """
    return _cached_taxonomy(path, extra, use_model, _stamp(path), _stamp(extra))


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """What identifies a version of a file for the cache: (mtime in ns, size)."""
    try:
        stat = path.stat() if path is not None else None
    except OSError:
        return None  # reading it will raise the one-line TaxonomyError
    return None if stat is None else (stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _cached_taxonomy(
    path: Path | None,
    extra: Path | None,
    use_model: bool,
    _path_stamp: tuple[int, int] | None,
    _extra_stamp: tuple[int, int] | None,
) -> Taxonomy:
    """Parse a taxonomy once per version of its files (a Taxonomy is immutable)."""
    text, name = read_text(path)
    topics, settings = read_topics(text, name)
    origin = dict.fromkeys(topics, name)
    if extra is not None:
        etext, ename = read_text(extra)
        more, esettings = read_topics(etext, ename)
        topics.update(more)
        origin.update(dict.fromkeys(more, ename))
        settings.update(esettings)
    kept = {s: t for s, t in topics.items() if t is not None}
    if not kept:
        raise TaxonomyError(f"{name}: the taxonomy defines no topics")
    for topic in kept.values():
        seen = {topic.slug}
        parent = topic.parent
        where = f"{origin[topic.slug]}: topic {topic.slug!r}"
        while parent is not None:
            if parent not in kept:
                raise TaxonomyError(f"{where} has unknown parent {parent!r}")
            if parent in seen:
                raise TaxonomyError(f"{where} has a cycle of parents")
            seen.add(parent)
            parent = kept[parent].parent
    model = load_model() if use_model and settings.get("model", True) else None
    return Taxonomy(
        tuple(kept.values()),
        threshold=settings.get("threshold", DEFAULT_THRESHOLD),
        model=model,
    )
