"""Ingest of the seed dumps: splitting, no boilerplate, idempotence, bad files, both engines."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEEDS, make_settings
from sqlalchemy import func, select

from bot.app import build_context
from bot.context import AppContext
from storage.models import Article, SourceDocument

BOILERPLATE = [
    "Continue Reading",
    "Related Articles",
    "DOWNLOAD THE APP",
    "Stills from",
    "Image:",
    "Try Our AI Features",
    "No comments yet",
    "Connect with us",
]


def _articles(ctx: AppContext) -> list[Article]:
    with ctx.sessions() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


def test_seeds_split_into_their_articles(seeded_ctx: AppContext) -> None:
    titles = [a.title for a in _articles(seeded_ctx)]
    assert len(titles) == 8
    joined = "\n".join(titles)
    for expected in [
        "The coder ‘village' at the heart of China's AI frenzy",
        "BRICS",
        "Foxconn feels the China squeeze in India",
        "Spies & shields",
        "Trump: US has to have Greenland",
        "Timing of Russian general",
        "Greenland envoy intends to make territory",
    ]:
        assert expected in joined


def test_bodies_have_no_boilerplate_and_summaries_exist(seeded_ctx: AppContext) -> None:
    for article in _articles(seeded_ctx):
        for line in article.body.splitlines():
            for marker in BOILERPLATE:
                assert marker.lower() not in line.lower(), (article.title, line)
        assert 1 <= len(article.summary) <= 3
        assert all(sentence in article.body for sentence in article.summary)


def test_hangzhou_main_story_is_complete(seeded_ctx: AppContext) -> None:
    [main] = [a for a in _articles(seeded_ctx) if a.title.startswith("The coder")]
    assert main.body.startswith("It was a sunny Saturday afternoon")
    assert main.body.rstrip().endswith("the common way to live your life.'")


def test_greenland_pieces_are_one_story(seeded_ctx: AppContext) -> None:
    greenland = [a for a in _articles(seeded_ctx) if "Greenland" in a.title]
    assert len(greenland) == 2
    assert greenland[0].story_id == greenland[1].story_id


def test_reingest_of_same_files_adds_nothing(seeded_ctx: AppContext) -> None:
    before = [(a.id, a.title) for a in _articles(seeded_ctx)]
    report = seeded_ctx.ingestor.ingest_paths([SEEDS])
    assert report.stored == 0 and report.skipped == 2
    assert [(a.id, a.title) for a in _articles(seeded_ctx)] == before


def test_forced_reingest_keeps_ids(seeded_ctx: AppContext) -> None:
    before = {a.uid: a.id for a in _articles(seeded_ctx)}
    report = seeded_ctx.ingestor.ingest_paths([SEEDS], force=True)
    assert not report.errors
    assert {a.uid: a.id for a in _articles(seeded_ctx)} == before
    seeded_ctx.ingestor.reingest()
    assert {a.uid: a.id for a in _articles(seeded_ctx)} == before


def test_bad_files_are_reported_and_others_ingested(tmp_path: Path, sqlite_url: str) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a_binary.txt").write_bytes(bytes(range(256)) * 50)
    (inbox / "b_empty.txt").write_bytes(b"")
    for seed in SEEDS.iterdir():
        (inbox / seed.name).write_bytes(seed.read_bytes())
    ctx = build_context(make_settings(sqlite_url))
    report = ctx.ingestor.ingest_paths([inbox])
    errors = {Path(r.path).name: r.error for r in report.errors}
    assert set(errors) == {"a_binary.txt", "b_empty.txt"}
    assert all(errors.values())
    assert report.stored == 8
    with ctx.sessions() as session:
        statuses = dict(session.execute(select(SourceDocument.path, SourceDocument.status)).all())
        assert statuses[str(inbox / "a_binary.txt")] == "error"
        assert session.scalar(select(func.count(Article.id))) == 8


@pytest.mark.slow
def test_seeds_ingest_on_postgres(postgres_url: str) -> None:
    ctx = build_context(make_settings(postgres_url))
    report = ctx.ingestor.ingest_paths([SEEDS])
    assert not report.errors and report.stored == 8
    again = ctx.ingestor.ingest_paths([SEEDS])
    assert again.stored == 0
    with ctx.sessions() as session:
        assert session.scalar(select(func.count(Article.id))) == 8


def test_same_title_twice_in_one_dump_stores_both_with_stable_ids(
    tmp_path: Path, sqlite_url: str
) -> None:
    import json

    dump = tmp_path / "live.jsonl"
    rows = [
        {"title": "Live updates", "source": "Wire", "text": "Zebras crossed the river. " * 12},
        {"title": "Live updates", "source": "Wire", "text": "Lions slept in the shade. " * 12},
    ]
    dump.write_text("\n".join(json.dumps(row) for row in rows))
    ctx = build_context(make_settings(sqlite_url))
    first = ctx.ingestor.ingest_paths([dump])
    assert not first.errors and first.stored == 2
    ids = [(a.uid, a.id) for a in _articles(ctx)]
    assert len({uid for uid, _ in ids}) == 2
    ctx.ingestor.ingest_paths([dump], force=True)
    assert [(a.uid, a.id) for a in _articles(ctx)] == ids


def test_identical_article_twice_in_one_dump_is_stored_once(
    tmp_path: Path, sqlite_url: str
) -> None:
    import json

    row = {"title": "Same story", "source": "Wire", "text": "Zebras crossed the river. " * 12}
    other = {"title": "Other story", "source": "Wire", "text": "Lions slept in the sun. " * 12}
    dump = tmp_path / "dup.jsonl"
    dump.write_text("\n".join(json.dumps(r) for r in (row, other, row)))
    ctx = build_context(make_settings(sqlite_url))
    report = ctx.ingestor.ingest_paths([dump])
    assert not report.errors, report.errors
    assert report.stored == 2 and report.duplicates == 1
