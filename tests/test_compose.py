"""Briefing composition rules on both engines, and message splitting (pure)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakebot import parse_html, utf16_len
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.digest import save_briefing
from bot.render import briefing_messages, briefing_plain, render_html
from briefings.digest.briefing import BriefingEntry, since_phrase, todays_briefing
from briefings.digest.composer import (
    Composer,
    Subscriber,
    compose_briefing,
    compose_many,
)
from briefings.stories.duplicates import content_hash
from briefings.topics.taxonomy import Taxonomy, load_taxonomy
from storage import chats, documents
from storage.engine import make_engine, make_session_factory
from storage.matching import matching_article_ids
from storage.models import Briefing, BriefingStory
from storage.schema import ensure_schema

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy(use_model=False)


@pytest.fixture
def sessions(migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_url)
    ensure_schema(engine, auto_upgrade=True)
    yield make_session_factory(engine)
    engine.dispose()


def add_article(
    session: Session,
    title: str,
    topics: dict[str, float],
    *,
    hours_ago: float = 2.0,
    source: str | None = "Wire",
    story_id: int | None = None,
    body: str = "",
) -> tuple[int, int]:
    """Store one article (its own document, and its own story unless given); return ids."""
    n = next(_ids)
    body = body or f"{title}. First sentence about it number {n}. Second sentence here."
    document = documents.upsert_document(
        session, content_hash=f"{n:064d}", path=f"doc{n}.txt", raw=b"x", file_time=None
    )
    new = documents.NewArticle(
        uid=f"uid{n}",
        content_hash=content_hash(f"{n} {title} {body}"),
        title=title,
        body=body,
        source=source,
        byline=None,
        published=NOW - timedelta(hours=hours_ago),
        dateline=None,
        url=None,
        summary=[f"Summary of {title}."],
        keyphrases=[],
        language="en",
        minhash=None,
        topics=list(topics.items()),
    )
    sid = story_id or documents.new_story(session).id
    article = documents.store_article(session, document, new, position=0, story_id=sid)
    return article.id, sid


def subscribe(session: Session, chat_id: int, *topics: str, follows: tuple[str, ...] = ()) -> None:
    chats.ensure_chat(session, chat_id)
    for slug in topics:
        chats.add_subscription(session, chat_id, chats.TOPIC, slug)
    for query in follows:
        chats.add_subscription(session, chat_id, chats.FOLLOW, query)


def entry_titles(composed: object) -> list[str]:
    return [e.title for _, entries in composed.sections for e in entries]  # type: ignore[attr-defined]


def test_sections_opening_and_entries(sessions: sessionmaker[Session], taxonomy: Taxonomy) -> None:
    with sessions() as session, session.begin():
        add_article(session, "Chip maker unveils AI model", {"ai": 0.9})
        _, sid = add_article(session, "Markets rally on rate cut", {"business": 0.8}, source="FT")
        add_article(
            session,
            "Stocks jump after rate cut",
            {"business": 0.7},
            story_id=sid,
            source="Bloomberg",
        )
        add_article(session, "Old AI news", {"ai": 0.9}, hours_ago=30)
        subscribe(session, 1, "ai", "business")
        composed = compose_briefing(session, chat_id=1, taxonomy=taxonomy, now=NOW)
    assert not composed.empty
    labels = [label for label, _ in composed.sections]
    assert set(labels) == {taxonomy.get("ai").label, taxonomy.get("business").label}  # type: ignore[union-attr]
    assert composed.opening.startswith("2 stories in ")
    assert composed.opening.endswith("since yesterday")
    assert "Old AI news" not in entry_titles(composed)  # outside the 24 h window
    [business] = [e for _, es in composed.sections for e in es if e.story_id == sid]
    assert business.title == "Markets rally on rate cut"  # one entry for the story
    assert business.outlet == "FT" and business.also_in == ("Bloomberg",)
    text = briefing_plain(composed)
    assert "also in: Bloomberg" in text and f"/read_{business.article_id}" in text
    assert "Summary of Markets rally on rate cut." in text


def test_no_story_twice_and_no_repeat_in_a_later_briefing(
    sessions: sessionmaker[Session], taxonomy: Taxonomy
) -> None:
    with sessions() as session, session.begin():
        for i in range(5):
            add_article(session, f"AI and business story {i}", {"ai": 0.8, "business": 0.7})
        subscribe(session, 2, "ai", "business")
        first = compose_briefing(session, chat_id=2, taxonomy=taxonomy, now=NOW, max_stories=3)
        assert len(first.story_ids) == len(set(first.story_ids)) == 3
        save_briefing(session, 2, first, NOW)
    later = NOW + timedelta(hours=1)
    with sessions() as session, session.begin():
        # the same window again: only the two stories not sent yet
        again = compose_briefing(
            session, chat_id=2, taxonomy=taxonomy, now=later, since=NOW - timedelta(days=1)
        )
        assert len(again.story_ids) == 2
        assert not set(again.story_ids) & set(first.story_ids)
        # the default window starts at the previous briefing: only what is newer
        add_article(session, "Fresh AI story", {"ai": 0.9}, hours_ago=-0.5)
        fresh = compose_briefing(session, chat_id=2, taxonomy=taxonomy, now=later)
        assert entry_titles(fresh) == ["Fresh AI story"]
        assert fresh.since == NOW
        save_briefing(session, 2, fresh, later)
        stored = session.scalar(select(func.count()).select_from(BriefingStory))
    assert stored == 4


def test_diversity_across_topics(sessions: sessionmaker[Session], taxonomy: Taxonomy) -> None:
    with sessions() as session, session.begin():
        for i in range(6):
            add_article(session, f"Big AI story {i}", {"ai": 0.95}, hours_ago=1 + i / 10)
        add_article(session, "Small business story", {"business": 0.5}, hours_ago=5)
        add_article(session, "Small climate story", {"climate": 0.5}, hours_ago=5)
        subscribe(session, 3, "ai", "business", "climate")
        composed = compose_briefing(session, chat_id=3, taxonomy=taxonomy, now=NOW, max_stories=4)
    titles = entry_titles(composed)
    assert len(titles) == 4
    assert "Small business story" in titles and "Small climate story" in titles
    assert sum(t.startswith("Big AI") for t in titles) == 2


def test_only_subscribed_topics_and_ranking(
    sessions: sessionmaker[Session], taxonomy: Taxonomy
) -> None:
    with sessions() as session, session.begin():
        add_article(session, "Sport result", {"sport": 0.9})
        add_article(session, "Weak AI mention", {"ai": 0.35}, hours_ago=1)
        add_article(session, "Strong AI story", {"ai": 0.95}, hours_ago=1)
        _, sid = add_article(session, "Widely covered AI story", {"ai": 0.6}, source="A")
        for outlet in "BCDE":
            add_article(
                session, "Widely covered AI story again", {"ai": 0.6}, story_id=sid, source=outlet
            )
        subscribe(session, 4, "ai")
        composed = compose_briefing(session, chat_id=4, taxonomy=taxonomy, now=NOW)
    titles = entry_titles(composed)
    assert "Sport result" not in titles
    assert titles.index("Strong AI story") < titles.index("Weak AI mention")
    assert titles.index("Widely covered AI story") < titles.index("Weak AI mention")


def test_keyword_follow_with_exclusion(sessions: sessionmaker[Session], taxonomy: Taxonomy) -> None:
    with sessions() as session, session.begin():
        add_article(session, "Greenland talks resume", {}, body="Greenland talks resume in Nuuk.")
        add_article(session, "Greenland envoy named", {}, body="An envoy for Greenland is named.")
        add_article(session, "Unrelated story", {}, body="Nothing to see here at all.")
        subscribe(session, 5, follows=("greenland -envoy",))
        composed = compose_briefing(session, chat_id=5, taxonomy=taxonomy, now=NOW)
    assert entry_titles(composed) == ["Greenland talks resume"]
    assert composed.sections[0][0] == "“greenland”"


def test_empty_day_is_one_friendly_line(
    sessions: sessionmaker[Session], taxonomy: Taxonomy
) -> None:
    with sessions() as session, session.begin():
        add_article(session, "Old story", {"ai": 0.9}, hours_ago=48)
        subscribe(session, 6, "ai")
        composed = compose_briefing(session, chat_id=6, taxonomy=taxonomy, now=NOW)
    assert composed.empty and composed.story_ids == []
    [message] = briefing_messages(composed)
    label = taxonomy.get("ai").label  # type: ignore[union-attr]
    assert message.startswith(f"<b>Nothing new in {label} since yesterday")
    assert "/read_" not in message and "\n" not in briefing_plain(composed).strip()


def test_no_subscriptions_means_all_topics_with_a_hint(
    sessions: sessionmaker[Session], taxonomy: Taxonomy
) -> None:
    with sessions() as session, session.begin():
        add_article(session, "Sport result", {"sport": 0.9})
        add_article(session, "Untagged story", {})
        composed = compose_briefing(session, chat_id=7, taxonomy=taxonomy, now=NOW)
    assert set(entry_titles(composed)) == {"Sport result", "Untagged story"}
    assert "/subscribe" in composed.hint
    assert "Other news" in [label for label, _ in composed.sections]


def test_many_subscribers_share_work(sessions: sessionmaker[Session], taxonomy: Taxonomy) -> None:
    with sessions() as session, session.begin():
        for i in range(4):
            add_article(session, f"AI story {i}", {"ai": 0.9})
            add_article(session, f"Business story {i}", {"business": 0.9})
        for chat_id in range(100, 140):
            subscribe(session, chat_id, "ai" if chat_id % 2 else "business")
        first = compose_briefing(session, chat_id=100, taxonomy=taxonomy, now=NOW, max_stories=2)
        save_briefing(session, 100, first, NOW - timedelta(hours=1))
    with sessions() as session:
        composer = Composer(session, taxonomy, NOW, max_stories=2)
        subscribers = [
            Subscriber(cid, ("ai" if cid % 2 else "business",)) for cid in range(101, 140)
        ]
        result = composer.compose_many(subscribers)
        assert len(composer._rankings) == 2  # one ranking per distinct topic set
        many = compose_many(session, range(100, 140), taxonomy=taxonomy, now=NOW, max_stories=2)
    assert result[101].story_ids == result[103].story_ids != result[102].story_ids
    assert many[102].story_ids == result[102].story_ids
    # chat 100 was sent two business stories an hour ago; its window starts there
    assert many[100].empty


def test_todays_briefing_in_local_time(sessions: sessionmaker[Session], taxonomy: Taxonomy) -> None:
    with sessions() as session, session.begin():
        add_article(session, "AI story", {"ai": 0.9})
        subscribe(session, 8, "ai")
        composed = compose_briefing(session, chat_id=8, taxonomy=taxonomy, now=NOW)
        saved = save_briefing(session, 8, composed, NOW)  # 08:00 UTC = 17:00 in Tokyo
        assert saved.messages == briefing_messages(composed)
        tokyo_next_day = NOW + timedelta(hours=8)  # 01:00 next day in Tokyo
        assert todays_briefing(session, 8, now=NOW + timedelta(hours=1)) is not None
        assert todays_briefing(session, 8, now=tokyo_next_day, timezone="Asia/Tokyo") is None
        assert session.scalar(select(func.count()).select_from(Briefing)) == 1


@pytest.mark.parametrize(
    ("since", "zone", "phrase"),
    [
        (NOW - timedelta(hours=24), "UTC", "since yesterday"),
        (NOW - timedelta(hours=2), "UTC", "since 06:00"),
        (NOW - timedelta(hours=2), "Asia/Tokyo", "since 15:00"),
        (NOW - timedelta(hours=7), "America/New_York", "since yesterday"),
        (NOW - timedelta(days=3), "UTC", "since Thursday"),
        (NOW - timedelta(days=10), "UTC", "since 12 Nov"),
    ],
)
def test_since_phrase(since: datetime, zone: str, phrase: str) -> None:
    assert since_phrase(since, NOW, zone) == phrase


# ------------------------------------------------------------------ message splitting
def _entry(i: int, *, size: int = 900, title: str | None = None) -> BriefingEntry:
    summary = ("Tom & Jerry <b>not a tag</b> 🎉 " * 60)[:size]
    return BriefingEntry(
        story_id=i,
        article_id=1000 + i,
        title=title or f"Story {i} about <things> & more",
        outlet="Outlet & Co",
        also_in=("BBC", "CNN <intl>"),
        summary=(summary,),
        sort_time=NOW,
        reports=3,
    )


def _check_messages(messages: list[str], entries: list[BriefingEntry]) -> None:
    seen: list[int] = []
    for message in messages:
        assert utf16_len(message) <= 4096
        plain, _ = parse_html(message)  # valid Telegram HTML: balanced, escaped
        assert utf16_len(plain) <= 4096
        ids = [int(n) for n in re.findall(r"/read_(\d+)", message)]
        seen += ids
        # every entry is whole: its title and its /read_ are in the same message
        for entry in entries:
            if entry.article_id in ids:
                assert f"Story {entry.story_id} " in plain
    assert seen == [e.article_id for e in entries]


def test_many_long_entries_split_between_entries() -> None:
    entries = [_entry(i) for i in range(40)]
    sections = [("AI & tech", entries[:15]), ("World <news>", entries[15:])]
    messages = render_html("40 stories in AI & tech and World since yesterday", sections)
    assert len(messages) > 5
    _check_messages(messages, entries)
    for message in messages:
        # a section header never ends a message: its first entry follows it
        assert not message.rstrip().endswith("</u>")


def test_oversized_entries_are_clipped_to_fit() -> None:
    huge = [_entry(i, size=20_000, title=f"Story {i} " + "&" * 5000) for i in range(3)]
    messages = render_html("3 stories", [("&" * 500, huge)], "hint & more")
    _check_messages(messages, huge)


def test_short_briefing_is_one_message() -> None:
    entries = [_entry(i, size=100) for i in range(3)]
    messages = render_html("3 stories", [("AI", entries)])
    assert len(messages) == 1
    _check_messages(messages, entries)


@pytest.mark.parametrize("text", ['"NEAR( AND *', "-", "🎉 <b>", "a" * 500, "title:x OR y"])
def test_follow_matching_is_safe_on_hostile_text(
    sessions: sessionmaker[Session], text: str
) -> None:
    with sessions() as session, session.begin():
        article_id, _ = add_article(session, "Harmless story", {}, body="Plain words only.")
        assert matching_article_ids(session, text) == []
        assert matching_article_ids(session, "plain words") == [article_id]
        assert matching_article_ids(session, "plain words", min_id=article_id + 1) == []
