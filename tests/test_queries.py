"""Read queries and service calls: correct story leads, index use, no N+1 statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from briefings import browse as service
from briefings.topics.taxonomy import load_taxonomy
from storage import documents, queries
from storage.engine import make_engine, make_session_factory
from storage.schema import ensure_schema

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class Store:
    """A migrated store, its engine, and what was put in it."""

    engine: sa.Engine
    sessions: sessionmaker[Session]
    # article uid -> (story number, hours before NOW, topics)
    rows: dict[str, tuple[int, int, list[str]]]

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        """Record every SQL statement executed inside the block."""
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(self.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(self.engine, "before_cursor_execute", record)


def _new(uid: str, hours_ago: int, topics: list[str]) -> documents.NewArticle:
    return documents.NewArticle(
        uid=uid,
        content_hash=f"hash-{uid}",
        title=f"Budget story {uid}",
        body=f"The budget vote {uid} was held. Ministers argued about the budget.",
        source=f"Outlet {uid[-1]}",
        byline=None,
        published=NOW - timedelta(hours=hours_ago),
        dateline=None,
        url=None,
        summary=["The budget vote was held."],
        keyphrases=[],
        language="en",
        minhash=None,
        topics=[(slug, 0.9) for slug in topics],
    )


@pytest.fixture(scope="module")
def store(module_migrated_url: str) -> Iterator[Store]:
    """Read by every test here, never written: 40 stories over 80 days, all "business",
    every 10th also "science", two also "ai" (rare: SQLite sorts it instead of walking the
    time index); every 3rd story has a second, later article from another outlet (not its
    lead)."""
    engine = make_engine(module_migrated_url)
    ensure_schema(engine, auto_upgrade=True)
    sessions = make_session_factory(engine)
    rows: dict[str, tuple[int, int, list[str]]] = {}
    with sessions() as session, session.begin():
        documents.sync_topics(
            session, [("business", "Business"), ("science", "Science"), ("ai", "AI")]
        )
        doc = documents.upsert_document(
            session, content_hash="doc", path="p", raw=b"x", file_time=None
        )
        position = 0
        for n in range(40):
            story = documents.new_story(session).id
            hours = 48 * n + 5
            topics = ["business"] + (["science"] if n % 10 == 0 else [])
            topics += ["ai"] if n in (5, 25) else []
            versions = [(f"s{n}a", hours, topics)]
            if n % 3 == 0:
                versions.append((f"s{n}b", hours - 2, ["business", "science"]))
            for uid, hours_ago, tags in versions:
                documents.store_article(
                    session, doc, _new(uid, hours_ago, tags), position=position, story_id=story
                )
                rows[uid] = (n, hours_ago, tags)
                position += 1
    yield Store(engine, sessions, rows)
    engine.dispose()


def expected_leads(store: Store, topic: str | None = None) -> list[str]:
    """Leads (first article of each story) newest first, computed in Python."""
    leads = [uid for uid in store.rows if uid.endswith("a")]
    if topic:
        leads = [uid for uid in leads if topic in store.rows[uid][2]]
    return sorted(leads, key=lambda uid: store.rows[uid][1])


def uids_of(session: Session, ids: list[int]) -> list[str]:
    found = dict(session.execute(sa.text("SELECT id, uid FROM articles")).tuples().all())
    return [found[i] for i in ids]


@pytest.mark.parametrize("topic", [None, "business", "science", "ai", "nothing"])
def test_latest_pages_through_story_leads_newest_first(store: Store, topic: str | None) -> None:
    wanted = expected_leads(store, topic)
    with store.sessions() as session:
        seen: list[str] = []
        for page in range(10):
            articles = queries.latest_articles(session, topic=topic, limit=7, offset=page * 7)
            seen += [article.uid for article in articles]
            assert all(topic in [t.topic_slug for t in a.topics] for a in articles if topic)
        assert seen == wanted
        assert queries.count_latest(session, topic=topic) == len(wanted)
        since = NOW - timedelta(days=20)
        recent = queries.latest_ids(session, topic=topic, limit=100, since=since)
        assert uids_of(session, recent) == [u for u in wanted if store.rows[u][1] <= 20 * 24]


def test_topic_counts_count_leads_only(store: Store) -> None:
    with store.sessions() as session:
        assert queries.topic_counts(session) == {"business": 40, "science": 4, "ai": 2}
        week = queries.topic_counts(session, since=NOW - timedelta(days=7))
        assert week == {"business": 4, "science": 1}  # stories 0-3; only 0 is science
        assert queries.topic_counts(session, since=NOW) == {}
        assert queries.topics_with_leads(session) == {"business", "science", "ai"}


def test_topics_overview_uses_window_counts(store: Store, tmp_path: Path) -> None:
    extra = tmp_path / "topics.toml"
    extra.write_text("model = false\n")
    taxonomy = load_taxonomy(extra=extra)
    with store.sessions() as session:
        overview = service.topics_overview(session, taxonomy, now=NOW)
    counts = {row.slug: (row.today, row.week) for row in overview.topics}
    assert counts.get("business") == (1, 4)
    assert counts.get("science") == (1, 1)


def test_new_indexes_exist(store: Store) -> None:
    inspector = sa.inspect(store.engine)
    names = {index["name"] for index in inspector.get_indexes("articles")}
    assert {"ix_articles_time_story", "ix_articles_story_lead"} <= names
    assert "ix_subscriptions_chat_created" in {
        index["name"] for index in inspector.get_indexes("subscriptions")
    }
    assert "ix_deliveries_slot" in {index["name"] for index in inspector.get_indexes("deliveries")}


def test_sqlite_latest_plan_reads_indexes_only(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    ensure_schema(engine, auto_upgrade=True)
    with make_session_factory(engine)() as session:
        captured: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *a: captured.append(a[2]), once=False)
        queries.latest_ids(session, limit=6)
        [sql] = [s for s in captured if "ORDER BY" in s]
        plan = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, (6, 0)).all()
    detail = " | ".join(str(row[-1]) for row in plan)
    assert "COVERING INDEX ix_articles_time_story" in detail
    assert "TEMP B-TREE" not in detail
    engine.dispose()


def _statements(store: Store, call: Any) -> int:
    with store.sessions() as session, store.counting() as statements:
        call(session)
    return len(statements)


def test_service_calls_use_a_fixed_number_of_statements(store: Store, tmp_path: Path) -> None:
    """No N+1: the statement count does not grow with the number of results shown."""
    extra = tmp_path / "topics.toml"
    extra.write_text("model = false\n")
    taxonomy = load_taxonomy(extra=extra)
    small = _statements(store, lambda s: service.latest(s, size=1))
    large = _statements(store, lambda s: service.latest(s, size=20))
    assert small == large <= 5
    small = _statements(store, lambda s: service.latest(s, topic="business", size=1))
    large = _statements(store, lambda s: service.latest(s, topic="business", size=20))
    assert small == large <= 6
    small = _statements(store, lambda s: service.search(s, "budget s1a", size=1))
    large = _statements(store, lambda s: service.search(s, "budget", size=20))
    assert small == large <= 6
    assert _statements(store, lambda s: service.topics_overview(s, taxonomy, now=NOW)) <= 5
    page = _statements(store, lambda s: service.search(s, "budget", size=20))
    assert page == large


def test_sqlite_picks_the_cheaper_plan_for_common_and_rare_topics(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    ensure_schema(engine, auto_upgrade=True)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        doc = documents.upsert_document(
            session, content_hash="d", path="p", raw=b"x", file_time=None
        )
        for n in range(300):
            tags = ["common"] + (["rare"] if n % 100 == 0 else [])
            story = documents.new_story(session).id
            documents.store_article(
                session, doc, _new(f"x{n}a", n, tags), position=n, story_id=story
            )
    with sessions() as session:
        assert queries._topic_is_common(session, "common", 6)
        assert not queries._topic_is_common(session, "rare", 6)
        assert not queries._topic_is_common(session, "missing", 6)
        assert len(queries.latest_ids(session, topic="rare", limit=10)) == 3
        assert len(queries.latest_ids(session, topic="common", limit=10)) == 10
    engine.dispose()
