"""Same-event clustering: the pure score, the index, and ingest linking reports into stories."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import make_settings
from sqlalchemy import select

from bot.app import build_context
from bot.context import AppContext
from briefings.stories.events import (
    EVENT_THRESHOLD,
    EventIndex,
    event_key,
    event_score,
    same_event,
    title_terms,
)
from storage.models import Article
from storage.queries import story_outlets

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
GREENLAND_A = event_key(
    "Trump: US has to have Greenland",
    ["Greenland", "Trump", "Denmark", "Arctic", "national security", "Danish", "NATO"],
    T0,
)
GREENLAND_B = event_key(
    "Trump's new Greenland envoy intends to make territory 'a part of the US'",
    ["Greenland", "Trump", "Denmark", "Arctic", "Landry", "Danish", "NATO"],
    T0 + timedelta(hours=20),
)
BRICS = event_key(
    "Brazil's president tells Trump world does not want 'emperor' after US threatens BRICS tariff",
    ["BRICS", "Trump", "Brazil", "U.S", "tariffs", "Lula"],
    T0,
)
HANGZHOU_A = event_key(
    "The coder ‘village' at the heart of China's AI frenzy",
    ["AI", "China", "Chinese", "Hangzhou", "Alibaba", "DeepSeek", "Liangzhu"],
    T0,
)
HANGZHOU_B = event_key(
    "The city of Hangzhou is one of the most historic and beautiful in China.",
    ["China", "Hangzhou", "AI", "DeepSeek", "America", "city", "tech scene"],
    T0,
)


def test_title_terms_fold_case_plurals_and_possessives() -> None:
    assert title_terms("Trump's envoys say the US tariffs") == {"trump", "envoy", "us", "tariff"}
    assert "us" not in title_terms("Tell us what you think")


def test_reports_of_one_event_are_the_same_event() -> None:
    assert same_event(GREENLAND_A, GREENLAND_B)
    assert same_event(GREENLAND_B, GREENLAND_A)


@pytest.mark.parametrize(
    ("a", "b"),
    [(GREENLAND_A, BRICS), (GREENLAND_B, BRICS), (HANGZHOU_A, HANGZHOU_B), (HANGZHOU_A, BRICS)],
)
def test_different_events_are_not(a: object, b: object) -> None:
    assert not same_event(a, b)  # type: ignore[arg-type]


def test_time_window_separates_events() -> None:
    later = event_key("Trump: US has to have Greenland", ["Greenland"], T0 + timedelta(days=4))
    assert event_score(GREENLAND_B, later) == 0.0
    within = event_key("Trump: US has to have Greenland", ["Greenland"], T0 + timedelta(days=2))
    assert event_score(GREENLAND_A, within) >= EVENT_THRESHOLD


def test_common_words_alone_do_not_make_an_event() -> None:
    a = event_key("Trump says US will act", ["Trump"], T0)
    b = event_key("Trump and US officials meet", ["Trump"], T0)
    assert event_score(a, b) > 0.0
    assert event_score(a, b, common=frozenset({"trump", "us"})) == 0.0


def test_index_finds_the_story_of_a_same_event_report() -> None:
    index = EventIndex()
    index.add(GREENLAND_A, 1)
    index.add(BRICS, 2)
    index.add(HANGZHOU_A, 3)
    assert index.match(GREENLAND_B) == 1
    assert index.match(HANGZHOU_B) is None
    assert len(index) == 3


def test_index_ignores_words_that_are_in_many_headlines() -> None:
    index = EventIndex()
    for i in range(100):
        index.add(event_key(f"Trump US item{i} story{i}", [], T0), i)
    index.add(event_key("Trump US Greenland visit", ["Greenland"], T0), 500)
    # shares only the busy words "trump" and "us" with the first hundred
    assert index.match(event_key("Trump US zzz other thing", [], T0)) is None
    assert index.match(event_key("Greenland visit by Trump US team", ["Greenland"], T0)) == 500


def _dump(records: list[dict[str, str]]) -> bytes:
    return "\n".join(json.dumps(r) for r in records).encode()


REPORT_A = {
    "title": "Floods force thousands from homes in Valencia region",
    "source": "Reuters",
    "published": "2026-11-20T08:00:00+00:00",
    "text": (
        "Torrential rain caused flash floods across the Valencia region on Wednesday, "
        "forcing thousands of residents to leave their homes. Emergency services said "
        "rivers burst their banks overnight. The regional government opened shelters in "
        "schools and sports halls. Spain's weather agency kept its red alert in place."
    ),
}
REPORT_B = {
    "title": "Thousands flee homes as floods hit Valencia region",
    "source": "BBC",
    "published": "2026-11-20T15:00:00+00:00",
    "text": (
        "Rescuers in eastern Spain worked through the night after a month's rain fell in "
        "hours. Residents were evacuated by boat and helicopter in Valencia, officials "
        "said, and the army was deployed to help. Schools stay closed on Thursday while "
        "the clean-up begins and forecasters warn of more storms."
    ),
}
OTHER = {
    "title": "Central bank holds interest rates as inflation eases",
    "source": "BBC",
    "published": "2026-11-20T10:00:00+00:00",
    "text": (
        "The central bank kept its main interest rate unchanged on Thursday, saying "
        "inflation had eased faster than expected. Policymakers voted seven to two. "
        "Markets had expected the decision and the currency barely moved."
    ),
}


def _stories(ctx: AppContext) -> dict[str, int | None]:
    with ctx.sessions() as session:
        return {a.title: a.story_id for a in session.scalars(select(Article))}


def test_ingest_joins_reports_from_different_outlets(database_url: str) -> None:
    ctx = build_context(make_settings(database_url))
    ctx.ingestor.ingest_bytes("a.jsonl", _dump([REPORT_A, OTHER]))
    ctx.ingestor.ingest_bytes("b.jsonl", _dump([REPORT_B]))
    stories = _stories(ctx)
    assert stories[REPORT_A["title"]] == stories[REPORT_B["title"]]
    assert stories[OTHER["title"]] != stories[REPORT_A["title"]]
    with ctx.sessions() as session:
        outlets = story_outlets(session, [stories[REPORT_A["title"]] or 0])
    assert set(next(iter(outlets.values()))) == {"Reuters", "BBC"}


def test_a_fresh_ingestor_finds_stories_stored_earlier(database_url: str) -> None:
    settings = make_settings(database_url)
    build_context(settings).ingestor.ingest_bytes("a.jsonl", _dump([REPORT_A]))
    build_context(settings).ingestor.ingest_bytes("b.jsonl", _dump([REPORT_B]))
    stories = _stories(build_context(settings))
    assert stories[REPORT_A["title"]] == stories[REPORT_B["title"]]


def test_seed_greenland_pieces_are_one_story(seeded_ctx: AppContext) -> None:
    stories = _stories(seeded_ctx)
    greenland = {sid for title, sid in stories.items() if "Greenland" in title}
    assert len(greenland) == 1
    hangzhou = [sid for title, sid in stories.items() if "Hangzhou" in title or "coder" in title]
    assert len(set(hangzhou)) == 2
    assert len(set(stories.values())) == 7
