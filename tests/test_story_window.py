"""Story linking over STORY_WINDOW_DAYS through the store, not a window of recent articles.

Every ingest below is a separate ``briefbot ingest`` (a fresh worker), so a link can only
come from what the store holds (the ``link_keys`` table), never from a worker's memory.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from conftest import ROOT, SEEDS
from factories import new_article
from sqlalchemy import func, select

from bot.cli import main
from briefings.stories.duplicates import minhash_signature
from briefings.stories.linking import link_keys
from storage.bulk import BulkDocument, bulk_insert
from storage.engine import make_engine
from storage.models import Article, LinkBackfill, LinkKey
from storage.schema import alembic_config

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _cnndm(n: int) -> list[str]:
    with (ROOT / "tests" / "data" / "cnndm_relevance.jsonl").open() as f:
        return [json.loads(line)["article"] for line, _ in zip(f, range(n), strict=False)]


BODIES = _cnndm(3)


def _record(title: str, body: str, source: str, when: datetime) -> dict[str, str]:
    return {"title": title, "text": body, "source": source, "published": when.isoformat()}


def _rewrite(body: str) -> str:
    """Another outlet's copy: the wire text with its last sentences cut and a line added."""
    sentences = body.split(". ")
    kept = sentences[: max(3, len(sentences) * 4 // 5)]
    return ". ".join(kept) + ". Our correspondent adds that more is expected this week."


ORIGINAL = _record("Kidney chain links six strangers", BODIES[0], "CNN", T0)
OTHER = _record("Unrelated report", BODIES[1], "CNN", T0)


def _rereport(days: float) -> dict[str, str]:
    when = T0 + timedelta(days=days)
    return _record("Six lives changed by one donor", _rewrite(BODIES[0]), "Daily Post", when)


def _ingest(
    monkeypatch: pytest.MonkeyPatch, url: str, path: Path, records: list[dict[str, str]]
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["ingest", str(path)]) == 0


def _stories(url: str) -> dict[str, int | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Article.title, Article.story_id)).all()
    finally:
        engine.dispose()
    return {title: story for title, story in rows}


def test_a_rereport_two_days_later_joins_the_story(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    _ingest(monkeypatch, database_url, tmp_path / "day0.jsonl", [ORIGINAL, OTHER])
    later = _rereport(2)
    _ingest(monkeypatch, database_url, tmp_path / "day2.jsonl", [later])
    stories = _stories(database_url)
    assert stories[later["title"]] == stories[ORIGINAL["title"]]
    assert stories[OTHER["title"]] != stories[ORIGINAL["title"]]


@pytest.mark.slow
def test_a_rereport_outside_the_window_is_a_new_story(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    _ingest(monkeypatch, database_url, tmp_path / "day0.jsonl", [ORIGINAL])
    late = _rereport(9)  # the default window is 7 days
    _ingest(monkeypatch, database_url, tmp_path / "day9.jsonl", [late])
    stories = _stories(database_url)
    assert stories[late["title"]] != stories[ORIGINAL["title"]]


def test_the_window_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    narrow, wide = (f"sqlite:///{tmp_path / name}" for name in ("narrow.db", "wide.db"))
    monkeypatch.setenv("STORY_WINDOW_DAYS", "1")
    _ingest(monkeypatch, narrow, tmp_path / "day0.jsonl", [ORIGINAL])
    _ingest(monkeypatch, narrow, tmp_path / "day2.jsonl", [_rereport(2)])
    monkeypatch.setenv("STORY_WINDOW_DAYS", "10")
    _ingest(monkeypatch, wide, tmp_path / "day0.jsonl", [ORIGINAL])
    _ingest(monkeypatch, wide, tmp_path / "day9.jsonl", [_rereport(9)])
    title = _rereport(0)["title"]
    assert _stories(narrow)[title] != _stories(narrow)[ORIGINAL["title"]]
    assert _stories(wide)[title] == _stories(wide)[ORIGINAL["title"]]


@pytest.mark.slow
def test_articles_stored_before_the_link_keys_get_them_and_link(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    _ingest(monkeypatch, database_url, tmp_path / "day0.jsonl", [ORIGINAL, OTHER])
    engine = make_engine(database_url)
    try:
        command.downgrade(alembic_config(engine), "0007")  # a store from before issue 15
    finally:
        engine.dispose()
    later = _rereport(3)
    _ingest(monkeypatch, database_url, tmp_path / "day3.jsonl", [later])  # upgrades it
    stories = _stories(database_url)
    assert stories[later["title"]] == stories[ORIGINAL["title"]]
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            keyed = connection.scalar(select(func.count(func.distinct(LinkKey.article_id))))
            below = connection.scalar(select(LinkBackfill.below))
    finally:
        engine.dispose()
    assert keyed == 3
    assert below == 1


def _filler(n: int) -> BulkDocument:
    body = f"Filler story number {n} about council budget line {n * 7} and roadworks. " * 6
    title = f"Council notes item {n}"
    article = new_article(
        f"filler{n}",
        title,
        body,
        published=T0 + timedelta(minutes=n),
        link_keys=link_keys(title, minhash_signature(title + "\n" + body)),
    )
    return BulkDocument(f"f{n}", f"filler{n}.txt", None, [(article, n)])


@pytest.mark.slow
def test_many_articles_in_between_do_not_hide_the_story(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    # the original first, then 2,500 others (the old index held the newest 2,000), all
    # bulk-loaded: storage/bulk.py writes the link keys too
    _ingest(monkeypatch, database_url, tmp_path / "day0.jsonl", [ORIGINAL])
    engine = make_engine(database_url)
    try:
        assert bulk_insert(engine, (_filler(n) for n in range(2_500))) == 2_500
    finally:
        engine.dispose()
    later = _rereport(2)
    _ingest(monkeypatch, database_url, tmp_path / "day2.jsonl", [later])
    stories = _stories(database_url)
    assert stories[later["title"]] == stories[ORIGINAL["title"]]
