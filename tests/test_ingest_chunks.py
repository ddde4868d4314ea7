"""A large document is stored in short transactions (briefings/storing.py), yet whole.

Every ingest goes through ``briefbot ingest`` (``bot.cli.main``, or a subprocess for the
crash), with chunks made small (``CHUNK_ARTICLES``) so one document spans several of them,
and the store is read back: each article once, stories linked across chunks as within one,
no half article after an error or a crash, and the next ingest completes the document.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SEEDS
from sqlalchemy import func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from bot.cli import main
from briefings import storing
from storage import documents
from storage.engine import make_engine
from storage.models import Article, LinkKey, SourceDocument
from storage.search import search_articles

PATH = "dump.jsonl"


def _bodies(n: int) -> list[str]:
    with (ROOT / "tests" / "data" / "cnndm_relevance.jsonl").open() as f:
        return [json.loads(line)["article"] for line, _ in zip(f, range(n), strict=False)]


def _rewrite(body: str) -> str:
    """Another outlet's copy: the wire text with its last sentences cut and a line added."""
    sentences = body.split(". ")
    kept = sentences[: max(3, len(sentences) * 4 // 5)]
    return ". ".join(kept) + ". Our correspondent adds that more is expected this week."


def _records() -> list[dict[str, str]]:
    """Seven reports, two later rewrites of them, an exact repeat, a title used twice."""
    bodies = _bodies(8)
    records = [
        {"title": TITLES[i], "text": bodies[i], "source": "CNN",
         "published": f"2026-11-02T0{i}:00:00+00:00"}
        for i in range(7)
    ]  # fmt: skip
    rewrite = {"source": "Daily Post", "published": "2026-11-02T09:30:00+00:00"}
    return [
        *records,
        {**records[1], **rewrite, "title": "Rewrite of one", "text": _rewrite(bodies[1])},
        {**records[2]},  # the same article again: a duplicate
        {**records[5], **rewrite, "title": "Rewrite of five", "text": _rewrite(bodies[5])},
        {**records[3], "text": bodies[7]},  # same outlet and title, another article
    ]


TITLES = [
    "Kidney chain links strangers", "Harbour cranes idle", "Orchard frost warning",
    "Violin maker retires", "Glacier survey published", "Tram fares frozen", "Beekeepers rally",
]  # fmt: skip


STORED = 10  # every record but the repeat


@pytest.fixture
def dump(tmp_path: Path) -> Path:
    path = tmp_path / PATH
    path.write_text("".join(json.dumps(r) + "\n" for r in _records()))
    return path


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storing, "CHUNK_ARTICLES", 2)


def _env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)


@pytest.fixture
def store(database_url: str) -> Iterator[Any]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _articles(engine: Any) -> list[tuple[int, str, str, int | None, str]]:
    """(id, uid, title, story, content hash) of the dump's articles, by position."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Article.id, Article.uid, Article.title, Article.story_id, Article.content_hash)
            .join(SourceDocument)
            .where(SourceDocument.path.endswith(PATH))
            .order_by(Article.position)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _document(engine: Any) -> tuple[str, int]:
    with engine.connect() as connection:
        status, count = connection.execute(
            select(SourceDocument.status, SourceDocument.article_count).where(
                SourceDocument.path.endswith(PATH)
            )
        ).one()
        return status, count


def _stories(rows: list[tuple[int, str, str, int | None, str]]) -> set[frozenset[str]]:
    """The dump's articles grouped by story, by uid (story ids differ between stores)."""
    groups: dict[int | None, set[str]] = {}
    for _, uid, _, story, _ in rows:
        groups.setdefault(story, set()).add(uid)
    return {frozenset(group) for group in groups.values()}


def _whole(engine: Any, rows: list[tuple[int, str, str, int | None, str]]) -> None:
    """Every article has its link keys and is found by a search for its title."""
    with engine.connect() as connection:
        keyed = connection.scalar(
            select(func.count(func.distinct(LinkKey.article_id))).where(
                LinkKey.article_id.in_([row[0] for row in rows])
            )
        )
        assert keyed == len(rows)
        orphans = connection.scalar(
            select(func.count())
            .select_from(LinkKey)
            .where(LinkKey.article_id.not_in(select(Article.id)))
        )
        assert orphans == 0
    with Session(engine) as session:
        for article_id, _, title, _, _ in rows:
            assert article_id in {
                hit.article_id for hit in search_articles(session, title, limit=20)
            }


def _reference(tmp_path: Path, dump: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The dump ingested in one chunk into a store of its own (SQLite)."""
    url = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    _env(monkeypatch, url)
    with monkeypatch.context() as patch:
        patch.setattr(storing, "CHUNK_ARTICLES", 10_000)
        patch.setattr(storing, "CHUNK_SECONDS", 3600.0)
        assert main(["ingest", str(dump)]) == 0
    engine = make_engine(url)
    try:
        return _articles(engine)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_a_document_over_several_chunks_is_stored_as_in_one(
    monkeypatch: pytest.MonkeyPatch, database_url: str, store: Any, dump: Path, tmp_path: Path
) -> None:
    reference = _reference(tmp_path, dump, monkeypatch)
    _env(monkeypatch, database_url)
    monkeypatch.setattr(storing, "CHUNK_ARTICLES", 2)
    assert main(["ingest", str(dump)]) == 0
    rows = _articles(store)
    assert len(rows) == STORED and len({row[4] for row in rows}) == STORED
    assert [row[1:3] for row in rows] == [row[1:3] for row in reference]  # same uids
    assert _stories(rows) == _stories(reference)
    by_title = {title: story for _, _, title, story, _ in rows}
    assert by_title["Rewrite of one"] == by_title[TITLES[1]]  # linked across chunks
    assert by_title["Rewrite of five"] == by_title[TITLES[5]]
    twins = [uid for _, uid, title, _, _ in rows if title == TITLES[3]]
    assert len(set(twins)) == 2  # same outlet and title, two articles: two uids
    assert _document(store) == ("ingested", STORED)
    _whole(store, rows)
    assert main(["ingest", "--force", str(dump)]) == 0  # re-stored in place, chunk by chunk
    assert _articles(store) == rows


@pytest.mark.slow
def test_an_error_in_a_later_chunk_leaves_no_article_and_the_next_ingest_completes(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    store: Any,
    dump: Path,
    small_chunks: None,
) -> None:
    store_article, calls = documents.store_article, []

    def failing(session: Any, document: Any, new: Any, **kw: Any) -> Any:
        calls.append(new.title)
        if len(calls) == 6:  # the third chunk, after two were committed
            raise DataError("INSERT INTO articles", {}, ValueError("value refused by the store"))
        return store_article(session, document, new, **kw)

    _env(monkeypatch, database_url)
    with monkeypatch.context() as patch:
        patch.setattr(documents, "store_article", failing)
        main(["ingest", str(dump)])
    assert "could not store: ValueError: value refused by the store" in capsys.readouterr().out
    assert _articles(store) == []  # the first chunks' articles were taken back
    assert _document(store)[0] == "error"
    assert main(["ingest", str(dump)]) == 0
    rows = _articles(store)
    assert len(rows) == STORED and len({row[4] for row in rows}) == STORED
    assert _document(store) == ("ingested", STORED)
    _whole(store, rows)


CRASH = """
import os, sys
from briefings import storing
from storage import documents
from bot.cli import main
storing.CHUNK_ARTICLES = 2
real, calls = documents.store_article, []
def crashing(*args, **kwargs):
    calls.append(1)
    if len(calls) == 6:  # in the third chunk, after two were committed
        os._exit(9)
    return real(*args, **kwargs)
documents.store_article = crashing
sys.exit(main(["ingest", sys.argv[1]]))
"""


@pytest.mark.slow
def test_a_crash_mid_document_is_completed_by_the_next_ingest(
    monkeypatch: pytest.MonkeyPatch, database_url: str, store: Any, dump: Path, tmp_path: Path
) -> None:
    _env(monkeypatch, database_url)
    assert main(["ingest", str(SEEDS)]) == 0  # the seeds first: the crash is in the dump
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, str(dump)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert crashed.returncode == 9, crashed.stderr
    before = _articles(store)
    assert len(before) in (4, 5)  # the chunks before the crash (of at most two), each whole
    _whole(store, before)
    assert _document(store)[0] == "pending"  # not done: the next ingest does not skip it
    assert main(["ingest", str(dump)]) == 0
    rows = _articles(store)
    assert len(rows) == STORED and len({row[4] for row in rows}) == STORED
    assert rows[: len(before)] == before  # updated in place: same ids, uids and stories
    assert _document(store) == ("ingested", STORED)
    _whole(store, rows)


@pytest.mark.slow
def test_another_writer_gets_in_while_a_long_document_is_stored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Storing takes seconds (each article slowed down); a writer with a 1 s busy timeout,
    writing meanwhile, never fails with ``database is locked``."""
    database = tmp_path / "store.sqlite3"
    _env(monkeypatch, f"sqlite:///{database}")
    assert main(["ingest", str(SEEDS)]) == 0
    bodies = _bodies(40)
    dump = tmp_path / PATH
    dump.write_text(
        "".join(
            json.dumps({"title": f"Report {i}", "text": b}) + "\n" for i, b in enumerate(bodies)
        )
    )
    store_article, started = documents.store_article, threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        time.sleep(0.05)  # 40 articles: 2 s of storing, longer than the writer waits
        return store_article(*args, **kwargs)

    monkeypatch.setattr(documents, "store_article", slow)
    outcome: list[int] = []
    ingest = threading.Thread(target=lambda: outcome.append(main(["ingest", str(dump)])))
    ingest.start()
    assert started.wait(120)
    writer = sqlite3.connect(database, timeout=1.0, isolation_level=None)
    writes = 0
    try:
        while ingest.is_alive():
            writer.execute("BEGIN IMMEDIATE")  # takes the write lock, or fails after 1 s
            writer.execute("UPDATE topics SET label = label")
            writer.execute("COMMIT")
            writes += 1
            time.sleep(0.05)
    finally:
        writer.close()
        ingest.join(120)
    assert outcome == [0] and writes >= 10
    engine = make_engine(f"sqlite:///{database}")
    try:
        stored = _articles(engine)
    finally:
        engine.dispose()
    assert len(stored) == len(bodies)
