"""Topic counts kept at write time equal a count from the articles, through every change."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import make_settings
from factories import point_at_fake, say
from fakebot import FakeTelegram
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application

from bot.app import build_application, build_context
from bot.context import AppContext
from briefings import browse as service
from storage import documents
from storage.engine import make_engine, make_session_factory
from storage.models import Article, ArticleTopic, TopicCount
from storage.schema import ensure_schema, upgrade
from storage.topic_counts import (
    apply_pending,
    count_leads_live,
    rebuild_topic_counts,
    stored_counts,
)

NOW = datetime(2026, 6, 1, 12, 30, 15, tzinfo=UTC)  # not on an hour boundary
WINDOWS = [None, NOW - timedelta(days=1), NOW - timedelta(days=7), NOW - timedelta(minutes=50)]


def _new(uid: str, when: datetime, topics: list[str], body: str = "") -> documents.NewArticle:
    return documents.NewArticle(
        uid=uid,
        content_hash=f"hash-{uid}-{body}",
        title=f"Story {uid}",
        body=body or f"Body of {uid}.",
        source="Outlet",
        byline=None,
        published=when,
        dateline=None,
        url=None,
        summary=[],
        keyphrases=[],
        language="en",
        minhash=None,
        topics=[(slug, 0.9) for slug in topics],
    )


@pytest.fixture
def sessions(migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_url)
    ensure_schema(engine, auto_upgrade=True)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        documents.sync_topics(session, [("business", "Business"), ("science", "Science")])
    yield factory
    engine.dispose()


def assert_counts_match(session: Session) -> None:
    """Every window's stored count equals the live count from the articles."""
    for since in WINDOWS:
        assert stored_counts(session, since=since) == count_leads_live(session, since=since)


def _store(
    session: Session, document_hash: str, rows: list[tuple[str, int, list[str], int]]
) -> None:
    doc = documents.upsert_document(
        session, content_hash=document_hash, path=document_hash, raw=b"x", file_time=None
    )
    stories: dict[int, int] = {}
    for position, (uid, minutes_ago, topics, story) in enumerate(rows):
        if story not in stories:
            stories[story] = documents.new_story(session).id
        documents.store_article(
            session,
            doc,
            _new(uid, NOW - timedelta(minutes=minutes_ago), topics),
            position=position,
            story_id=stories[story],
        )


def test_counts_follow_inserts_updates_deletes_and_rollbacks(
    sessions: sessionmaker[Session],
) -> None:
    rows = [  # (uid, minutes before NOW, topics, story)
        ("a", 10, ["business"], 0),
        ("b", 20, ["business", "science"], 0),  # later in the same story: not a lead
        ("c", 70, ["science"], 1),
        ("d", 60 * 30, ["business"], 2),
        ("e", 60 * 24 * 6, ["science"], 3),
        ("f", 60 * 24 * 30, ["business"], 4),
    ]
    with sessions() as session, session.begin():
        _store(session, "doc1", rows)
    with sessions() as session:
        assert_counts_match(session)
        assert stored_counts(session, since=NOW - timedelta(days=1)) == {
            "business": 1,
            "science": 1,
        }
    # the lead goes: the story's next article becomes its lead and is counted instead
    with sessions() as session, session.begin():
        lead = session.scalar(sa.select(Article).where(Article.uid == "a"))
        assert lead is not None
        documents.delete_article(session, lead)
    with sessions() as session:
        assert_counts_match(session)
        assert stored_counts(session, since=NOW - timedelta(hours=1))["science"] == 1
    # re-ingest changes an article's topics and its time, in place
    with sessions() as session, session.begin():
        doc = documents.document_by_hash(session, "doc1")
        existing = session.scalar(sa.select(Article).where(Article.uid == "c"))
        assert doc is not None and existing is not None
        documents.store_article(
            session,
            doc,
            _new("c", NOW - timedelta(days=3), ["business"], body="retold"),
            position=2,
            story_id=existing.story_id or 0,
            existing=existing,
        )
    with sessions() as session:
        assert_counts_match(session)
        day = stored_counts(session, since=NOW - timedelta(days=1))
        assert day == {"business": 1, "science": 1}  # b (the lead now); c moved 3 days back
        week = stored_counts(session, since=NOW - timedelta(days=7))
        assert week == {"business": 3, "science": 2}  # b, c, d, e
    # a rolled-back write leaves the counts as they were
    with sessions() as session:
        before = stored_counts(session)
        _store(session, "doc2", [("g", 5, ["science"], 9)])
        session.flush()
        session.rollback()
    with sessions() as session:
        assert stored_counts(session) == before
        assert_counts_match(session)


def test_rebuild_and_the_migration_fill_the_counts(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0004")  # a store from before the counts existed
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO source_documents (id, content_hash, path, size, "
                "status, article_count, created_at) VALUES (1, 'h', 'p', 0, "
                "'ingested', 3, :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            sa.text("INSERT INTO stories (id, created_at) VALUES (1, :n), (2, :n)"), {"n": NOW}
        )
        for aid, story, minutes in ((1, 1, 30), (2, 1, 5), (3, 2, 90)):
            when = NOW - timedelta(minutes=minutes)
            connection.execute(
                sa.insert(Article.__table__).values(  # type: ignore[arg-type]
                    id=aid,
                    uid=f"u{aid}",
                    document_id=1,
                    story_id=story,
                    position=aid,
                    title="t",
                    body="b",
                    summary=[],
                    keyphrases=[],
                    content_hash=f"c{aid}",
                    created_at=NOW,
                    sort_time=when,
                )
            )
            connection.execute(
                sa.insert(ArticleTopic.__table__).values(  # type: ignore[arg-type]
                    article_id=aid, topic_slug="business" if aid < 3 else "science", score=1.0
                )
            )
    ensure_schema(engine, auto_upgrade=True)
    factory = make_session_factory(engine)
    with factory() as session:
        assert stored_counts(session) == {"business": 1, "science": 1}
        assert_counts_match(session)
        session.execute(sa.delete(TopicCount))
        rebuild_topic_counts(session)
        assert stored_counts(session) == {"business": 1, "science": 1}
        assert_counts_match(session)
    engine.dispose()


@pytest.fixture
async def app(fake_api: FakeTelegram, seeded_ctx: AppContext) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    point_at_fake(seeded_ctx, fake_api)
    application = build_application(seeded_ctx.settings, seeded_ctx)
    async with application:
        yield application


def _topic_line(reply: dict[str, str], label: str) -> tuple[int, int]:
    match = re.search(re.escape(label) + r": (\d+) · (\d+)", reply["plain"])
    assert match, reply["plain"]
    return int(match.group(1)), int(match.group(2))


@pytest.mark.slow
async def test_topics_command_reads_the_counts_kept_at_ingest(
    app: Application,  # type: ignore[type-arg]
    fake_api: FakeTelegram,
    seeded_ctx: AppContext,
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    with seeded_ctx.sessions() as session:
        assert_counts_match(session)
        overview = service.topics_overview(session, seeded_ctx.taxonomy, now=now)
    [before] = await say(app, fake_api, "/topics")
    for row in overview.topics[:3]:
        assert _topic_line(before, row.label) == (row.today, row.week)
    # fresh sport stories published now raise today's count of the topic they are tagged with
    dump = tmp_path / "fresh.jsonl"
    records = [
        {
            "title": f"Striker scores twice as United beat City {n}-1 in the league derby",
            "text": f"The striker scored twice in the second half of match {n}. The goalkeeper "
            "saved a penalty and the manager praised the defence after the league game. "
            "Fans sang in the stadium as the team moved top of the table.",
            "source": f"Sport Desk {n}",
            "published": (now - timedelta(minutes=5 + n)).isoformat(),
        }
        for n in range(3)
    ]
    dump.write_text("".join(json.dumps(r) + "\n" for r in records))
    report = seeded_ctx.ingestor.ingest_paths([dump])
    assert report.stored == 3, report.summary_line()
    with seeded_ctx.sessions() as session:
        assert_counts_match(session)
        live = count_leads_live(session, since=now - timedelta(days=1))
        overview = service.topics_overview(session, seeded_ctx.taxonomy, now=datetime.now(UTC))
    tagged = [row for row in overview.topics if row.slug in live]
    assert tagged, "the fresh stories were tagged with no topic"
    [after] = await say(app, fake_api, "/topics")
    for row in tagged[:3]:
        assert _topic_line(after, row.label) == (row.today, row.week)
        assert row.today == live[row.slug]


def test_bot_context_builds_counts_for_a_fresh_store(sqlite_url: str) -> None:
    ctx = build_context(make_settings(sqlite_url))
    report = ctx.ingestor.ingest_paths([ctx.settings.seeds_dir])
    assert report.stored
    with ctx.sessions() as session:
        assert stored_counts(session)
        assert_counts_match(session)


@pytest.mark.slow
def test_concurrent_writers_on_postgres_both_count(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    ensure_schema(engine, auto_upgrade=True)
    factory = make_session_factory(engine)
    first, second = factory(), factory()
    try:
        _store(first, "doc-a", [("a", 10, ["business"], 0)])
        apply_pending(first)  # recounted, holding the recount lock, not yet committed
        errors: list[BaseException] = []

        def commit_second() -> None:
            try:
                with second.begin():
                    _store(second, "doc-b", [("b", 12, ["business"], 1)])  # the same hour
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=commit_second)
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive()  # waits for the first writer's commit
        first.commit()
        worker.join(timeout=10)
        assert not worker.is_alive() and not errors, errors
    finally:
        first.close()
        second.close()
    with factory() as session:
        assert stored_counts(session) == {"business": 2}
        assert_counts_match(session)
    engine.dispose()
