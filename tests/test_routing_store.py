"""storage.routing and migration 0005 on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from storage import chats, routing
from storage.engine import make_engine, make_session_factory
from storage.schema import alembic_config, current_revision, ensure_schema, head_revision, upgrade

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GROUP, PRIVATE, CHANNEL = -100500, 4242, -100900


@pytest.fixture
def sessions(migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_url)
    ensure_schema(engine, auto_upgrade=True)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.mark.slow
def test_0005_adds_threads_routes_and_managed_channels_and_gives_them_back(
    database_url: str,
) -> None:
    engine = make_engine(database_url)

    def columns(table: str) -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns(table)}

    upgrade(engine, "0004")
    with engine.begin() as connection:  # a chat from before the upgrade
        connection.execute(sa.text(
            "INSERT INTO chats (id, kind, active, created_at) VALUES (-7, 'group', true, :now)"
        ), {"now": NOW})  # fmt: skip
    ensure_schema(engine, auto_upgrade=True)
    assert current_revision(engine) == head_revision(engine)
    assert {"thread_id", "managing_id"} <= columns("chats")
    assert "threads" in columns("briefings")
    assert {"chat_id", "topic_slug", "thread_id", "active", "error"} <= columns("chat_routes")
    sessions = make_session_factory(engine)
    with sessions() as session:
        chat = chats.chat(session, -7)
        assert chat is not None and (chat.thread_id, chat.managing_id) == (None, None)
    command.downgrade(alembic_config(engine), "0004")
    assert "chat_routes" not in inspect(engine).get_table_names()
    assert "thread_id" not in columns("chats") and "threads" not in columns("briefings")
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM chats")).scalar() == 1
    engine.dispose()


def test_routes_are_set_listed_lost_once_and_removed(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        chats.ensure_chat(session, GROUP, kind="supergroup")
        assert routing.set_default_thread(session, GROUP, 10)
        assert not routing.set_default_thread(session, GROUP, 10)  # unchanged
        assert routing.set_route(session, GROUP, "ai", 11, NOW)
        assert routing.set_route(session, GROUP, "markets", 11, NOW)
        assert routing.set_route(session, GROUP, "world", 12, NOW)
        assert not routing.set_route(session, GROUP, "world", 13, NOW)  # moved, not new
    with sessions() as session:
        plan = routing.routing(session, GROUP)
    assert plan == routing.Routing(10, {"ai": 11, "markets": 11, "world": 13})
    with sessions() as session, session.begin():
        lost = routing.lose_thread(session, GROUP, 11, "Topic_closed", NOW)
        assert (lost.topics, lost.was_default, lost.changed) == (["ai", "markets"], False, True)
        again = routing.lose_thread(session, GROUP, 11, "Topic_closed", NOW)
        assert not again.changed  # whoever meets it again does not tell the group again
        default = routing.lose_thread(session, GROUP, 10, "Message thread not found", NOW)
        assert (default.topics, default.was_default) == ([], True)
    with sessions() as session:
        assert routing.routing(session, GROUP) == routing.Routing(None, {"world": 13})
        rows = {r.topic_slug: (r.active, r.error) for r in routing.routes(session, GROUP)}
    assert rows == {
        "ai": (False, "Topic_closed"),
        "markets": (False, "Topic_closed"),
        "world": (True, None),
    }
    with sessions() as session, session.begin():
        routing.set_route(session, GROUP, "ai", 14, NOW)  # turned back on elsewhere
        assert routing.remove_route(session, GROUP, "markets")
        assert not routing.remove_route(session, GROUP, "markets")
    with sessions() as session:
        assert routing.routing(session, GROUP).routes == {"ai": 14, "world": 13}
        assert routing.routing(session, -1) == routing.Routing()  # an unknown chat


def test_a_private_chat_manages_a_channel_until_told_otherwise(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        assert routing.managing(session, PRIVATE) is None
        chats.ensure_chat(session, CHANNEL, kind="channel", title="Newsroom")
        routing.set_managing(session, PRIVATE, CHANNEL)  # creates the private chat
    with sessions() as session:
        managed = routing.managing(session, PRIVATE)
        assert managed is not None and (managed.id, managed.title) == (CHANNEL, "Newsroom")
    with sessions() as session, session.begin():
        routing.set_managing(session, PRIVATE, None)
    with sessions() as session:
        assert routing.managing(session, PRIVATE) is None
