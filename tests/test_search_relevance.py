"""Judged relevance: human-written CNN/DM highlights find the article they were written for.

A small version of ``benchmarks/relevance.py`` through the real ingest pipeline and a
real store on both engines: leaving stop words out (what /search does) must rank the
known relevant article as well as keeping every word, and each title finds its article.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import make_settings

from bot.app import build_context
from briefings import browse as service
from briefings.text.words import SEARCH_STOP_WORDS
from storage.models import Article
from storage.search import search_articles

# the first 40 articles of ../shared/eval/summaries/cnndm_dev.jsonl, kept with the tests
CNNDM = Path(__file__).resolve().parent / "data" / "cnndm_relevance.jsonl"
ARTICLES = 40


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".")


@pytest.mark.slow
def test_highlights_find_their_article_with_stop_words_left_out(
    database_url: str, tmp_path: Path
) -> None:
    rows = [json.loads(line) for line in CNNDM.read_text().splitlines()[:ARTICLES]]
    records, queries = [], []
    for n, row in enumerate(rows):
        highlights = [h.strip() for h in row["highlights"].split("\n") if h.strip()]
        title = _first_sentence(highlights[0])
        records.append({"title": title, "text": row["article"], "source": f"CNN {n}"})
        queries += [(title, h) for h in highlights[1:3]]
    dump = tmp_path / "cnndm.jsonl"
    dump.write_text("".join(json.dumps(r) + "\n" for r in records))
    ctx = build_context(make_settings(database_url))
    assert ctx.ingestor.ingest_paths([dump]).stored == ARTICLES
    ranks: dict[str, list[int | None]] = {"stop": [], "all": []}
    with ctx.sessions() as session:
        ids = {
            str(source): article_id
            for article_id, source in session.execute(sa.select(Article.id, Article.source))
        }  # source "CNN n" is the n-th record
        by_title = {r["title"]: ids[r["source"]] for r in records}
        titled = sum(
            [v.id for v in service.search(session, r["title"], size=1).items]
            == [by_title[r["title"]]]
            for r in records
        )
        assert titled >= ARTICLES - 1  # the own-title check: each title finds its article
        for title, highlight in queries:
            for label, stop in (("stop", SEARCH_STOP_WORDS), ("all", frozenset[str]())):
                found = [
                    h.article_id
                    for h in search_articles(session, highlight, limit=5, stop_words=stop)
                ]
                wanted = by_title[title]
                ranks[label].append(found.index(wanted) if wanted in found else None)

    def success(label: str) -> float:
        return sum(r is not None for r in ranks[label]) / len(ranks[label])

    def mrr(label: str) -> float:
        return sum(1 / (r + 1) for r in ranks[label] if r is not None) / len(ranks[label])

    assert len(ranks["stop"]) >= 60
    assert success("stop") >= 0.8
    assert success("stop") >= success("all") - 0.02
    assert mrr("stop") >= mrr("all") - 0.02
    ctx.sessions.kw["bind"].dispose()
