"""Storage round trips on SQLite and PostgreSQL (the same tests, parametrised by engine)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from factories import new_article
from sqlalchemy import inspect

from storage import chats, documents, queries
from storage.engine import make_engine, make_session_factory, normalise_url
from storage.errors import SchemaOutOfDate
from storage.models import Article, Topic
from storage.rehearsal import rehearsal
from storage.schema import alembic_config, current_revision, ensure_schema, head_revision, upgrade
from storage.search import SearchFilters, search_articles


def _article(uid: str, title: str, body: str, **kw: object) -> documents.NewArticle:
    kw.setdefault("summary", [body.split(".")[0] + "."])
    kw.setdefault("topics", [("ai", 0.9)])
    return new_article(uid, title, body, **kw)


@pytest.fixture
def store(migrated_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(migrated_url)
    ensure_schema(engine, auto_upgrade=True)
    yield make_session_factory(engine)
    engine.dispose()


def test_schema_is_at_head_after_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()


def test_a_store_at_the_released_revision_upgrades_to_head(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0002")  # what the last release created
    ensure_schema(engine, auto_upgrade=True)
    assert current_revision(engine) == head_revision(engine)
    assert "job_runs" in inspect(engine).get_table_names()
    engine.dispose()


def test_a_store_at_0003_gets_briefings_composed_for_and_gives_it_back(database_url: str) -> None:
    engine = make_engine(database_url)

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("briefings")}

    upgrade(engine, "0003")  # what the last release created
    assert "composed_for" not in columns()
    ensure_schema(engine, auto_upgrade=True)
    assert "composed_for" in columns()
    command.downgrade(alembic_config(engine), "0003")
    assert current_revision(engine) == "0003" and "composed_for" not in columns()
    engine.dispose()


def test_old_schema_is_refused_without_auto_upgrade(database_url: str) -> None:
    engine = make_engine(database_url)
    with pytest.raises(SchemaOutOfDate, match="briefbot db upgrade"):
        ensure_schema(engine, auto_upgrade=False)
    engine.dispose()


def test_round_trip_document_article_topics_and_search(store) -> None:  # type: ignore[no-untyped-def]
    published = datetime(2025, 7, 7, 12, 30, tzinfo=UTC)
    with store() as session, session.begin():
        doc = documents.upsert_document(
            session, content_hash="h1", path="dump.txt", raw=b"raw bytes", file_time=None
        )
        story = documents.new_story(session)
        documents.store_article(
            session,
            doc,
            _article(
                "a1",
                "DeepSeek shakes up AI",
                "Hangzhou startup DeepSeek released a model.",
                published=published,
            ),
            position=0,
            story_id=story.id,
        )
        documents.mark_document(session, doc, status="ingested")
    with store() as session:
        [article] = queries.latest_articles(session)
        assert article.title == "DeepSeek shakes up AI"
        assert article.published == published  # aware UTC on both engines
        assert [t.topic_slug for t in article.topics] == ["ai"]
        assert article.summary == ["Hangzhou startup DeepSeek released a model."]
        hits = search_articles(session, "deepseek")
        assert [hit.article_id for hit in hits] == [article.id]
        assert "\ue000" in hits[0].snippet
        assert search_articles(session, 'NEAR( "AND * -') == []
        assert search_articles(session, "deepseek", filters=SearchFilters(topic="sport")) == []
        later = published + timedelta(days=1)
        assert search_articles(session, "deepseek", filters=SearchFilters(since=later)) == []
        assert queries.topic_counts(session) == {"ai": 1}
        stats = queries.store_stats(session)
        assert (stats.documents, stats.articles, stats.stories) == (1, 1, 1)


def test_title_ranks_above_body_mentions(store) -> None:  # type: ignore[no-untyped-def]
    with store() as session, session.begin():
        doc = documents.upsert_document(
            session, content_hash="h", path="p", raw=b"x", file_time=None
        )
        for i, (title, body) in enumerate(
            [
                ("Markets rally", "Investors mentioned Greenland once in passing."),
                ("Greenland envoy named", "The president named an envoy to the island."),
            ]
        ):
            story = documents.new_story(session)
            documents.store_article(
                session, doc, _article(f"u{i}", title, body), position=i, story_id=story.id
            )
    with store() as session:
        hits = search_articles(session, "greenland")
        titles = [session.get_one(Article, hit.article_id).title for hit in hits]
        assert titles[0] == "Greenland envoy named"


def test_chats_and_subscriptions(store) -> None:  # type: ignore[no-untyped-def]
    with store() as session, session.begin():
        chats.ensure_chat(session, -100123, kind="supergroup", title="Team")
        assert chats.add_subscription(session, -100123, chats.TOPIC, "ai")
        assert not chats.add_subscription(session, -100123, chats.TOPIC, "ai")
        assert chats.add_subscription(session, -100123, chats.FOLLOW, "greenland -trump")
    with store() as session, session.begin():
        subs = chats.subscriptions(session, -100123)
        assert [(s.kind, s.key) for s in subs] == [("topic", "ai"), ("follow", "greenland -trump")]
        assert chats.remove_subscriptions(session, -100123, chats.TOPIC) == 1
    with store() as session:
        assert len(chats.subscriptions(session, -100123)) == 1


def test_sqlite_pragmas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'x.sqlite3'}")
    with engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x") == "sqlite:///x"


def test_a_rehearsal_sees_its_own_writes_keeps_none_and_locks_no_writer_out(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    ensure_schema(engine, auto_upgrade=True)
    store = make_session_factory(engine)
    with rehearsal(engine) as sessions:
        with sessions() as session, session.begin():
            session.add(Topic(slug="rehearsed", label="Rehearsed"))
        with pytest.raises(sa.exc.IntegrityError), sessions() as session, session.begin():
            session.add(Topic(slug="rehearsed", label="Again"))  # fails alone...
        with sessions() as session:  # ...and later sessions still see the earlier write
            assert session.get(Topic, "rehearsed") is not None
        with store() as session, session.begin():  # the store takes other writers meanwhile
            session.add(Topic(slug="real", label="Real"))
    with store() as session:
        assert set(session.scalars(sa.select(Topic.slug))) == {"real"}
    engine.dispose()
