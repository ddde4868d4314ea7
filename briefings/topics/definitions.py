"""Topic definitions: the Topic type, word tokens, and reading taxonomy TOML files.

Used by :mod:`briefings.topics.taxonomy`; kept apart so that each module stays small.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from briefings.errors import TaxonomyError

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A word, with inner apostrophes ("don't") but without a possessive "'s" (group 1).
_TOKEN_RE = re.compile(r"(\w+(?:['’](?![sS]\b)\w+)*)(?:['’][sS]\b)?")
_HEADER_RE = re.compile(r"^\s*\[\[\s*topic\s*\]\]", re.MULTILINE)
_MAX_MODEL_TOKENS = 600  # long bodies: the lead says what the story is about


def tokenize(text: str) -> list[str]:
    """Split ``text`` into word tokens, with possessive endings removed.

    Args:
        text: any text.

    Returns:
        The tokens in order, with their original case ("China's" -> "China").
    """
    return _TOKEN_RE.findall(text)


def lower_tokens(tokens: list[str]) -> list[str]:
    """Return ``tokens`` lower-cased (fast path: one ``str.lower`` on the joined text).

    Args:
        tokens: tokens from :func:`tokenize`.
    """
    low = " ".join(tokens).lower().split(" ")
    return low if len(low) == len(tokens) else [t.lower() for t in tokens]


def plural(word: str) -> str:
    """Return the regular English plural of ``word`` (good enough for keywords)."""
    low = word.lower()
    if word.isupper():  # acronyms: "GPUs", "MPs"
        return word if low.endswith("s") else word + "s"
    if low.endswith("y") and len(low) > 2 and low[-2] not in "aeiou":
        return word[:-1] + "ies"
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


@dataclass(frozen=True)
class Topic:
    """One topic of the taxonomy.

    Attributes:
        slug: stable identifier ("ai"), lower-case letters, digits and "-".
        label: human-readable name ("Artificial Intelligence").
        keywords: (phrase, weight) pairs that signal the topic.
        emoji: optional emoji shown next to the label.
        description: optional one-line description.
        parent: slug of a broader topic, or None.
        exclude: phrases that veto the topic for a story.
        kind: "subject" (what a story is about) or "place" (where it happens); a
            story's strongest subject does not overshadow its places, and vice versa.
        threshold: this topic's own minimum score, or None for the calibrated default.
        catch_all: a broad topic (World) that its children do not lift and that is
            assigned only when no other topic of its kind is, or when it scores best.
    """

    slug: str
    label: str
    keywords: tuple[tuple[str, float], ...]
    emoji: str | None = None
    description: str | None = None
    parent: str | None = None
    exclude: tuple[str, ...] = ()
    kind: str = "subject"
    threshold: float | None = None
    catch_all: bool = False

    @property
    def display(self) -> str:
        """The label with its emoji in front, when there is one."""
        return f"{self.emoji} {self.label}" if self.emoji else self.label


def token_counts(title: list[str], body: list[str]) -> Counter[str]:
    """Count the lower-cased word tokens the topic model looks at.

    Args:
        title: the headline's lower-cased tokens; they count twice.
        body: the story's lower-cased tokens; only the first ones are used (the lead
            says what a story is about; long stories wander).

    Returns:
        Token counts, numbers left out.
    """
    counts = Counter(body[:_MAX_MODEL_TOKENS])
    counts.update(title)
    counts.update(title)
    for tok in [t for t in counts if t.isdigit()]:
        del counts[tok]
    return counts


def article_counts(title: str, body: str) -> Counter[str]:
    """Return :func:`token_counts` of an article given as text.

    Args:
        title: the headline.
        body: the story text.
    """
    return token_counts(lower_tokens(tokenize(title)), lower_tokens(tokenize(body)))


@dataclass(frozen=True)
class TopicModel:
    """One-vs-rest linear model over TF-IDF features of the known tokens.

    Attributes:
        slugs: the topics it scores, one output each.
        bias: one intercept per output.
        idf: inverse document frequency of each known token.
        weights: one weight per output for each known token.
        blend: the model's share of the final score of the topics it knows.
        thresholds: per topic, the minimum score chosen by cross-validation
            (``benchmarks/topic_thresholds.py``); topics without one use the taxonomy's.
    """

    slugs: tuple[str, ...]
    bias: tuple[float, ...]
    idf: Mapping[str, float]
    weights: Mapping[str, tuple[float, ...]]
    blend: float
    thresholds: Mapping[str, float] = field(default_factory=dict)
    _rows: dict[str, int] = field(init=False, repr=False, compare=False)
    _matrix: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rows = {t: i for i, t in enumerate(self.weights)}
        matrix = np.array([self.weights[t] for t in rows], dtype=np.float64)
        object.__setattr__(self, "_rows", rows)
        object.__setattr__(self, "_matrix", matrix.reshape(len(rows), len(self.slugs)))

    def features(self, counts: Mapping[str, int]) -> dict[str, float]:
        """Return the unit-length sublinear TF-IDF vector of the known tokens.

        Args:
            counts: token counts from :func:`token_counts`.
        """
        idf = self.idf
        feats = {t: (1.0 + math.log(c)) * idf[t] for t, c in counts.items() if t in idf}
        norm = math.sqrt(sum(v * v for v in feats.values())) or 1.0
        return {t: v / norm for t, v in feats.items()}

    def probabilities(self, counts: Mapping[str, int]) -> list[float]:
        """Return the probability of each of ``slugs`` for an article.

        Args:
            counts: the article's :func:`token_counts`.
        """
        feats = self.features(counts)
        z = np.array(self.bias)
        if feats:
            idx = [self._rows[t] for t in feats]
            z = z + np.fromiter(feats.values(), np.float64, len(feats)) @ self._matrix[idx]
        return [float(p) for p in 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))]


# ---------------------------------------------------------------- reading files

_TOPIC_KEYS = {
    "slug",
    "label",
    "keywords",
    "emoji",
    "description",
    "parent",
    "exclude",
    "kind",
    "disabled",
    "threshold",
    "catch_all",
}
KINDS = ("subject", "place")
_TOP_KEYS = {"threshold", "model", "topic"}


def _default_file() -> Any:
    return resources.files("briefings") / "data" / "topics.toml"


def _parse(text: str, name: str) -> dict[str, Any]:
    """Parse TOML ``text``; syntax errors become TaxonomyError naming file and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{name}: invalid TOML: {exc}") from exc
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise TaxonomyError(
            f"{name}: unknown top-level key(s) {', '.join(unknown)}; "
            f"expected threshold, model and [[topic]] tables"
        )
    return data


def _keywords(raw: Any, where: str) -> tuple[tuple[str, float], ...]:
    """Validate a topic's ``keywords`` (list of phrases or table phrase = weight)."""
    pairs: list[tuple[str, Any]]
    if isinstance(raw, list):
        pairs = [(k, 1.0) for k in raw]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise TaxonomyError(f"{where}: 'keywords' must be a list or a table of phrase = weight")
    out = []
    for phrase, weight in pairs:
        if not isinstance(phrase, str) or not tokenize(phrase):
            raise TaxonomyError(f"{where}: keyword {phrase!r} is not a word or phrase")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise TaxonomyError(
                f"{where}: weight of keyword {phrase!r} must be a number, got {weight!r}"
            )
        if not 0 < weight <= 10:
            raise TaxonomyError(f"{where}: weight of keyword {phrase!r} must be in (0, 10]")
        out.append((phrase, float(weight)))
    if not out:
        raise TaxonomyError(f"{where}: 'keywords' is empty")
    return tuple(out)


def _topic(raw: Any, where: str) -> tuple[Topic | None, str]:
    """Validate one [[topic]] table; returns (topic or None if disabled, slug)."""
    if not isinstance(raw, dict):
        raise TaxonomyError(f"{where}: a topic must be a table")
    slug = raw.get("slug")
    if slug is None:
        raise TaxonomyError(f"{where}: missing 'slug'")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise TaxonomyError(
            f"{where}: bad slug {slug!r}: use lower-case letters, digits and '-' (e.g. 'climate')"
        )
    where = f"{where} ({slug!r})"
    unknown = sorted(set(raw) - _TOPIC_KEYS)
    if unknown:
        raise TaxonomyError(
            f"{where}: unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_TOPIC_KEYS))}"
        )
    if raw.get("disabled") is True:
        return None, slug
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise TaxonomyError(f"{where}: missing 'label'")
    if "keywords" not in raw:
        raise TaxonomyError(f"{where}: missing 'keywords'")
    keywords = _keywords(raw["keywords"], where)
    for key in ("emoji", "description", "parent", "kind"):
        if key in raw and not isinstance(raw[key], str):
            raise TaxonomyError(f"{where}: {key!r} must be a string")
    kind = raw.get("kind", "subject")
    if kind not in KINDS:
        raise TaxonomyError(f"{where}: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    exclude = raw.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
        raise TaxonomyError(f"{where}: 'exclude' must be a list of phrases")
    threshold = raw.get("threshold")
    if threshold is not None and not _is_share(threshold):
        raise TaxonomyError(f"{where}: 'threshold' must be a number between 0 and 1")
    if not isinstance(raw.get("catch_all", False), bool):
        raise TaxonomyError(f"{where}: 'catch_all' must be true or false")
    topic = Topic(
        slug=slug,
        label=label.strip(),
        keywords=keywords,
        emoji=raw.get("emoji") or None,
        description=raw.get("description") or None,
        parent=raw.get("parent") or None,
        exclude=tuple(exclude),
        kind=kind,
        threshold=None if threshold is None else float(threshold),
        catch_all=raw.get("catch_all", False),
    )
    return topic, slug


def _is_share(value: Any) -> bool:
    """A number in 0..1 (not a bool)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and 0 <= value <= 1


def read_topics(text: str, name: str) -> tuple[dict[str, Topic | None], dict[str, Any]]:
    """Parse one taxonomy file into {slug: topic or None (disabled)} and its settings.

    Args:
        text: the TOML text.
        name: the file name used in error messages.

    Raises:
        TaxonomyError: syntax error (with its line), or an invalid topic (with the
            line of its ``[[topic]]`` header and what is wrong).
    """
    data = _parse(text, name)
    raw_topics = data.get("topic", [])
    if not isinstance(raw_topics, list):
        raise TaxonomyError(f"{name}: 'topic' must be an array of tables ([[topic]])")
    lines = [text.count("\n", 0, m.start()) + 1 for m in _HEADER_RE.finditer(text)]
    out: dict[str, Topic | None] = {}
    for n, raw in enumerate(raw_topics):
        line = f", line {lines[n]}" if n < len(lines) else ""
        where = f"{name}: topic #{n + 1}{line}"
        topic, slug = _topic(raw, where)
        if slug in out:
            raise TaxonomyError(f"{where}: duplicate slug {slug!r}")
        out[slug] = topic
    settings: dict[str, Any] = {}
    if "threshold" in data:
        thr = data["threshold"]
        if not _is_share(thr):
            raise TaxonomyError(f"{name}: 'threshold' must be a number between 0 and 1")
        settings["threshold"] = float(thr)
    if "model" in data:
        if not isinstance(data["model"], bool):
            raise TaxonomyError(f"{name}: 'model' must be true or false")
        settings["model"] = data["model"]
    return out, settings


@cache
def load_model() -> TopicModel | None:
    """Load the packaged topic model (once a process), or None when it is not shipped."""
    res = resources.files("briefings") / "data" / "topic_model.json"
    try:
        data = json.loads(res.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    rows = data["tokens"]  # token -> [idf, weight per slug...]
    return TopicModel(
        slugs=tuple(data["slugs"]),
        bias=tuple(float(b) for b in data["bias"]),
        idf={t: float(r[0]) for t, r in rows.items()},
        weights={t: tuple(float(w) for w in r[1:]) for t, r in rows.items()},
        blend=float(data.get("blend", 0.5)),
        thresholds={s: float(t) for s, t in data.get("thresholds", {}).items()},
    )


def read_text(path: Path | None) -> tuple[str, str]:
    """Return (text, name for messages) of a taxonomy file; None: the packaged default.

    Args:
        path: the TOML file, or None.

    Raises:
        TaxonomyError: the file cannot be read or is not UTF-8.
    """
    if path is None:
        res = _default_file()
        return res.read_text(encoding="utf-8"), "topics.toml (default)"
    try:
        return Path(path).read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{path}: taxonomy is not UTF-8 text") from exc
