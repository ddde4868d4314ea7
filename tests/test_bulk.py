"""The bulk loader leaves the product's schema intact and a store the product can use."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import make_settings

from bot.app import build_context
from bot.cli import main
from storage import documents
from storage.bulk import BulkDocument, bulk_insert
from storage.search import search_articles
from storage.topic_counts import count_leads_live, stored_counts

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WORDS = ["harbour", "glacier", "senate", "tariff", "orchestra", "vaccine", "satellite", "election"]


def _article(n: int) -> documents.NewArticle:
    word = WORDS[n % len(WORDS)]
    title = f"Bulk story {n} about the {word}"
    return documents.NewArticle(
        uid=hashlib.sha256(title.encode()).hexdigest()[:32],
        content_hash=hashlib.sha256(f"{title} body".encode()).hexdigest(),
        title=title,
        body=f"The {word} report number {n}. Officials said the {word} matters.",
        source="Bulk Wire",
        byline=None,
        published=NOW - timedelta(hours=n),
        dateline=None,
        url=None,
        summary=[f"The {word} report number {n}."],
        keyphrases=[],
        language="en",
        minhash=None,
        topics=[("business", 0.8)] + ([("science", 0.5)] if n % 3 == 0 else []),
    )


def _schema(engine: sa.Engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                sa.text("SELECT type, name FROM sqlite_master WHERE sql IS NOT NULL")
            )
        else:
            rows = connection.execute(
                sa.text(
                    "SELECT 'index', indexname FROM pg_indexes WHERE schemaname = current_schema()"
                )
            )
        return {(str(kind), str(name)) for kind, name in rows}


def test_bulk_insert_keeps_the_schema_and_the_store_usable(
    migrated_url: str, tmp_path: Path
) -> None:
    ctx = build_context(make_settings(migrated_url))
    engine = ctx.sessions.kw["bind"]
    before = _schema(engine)
    docs = [
        BulkDocument(
            content_hash=f"doc{d}",
            path=f"part-{d}.jsonl",
            raw=b"raw",
            # two articles per story: the second retells the first
            articles=[(_article(10 * d + k), 5 * d + k // 2) for k in range(10)],
        )
        for d in range(3)
    ]
    assert bulk_insert(engine, docs, batch=7) == 30
    assert _schema(engine) == before
    with ctx.sessions() as session:
        assert session.scalar(sa.text("SELECT count(*) FROM stories")) == 15
        assert session.scalar(sa.text("SELECT count(*) FROM article_topics")) == 40
        hits = search_articles(session, "glacier report", limit=10)
        assert len(hits) == 4  # articles 1, 9, 17, 25
        for since in (None, NOW - timedelta(days=1), NOW - timedelta(hours=7, minutes=30)):
            assert stored_counts(session, since=since) == count_leads_live(session, since=since)
        assert stored_counts(session)["business"] == 15
    # the ordinary ingest path still works on top: ids continue, FTS triggers fire
    dump = tmp_path / "more.jsonl"
    record = {
        "title": "Zeppelin returns to the harbour after a record flight",
        "text": "The zeppelin landed at the harbour on Sunday. Crowds watched it arrive. "
        "Engineers said the flight across the sea broke a record for the class.",
        "source": "Airship Weekly",
        "published": NOW.isoformat(),
    }
    dump.write_text(json.dumps(record) + "\n")
    assert ctx.ingestor.ingest_paths([dump]).stored == 1
    with ctx.sessions() as session:
        [hit] = search_articles(session, "zeppelin")
        assert hit.article_id == 31
        assert stored_counts(session) == count_leads_live(session)
    engine.dispose()


def test_search_cli_reads_a_bulk_loaded_store(
    sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = build_context(make_settings(sqlite_url))
    engine = ctx.sessions.kw["bind"]
    doc = BulkDocument("d", "p", None, [(_article(n), n) for n in range(16)])
    bulk_insert(engine, [doc])
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    capsys.readouterr()
    assert main(["search", "the", "orchestra"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sorted(lines) == [
        "[13] Bulk story 12 about the orchestra — Bulk Wire",
        "[5] Bulk story 4 about the orchestra — Bulk Wire",
    ]
