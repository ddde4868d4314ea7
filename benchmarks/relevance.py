"""Search relevance figures for ``benchmarks/scale.py`` (not a test: it prints shares).

Two checks on the dev halves of the eval sets, each ingested through the full pipeline
into a store of its own:

* **own title** — each article's title is searched; the share where that article ranks
  first (CNN/DM titles are the first sentence of the first highlight, BBC titles are
  real headlines). Must stay ≥ 99% on BBC.
* **judged (highlights)** — CNN/DM highlights are human-written for their article, so
  the article is the known relevant result for a query made of one of its *other*
  highlights (the second and later ones; the first is the title proxy). Figures:
  success@1, success@5 and MRR@10, with the product's stop-word handling
  (``SEARCH_STOP_WORDS`` left out next to other words) and with every word kept, so a
  ranking change shows up as a difference.

:func:`title_at_scale` runs the own-title check on a large synthetic store, where
titles are not unique (rewrites keep the headline): a hit counts when the first result
has the searched title.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import corpus
import sqlalchemy as sa
from sqlalchemy.orm import Session

from briefings.text.words import SEARCH_STOP_WORDS
from storage.search import search_articles


def eval_sets() -> dict[str, list[dict[str, Any]]]:
    """The CNN/DM and BBC dev articles as ingestable records (CNN/DM with highlights)."""
    return {
        "cnndm": [
            {
                "title": corpus.cnndm_title(r["highlights"]),
                "text": r["article"],
                "source": "CNN",
                "highlights": [h.strip() for h in r["highlights"].split("\n") if h.strip()],
            }
            for r in map(json.loads, corpus.CNNDM.read_text().splitlines())
        ],
        "bbc": [
            {"title": r["title"], "text": r["text"], "source": "BBC News"}
            for r in map(json.loads, corpus.BBC.read_text().splitlines())
        ],
    }


def write_dumps(
    name: str, rows: list[dict[str, Any]], work: Path
) -> tuple[list[Path], dict[str, int]]:
    """Write ``rows`` as JSONL dumps: the n-th article of each headline goes to dump n.

    Within one dump (source, headline) stays unique, which ingest needs. Returns the
    dump paths and how often each headline occurs.
    """
    dumps: list[list[dict[str, Any]]] = []
    occurrences: dict[str, int] = {}
    for row in rows:
        n = occurrences.get(row["title"], 0)
        occurrences[row["title"]] = n + 1
        if n == len(dumps):
            dumps.append([])
        dumps[n].append({k: v for k, v in row.items() if k != "highlights"})
    paths = []
    for n, chunk in enumerate(dumps):
        paths.append(work / f"relevance_{name}_{n}.jsonl")
        paths[-1].write_text("".join(json.dumps(r) + "\n" for r in chunk))
    return paths, occurrences


def _key(title: str) -> str:
    return " ".join(title.casefold().split())


def measure(
    session: Session, name: str, rows: list[dict[str, Any]], occurrences: dict[str, int]
) -> dict[str, float]:
    """Own-title (and, for rows with highlights, judged) figures on an ingested store."""
    by_title: dict[str, set[int]] = {}
    for article_id, title in session.execute(sa.text("SELECT id, title FROM articles")):
        by_title.setdefault(_key(title), set()).add(article_id)
    first = total = 0
    judged: dict[str, list[int | None]] = {"stop": [], "all": []}
    for row in rows:
        wanted = by_title.get(_key(row["title"]))
        if not wanted or len(wanted) > 1 or occurrences[row["title"]] > 1:
            continue  # dropped as a duplicate at ingest, or a shared headline
        total += 1
        hits = search_articles(session, row["title"], limit=1, stop_words=SEARCH_STOP_WORDS)
        first += bool(hits and hits[0].article_id in wanted)
        for highlight in row.get("highlights", [])[1:3]:
            for label, stop in (("stop", SEARCH_STOP_WORDS), ("all", frozenset[str]())):
                found = [
                    h.article_id
                    for h in search_articles(session, highlight, limit=10, stop_words=stop)
                ]
                rank = next((i for i, aid in enumerate(found) if aid in wanted), None)
                judged[label].append(rank)
    out = {name: first / total if total else 0.0, f"{name}_n": float(total)}
    for label, ranks in judged.items():
        if ranks:
            out[f"{name}_judged_{label}_s1"] = sum(r == 0 for r in ranks) / len(ranks)
            out[f"{name}_judged_{label}_s5"] = sum(r is not None and r < 5 for r in ranks) / len(
                ranks
            )
            out[f"{name}_judged_{label}_mrr"] = sum(
                1 / (r + 1) for r in ranks if r is not None
            ) / len(ranks)
            out[f"{name}_judged_n"] = float(len(ranks))
    return out


def title_at_scale(
    sessions: Callable[[], Session], *, sample: int = 200, seed: int = 7
) -> dict[str, float]:
    """Own-title share on a large store: the first hit has the searched title."""
    rng = random.Random(seed)
    with sessions() as session:
        top = int(session.scalar(sa.text("SELECT max(id) FROM articles")) or 0)
        ids = sorted(rng.sample(range(1, top + 1), min(sample, top)))
        titles = dict(
            session.execute(
                sa.text("SELECT id, title FROM articles WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": ids},
            ).all()
        )
        first = {"stop": 0, "all": 0}
        for title in titles.values():
            for label, stop in (("stop", SEARCH_STOP_WORDS), ("all", frozenset[str]())):
                hits = search_articles(session, title, limit=1, stop_words=stop)
                if hits:
                    found = session.scalar(
                        sa.text("SELECT title FROM articles WHERE id = :id"),
                        {"id": hits[0].article_id},
                    )
                    first[label] += _key(str(found)) == _key(title)
    return {
        "title_at_scale": first["stop"] / len(titles) if titles else 0.0,
        "title_at_scale_all_words": first["all"] / len(titles) if titles else 0.0,
        "title_at_scale_n": len(titles),
    }
