"""A reproducible synthetic news corpus of N articles built from real articles.

Usage::

    .venv/bin/python benchmarks/corpus.py --n 100000 --out /tmp/briefbot_corpus/n100000
        [--seed 7] [--per-file 1000] [--end 2026-11-22T12:00:00+00:00]

Every synthetic article recombines the title and paragraphs of real articles: the CNN/DM
and BBC development sets in ``../shared/eval/`` and the dumps in ``seeds/``. A base
article (picked at random) gives the title and the opening paragraphs, more paragraphs
come from other articles of the same category, and a few articles are rewrites of an
earlier one by another outlet (so stories have several articles). Titles are made unique
per outlet. Output: JSON Lines files of ``{"title", "text", "source", "published"}``, as
the real ingest reads them. The same seed and N always give the same bytes.

:func:`bulk_load` stores corpus files through ``storage.bulk`` (executemany on SQLite,
COPY on PostgreSQL, indexes and full-text index built once) without the text pipeline,
for the part of a scale test that is not timed as ingest, and
:func:`search_queries` derives a fixed list of realistic queries from the same titles.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from briefings.stories.linking import link_keys  # noqa: E402
from briefings.topics.taxonomy import Taxonomy  # noqa: E402
from storage import documents  # noqa: E402
from storage.bulk import BulkDocument, bulk_insert  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
CNNDM = EVAL / "summaries" / "cnndm_dev.jsonl"
BBC = EVAL / "topics" / "bbc_dev.jsonl"
SEEDS = ROOT / "seeds"
DEFAULT_END = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
OUTLETS = (
    "BBC News", "CNN", "Reuters", "Associated Press", "The Guardian", "Financial Times",
    "Al Jazeera", "The New York Times", "Le Monde", "Deutsche Welle", "NPR", "Bloomberg",
)  # fmt: skip
REWRITE_SHARE = 0.08  # articles that retell an earlier article for another outlet
_SENTENCE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”']))\s+(?=[A-Z\"“])")


@dataclass(frozen=True)
class Base:
    """A real article: its title, paragraphs and category (a pseudo-category for CNN/DM)."""

    title: str
    paragraphs: tuple[str, ...]
    category: str


def _paragraphs_of_run_on(text: str, per: int = 3) -> list[str]:
    """CNN/DM articles are one line: group their sentences into paragraphs of ``per``."""
    text = re.sub(r"^\(CNN\)\s*", "", text.strip())
    sentences = [s.strip() for s in _SENTENCE.split(text) if s.strip()]
    return [" ".join(sentences[i : i + per]) for i in range(0, len(sentences), per)]


def cnndm_title(highlights: str) -> str:
    """The title proxy of a CNN/DM article: the first sentence of its first highlight."""
    first = highlights.strip().split("\n", 1)[0].strip()
    return _SENTENCE.split(first, 1)[0].strip().rstrip(".")


def load_bases(cnndm: Path = CNNDM, bbc: Path = BBC, seeds: Path | None = SEEDS) -> list[Base]:
    """Read the real articles the corpus recombines (deterministic order)."""
    bases: list[Base] = []
    if bbc.exists():
        with bbc.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                paras = [p.strip() for p in row["text"].split("\n") if p.strip()]
                if paras and row.get("title"):
                    bases.append(Base(row["title"].strip(), tuple(paras), row["category"]))
    if cnndm.exists():
        with cnndm.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh):
                row = json.loads(line)
                paras = _paragraphs_of_run_on(row["article"])
                title = cnndm_title(row["highlights"])
                if paras and title:
                    bases.append(Base(title, tuple(paras), f"cnn{n % 8}"))
    if seeds is not None and seeds.is_dir():
        from briefings.text.read import parse_document

        for path in sorted(seeds.iterdir()):
            if path.is_file():
                for art in parse_document(path.name, path.read_bytes()):
                    paras = [p.strip() for p in art.body.split("\n") if p.strip()]
                    if paras:
                        bases.append(Base(art.title, tuple(paras), "seed"))
    if not bases:
        raise SystemExit("no source articles found (looked in ../shared/eval and seeds/)")
    return bases


def generate(
    n: int,
    *,
    seed: int = 7,
    end: datetime = DEFAULT_END,
    days: float = 365,
    bases: list[Base] | None = None,
) -> Iterator[dict[str, str]]:
    """Yield ``n`` synthetic articles, deterministically for a given ``seed``.

    Args:
        n: how many articles.
        seed: RNG seed; same seed, same articles.
        end: the newest publication time; articles spread over the ``days`` before it.
        days: how many days the articles span.
        bases: the real articles to recombine (default: :func:`load_bases`).
    """
    rng = random.Random(seed)
    bases = bases or load_bases()
    by_category: dict[str, list[Base]] = {}
    for base in bases:
        by_category.setdefault(base.category, []).append(base)
    title_words = [base.title.split() for base in bases]
    used: set[tuple[str, str]] = set()
    recent: list[dict[str, str]] = []  # a window of earlier articles to rewrite
    span = days * 24 * 3600
    for i in range(n):
        published = end - timedelta(seconds=int(span * (1 - (i + rng.random()) / n)))
        source = rng.choice(OUTLETS)
        if recent and rng.random() < REWRITE_SHARE:
            original = rng.choice(recent)
            paras = original["text"].split("\n\n")
            if len(paras) > 2:
                paras[rng.randrange(1, len(paras))] = rng.choice(rng.choice(bases).paragraphs)
            title, text = original["title"], "\n\n".join(paras)
            published = datetime.fromisoformat(original["published"]) + timedelta(
                minutes=rng.randint(5, 600)
            )
        else:
            base = rng.choice(bases)
            pool = by_category[base.category]
            paras = list(base.paragraphs[: rng.randint(2, 4)])
            for _ in range(rng.randint(2, 6)):
                paras.append(rng.choice(rng.choice(pool).paragraphs))
            title, text = base.title, "\n\n".join(paras)
        while (source, title.casefold()) in used:  # recombine titles until unique per outlet
            words = title.split()
            other = rng.choice(title_words)
            cut = rng.randint(1, max(1, len(words) - 1))
            title = " ".join(words[:cut] + other[rng.randint(0, max(0, len(other) - 2)) :])
        used.add((source, title.casefold()))
        record = {
            "title": title,
            "text": text,
            "source": source,
            "published": published.isoformat(),
        }
        recent.append(record)
        if len(recent) > 200:
            recent.pop(0)
        yield record


def write_corpus(
    out: Path, n: int, *, seed: int = 7, per_file: int = 1000, end: datetime = DEFAULT_END
) -> list[Path]:
    """Write ``n`` articles as JSON Lines files of ``per_file`` articles under ``out``.

    Returns the files in order; an existing complete corpus (same manifest) is reused.
    """
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / ".manifest.json"
    wanted = {"n": n, "seed": seed, "per_file": per_file, "end": end.isoformat(), "v": 1}
    names = [out / f"part-{k:05d}.jsonl" for k in range((n + per_file - 1) // per_file)]
    reusable = manifest.exists() and json.loads(manifest.read_text()) == wanted
    if reusable and all(path.exists() for path in names):
        return names
    handle = None
    for i, record in enumerate(generate(n, seed=seed, end=end)):
        if i % per_file == 0:
            if handle:
                handle.close()
            handle = names[i // per_file].open("w", encoding="utf-8")
        assert handle is not None
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    if handle:
        handle.close()
    manifest.write_text(json.dumps(wanted))
    return names


def read_corpus(files: list[Path]) -> Iterator[dict[str, str]]:
    """Stream the records of corpus files back, one at a time."""
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


_STOP = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have",
        "in", "is", "it", "its", "of", "on", "or", "the", "to", "was", "were", "with", "after",
        "over", "new", "says", "say", "said", "will", "into", "up", "out", "more", "than", "not",
        "no",
    }
)  # fmt: skip


def search_queries(n: int = 200, *, seed: int = 7) -> list[str]:
    """Return ``n`` realistic search queries, deterministically, from the real titles.

    A mix of names (capitalised words from titles and opening paragraphs, with the word
    after them when that is capitalised too), two- and three-word title fragments, and
    single content words of titles.

    Args:
        n: how many distinct queries.
        seed: RNG seed.
    """
    rng = random.Random(seed * 1000 + 1)
    bases = load_bases()
    out: dict[str, None] = {}
    attempts = 0
    while len(out) < n and attempts < n * 100:
        attempts += 1
        base = rng.choice(bases)
        words = [w.strip(".,:;!?\"'‘’“”()") for w in base.title.split()]
        words = [w for w in words if any(c.isalpha() for c in w)]
        kind = rng.random()
        if kind < 0.35:  # a name: capitalised words from the title or the first paragraph
            opening = [w.strip(".,:;!?\"'‘’“”()") for w in base.paragraphs[0].split()[1:]]
            source = words + [w for w in opening if any(c.isalpha() for c in w)]
            names = [
                i for i, w in enumerate(source) if i and w[:1].isupper() and w.lower() not in _STOP
            ]
            if not names:
                continue
            i = rng.choice(names)
            nxt = source[i + 1] if i + 1 < len(source) else ""
            query = f"{source[i]} {nxt}" if nxt[:1].isupper() else source[i]
        elif kind < 0.8:  # a fragment of a headline
            size = 2 if kind < 0.6 else 3
            content = [w for w in words if w.lower() not in _STOP]
            if len(content) < size:
                continue
            start = rng.randrange(len(content) - size + 1)
            query = " ".join(content[start : start + size]).lower()
        else:  # one content word of a headline
            content = [w.lower() for w in words if w.lower() not in _STOP and len(w) > 3]
            if not content:
                continue
            query = rng.choice(content)
        if len(query) > 2:
            out.setdefault(query, None)
    return list(out)


def bulk_article(
    record: dict[str, str], taxonomy: Taxonomy, topic_cache: dict[str, list[tuple[str, float]]]
) -> documents.NewArticle:
    """A cheap stand-in for the pipeline: first sentences as summary, real topic tagging.

    Topics are the taxonomy's for the first article seen with the same opening paragraph
    (the base article it recombines; rewrites keep it too): the classifier is the slow
    step, and the corpus has only a few thousand distinct bases.
    """
    title, body, source = record["title"], record["text"], record["source"]
    opening = body.split("\n\n", 1)[0]
    topics = topic_cache.get(opening)
    if topics is None:
        topics = topic_cache[opening] = taxonomy.classify(title, body)
    sentences = _SENTENCE.split(opening)
    return documents.NewArticle(
        uid=hashlib.sha256(f"{source.casefold()}|{title.casefold()}".encode()).hexdigest()[:32],
        content_hash=hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
        title=title,
        body=body,
        source=source,
        byline=None,
        published=datetime.fromisoformat(record["published"]),
        dateline=None,
        url=None,
        summary=sentences[:2],
        keyphrases=[],
        language="en",
        minhash=None,
        topics=list(topics),
        link_keys=link_keys(title, None),  # headline terms (no signature: no band keys)
    )


def bulk_documents(taxonomy: Taxonomy, files: list[Path]) -> Iterator[BulkDocument]:
    """Yield one :class:`~storage.bulk.BulkDocument` per corpus file, stories linked.

    A retelling (the same headline within a day of the last article with it) joins that
    article's story; every other article starts a story. Memory stays bounded: only the
    newest 5,000 headlines are remembered.

    Args:
        taxonomy: tags each article (the only pipeline step kept).
        files: corpus files from :func:`write_corpus`.
    """
    stories: OrderedDict[str, tuple[int, datetime]] = OrderedDict()
    topic_cache: dict[str, list[tuple[str, float]]] = {}
    hashes: set[str] = set()
    next_story = 0
    for path in files:
        raw = path.read_bytes()
        articles: list[tuple[documents.NewArticle, int]] = []
        for line in raw.decode().splitlines():
            if not line.strip():
                continue
            new = bulk_article(json.loads(line), taxonomy, topic_cache)
            if new.content_hash in hashes:  # exact duplicates are dropped, as at ingest
                continue
            hashes.add(new.content_hash)
            key = new.title.casefold()
            assert new.published is not None
            known = stories.get(key)
            if known and abs((known[1] - new.published).total_seconds()) < 86_400:
                story = known[0]
            else:
                story, next_story = next_story, next_story + 1
            stories[key] = (story, new.published)
            stories.move_to_end(key)
            if len(stories) > 5000:
                stories.popitem(last=False)
            articles.append((new, story))
        yield BulkDocument(hashlib.sha256(raw).hexdigest(), str(path), raw, articles)


def bulk_load(sessions: sessionmaker[Session], taxonomy: Taxonomy, files: list[Path]) -> int:
    """Store the files' articles with :func:`storage.bulk.bulk_insert`; return how many.

    The store must be migrated (the product's schema); its indexes, FTS and topic counts
    are rebuilt once at the end.

    Args:
        sessions: the store's session factory.
        taxonomy: tags each article.
        files: corpus files from :func:`write_corpus`.
    """
    return bulk_insert(sessions.kw["bind"], bulk_documents(taxonomy, files))


def main(argv: list[str] | None = None) -> int:
    """Build a corpus and print where it went."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of articles")
    parser.add_argument("--out", type=Path, default=None, help="output folder")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-file", type=int, default=1000)
    parser.add_argument("--end", type=datetime.fromisoformat, default=DEFAULT_END)
    args = parser.parse_args(argv)
    out = args.out or Path(f"/tmp/briefbot_corpus/s{args.seed}_n{args.n}")
    files = write_corpus(out, args.n, seed=args.seed, per_file=args.per_file, end=args.end)
    size = sum(path.stat().st_size for path in files)
    print(f"{args.n} articles in {len(files)} files under {out} ({size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
