"""Full-text search: query escaping, ranking, filters and pagination on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from factories import new_article
from sqlalchemy.orm import Session, sessionmaker

from briefings.text.words import SEARCH_STOP_WORDS
from storage import documents
from storage import search as search_module
from storage.engine import make_engine, make_session_factory
from storage.models import Article
from storage.schema import ensure_schema
from storage.search import (
    MARK_END,
    MARK_START,
    MAX_TERM_LENGTH,
    MAX_TERMS,
    SearchFilters,
    SearchHit,
    fts5_match,
    like_pattern,
    query_terms,
    search_articles,
    tsquery,
)

BASE_TIME = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

HOSTILE = [
    '"',
    '""',
    "'",
    "''",
    "\"unbalanced 'quotes",
    "AND",
    "OR",
    "NOT",
    "a AND b OR c NOT d",
    "NEAR(",
    "NEAR(a b, 2)",
    "NEAR/3",
    "*",
    "deep*",
    "^greenland",
    "title:greenland",
    "body:x OR title:y",
    "{title body}: greenland",
    "-greenland",
    "+greenland",
    "(",
    ")",
    "((a) OR (b",
    "a & b | !c",
    "a <-> b",
    "greenland:*",
    "greenland:A",
    "\\",
    "\\' OR 1=1 --",
    "'; DROP TABLE articles; --",
    "%",
    "_",
    "🇬🇱🔥 greenland 🔥",
    "🔥",
    "\x00",
    "green\x00land",
    "\x00' OR '\x00",
    "x" * 10_000,
    "word " * 5_000,
    "!!! ??? ... ,,, ;;; ---",
    "…—–«»“”‘’",
    "غرينلاند الدنمارك",
    "‏שלום‎ עולם",
    "cafe\u0301 re\u0301sume\u0301",
    "e\u0301\u0301\u0301\u0301",
    "\u200b\u200d\ufeff",
    "\ue000greenland\ue001",
    "Ｇｒｅｅｎｌａｎｄ",
    "ǅ ß ﬁ",
    "北京 人工智能",
    "x²³ ⅷ",
    "_under_score_",
    "",
    "   \t\n  ",
]


_article = new_article


def add_articles(sessions: sessionmaker[Session], articles: list[documents.NewArticle]) -> None:
    """Store ``articles`` in one document, each its own story."""
    with sessions() as session, session.begin():
        doc = documents.upsert_document(
            session, content_hash=f"doc-{articles[0].uid}", path="p", raw=b"x", file_time=None
        )
        for position, new in enumerate(articles):
            story = documents.new_story(session)
            documents.store_article(session, doc, new, position=position, story_id=story.id)


@pytest.fixture
def store(migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_url)
    ensure_schema(engine, auto_upgrade=True)
    yield make_session_factory(engine)
    engine.dispose()


def uids(session: Session, hits: list[SearchHit]) -> list[str]:
    by_id = {a.id: a.uid for a in session.scalars(sa.select(Article))}
    return [by_id[hit.article_id] for hit in hits]


# --- the pure escaping functions -----------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_query_terms_keep_only_bounded_word_tokens(text: str) -> None:
    terms = query_terms(text)
    assert len(terms) <= MAX_TERMS
    assert len(set(terms)) == len(terms)
    for term in terms:
        assert 0 < len(term) <= MAX_TERM_LENGTH
        assert re.fullmatch(r"\w+", term), term
        assert term == term.casefold()
        assert not term.startswith("_") and not term.endswith("_")


@pytest.mark.parametrize("text", HOSTILE)
def test_fts5_match_is_valid_fts5_for_any_input(text: str) -> None:
    terms = query_terms(text)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(title, body, tokenize='porter unicode61')")
    db.execute("INSERT INTO f VALUES ('Greenland envoy', 'AND OR NOT NEAR title body x')")
    for any_term in (False, True):
        expression = fts5_match(terms, any_term=any_term)
        if expression:
            db.execute("SELECT rowid FROM f WHERE f MATCH ?", (expression,)).fetchall()
    db.close()


def test_fts5_operators_in_user_text_are_plain_words() -> None:
    assert (
        fts5_match(query_terms("greenland AND NOT trump"))
        == '"greenland" AND "and" AND "not" AND "trump"'
    )
    assert fts5_match(query_terms("title:x NEAR(y*")) == '"title" AND "x" AND "near" AND "y"'
    assert fts5_match(['a"b'], any_term=True) == '"a""b"'
    assert fts5_match(["a", "b"], any_term=True) == '"a" OR "b"'


def test_tsquery_quotes_every_lexeme() -> None:
    assert tsquery(["greenland", "envoy"]) == "'greenland' & 'envoy'"
    assert tsquery(["a", "b"], any_term=True) == "'a' | 'b'"
    assert tsquery(["it's", "x\\y", "\x00"]) == "'it''s' & 'xy'"
    assert tsquery([]) == ""


def test_query_terms_normalise_unicode_and_limit_size() -> None:
    assert query_terms("Café CAFE\u0301 café") == ["café"]
    assert query_terms("Ｇｒｅｅｎｌａｎｄ") == ["greenland"]
    assert query_terms("Straße") == ["strasse"]
    assert query_terms("x" * 10_000) == ["x" * MAX_TERM_LENGTH]
    assert len(query_terms(" ".join(f"w{i}" for i in range(100)))) == MAX_TERMS
    assert query_terms("🔥 !!! ...") == []
    assert query_terms("__init__ snake_case") == ["init", "snake_case"]


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


# --- behaviour on both engines ---------------------------------------------------------


def test_hostile_inputs_never_raise_on_either_engine(store: sessionmaker[Session]) -> None:
    add_articles(
        store,
        [
            _article("g", "Greenland envoy named", "AND OR NOT NEAR title body café"),
            _article("h", "Other news", "Nothing to see: 50% off_sale \\ backslash"),
        ],
    )
    with store() as session:
        for text in HOSTILE:
            for page in (0, 1):
                hits = search_articles(session, text, limit=3, offset=page * 3)
                assert all(isinstance(hit, SearchHit) for hit in hits)
        for source in ("%", "_", "\\", "'", '"', "\x00x"[1:], "50%"):
            search_articles(session, "nothing", filters=SearchFilters(source=source))
        assert uids(session, search_articles(session, "title:greenland NEAR(")) == ["g"]
        assert uids(session, search_articles(session, "CAFE\u0301")) == ["g"]
        example = SearchFilters(source="example")
        assert uids(session, search_articles(session, "nothing", filters=example)) == ["h"]
        assert search_articles(session, "nothing", filters=SearchFilters(source="%")) == []


def test_title_match_ranks_above_body_match(store: sessionmaker[Session]) -> None:
    filler = " ".join(["The council met on Tuesday to discuss the budget."] * 3)
    add_articles(
        store,
        [
            _article("body1", "Markets rally", f"{filler} Investors mentioned Greenland once."),
            _article("title", "Greenland envoy named", f"{filler} The island got an envoy."),
            _article("body2", "Budget talks", f"Greenland, Greenland and Greenland. {filler}"),
            _article("none", "Weather", filler),
        ],
    )
    with store() as session:
        hits = search_articles(session, "greenland", limit=10)
        ranked = uids(session, hits)
        assert ranked[0] == "title"
        assert set(ranked) == {"title", "body1", "body2"}
        assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
        # stemming on both engines: "envoys" finds "envoy"
        assert uids(session, search_articles(session, "envoys"))[0] == "title"


def test_all_words_first_then_any_word_fallback(store: sessionmaker[Session]) -> None:
    add_articles(
        store,
        [
            _article("both", "Greenland envoy", "The envoy arrived."),
            _article("one", "Greenland ice", "Ice sheet melting."),
        ],
    )
    with store() as session:
        assert uids(session, search_articles(session, "greenland envoy")) == ["both"]
        assert set(uids(session, search_articles(session, "greenland unicorns"))) == {"both", "one"}
        assert search_articles(session, "the of unicorns", stop_words=SEARCH_STOP_WORDS) == []


def test_stop_words_are_left_out_when_other_words_remain(store: sessionmaker[Session]) -> None:
    add_articles(
        store,
        [
            _article("named", "City to be named soon", "The yet-to-be-named city grows."),
            _article("city", "City council meets", "A city without a name, yet."),
            _article("other", "To be or not to be", "The play was staged in the city."),
        ],
    )
    stop = SEARCH_STOP_WORDS
    with store() as session:
        # "to" and "be" need not match: both articles with yet, name(d) and city are found,
        # the one whose title says so first
        hits = uids(session, search_articles(session, "yet-to-be-named city", stop_words=stop))
        assert hits == ["named", "city"]
        # "the" and "of" are dropped: "council" alone decides; a stop-word query is kept
        assert uids(session, search_articles(session, "the council of", stop_words=stop)) == [
            "city"
        ]
        only_stop = uids(session, search_articles(session, "to be", stop_words=stop))
        if session.get_bind().dialect.name == "sqlite":
            assert only_stop[0] == "other"
        else:  # PostgreSQL's english configuration drops its own stop words: nothing left
            assert only_stop == []


def test_filters_topic_source_since(store: sessionmaker[Session]) -> None:
    add_articles(
        store,
        [
            _article(
                "old-ai", "Chips and AI", "Chip export rules.", topics=[("ai", 0.9)],
                source="Reuters", published=BASE_TIME - timedelta(days=10),
            ),
            _article(
                "new-ai", "More chips", "Chip factories.", topics=[("ai", 0.8), ("china", 0.5)],
                source="The Guardian", published=BASE_TIME,
            ),
            _article(
                "new-biz", "Chip stocks", "Chip makers' shares.", topics=[("business", 0.7)],
                source="Reuters", published=BASE_TIME + timedelta(hours=1),
            ),
        ],
    )  # fmt: skip
    with store() as session:

        def found(
            topic: str | None = None, source: str | None = None, since: datetime | None = None
        ) -> set[str]:
            filters = SearchFilters(topic=topic, source=source, since=since)
            return set(uids(session, search_articles(session, "chip", filters=filters, limit=10)))

        assert found() == {"old-ai", "new-ai", "new-biz"}
        assert found(topic="ai") == {"old-ai", "new-ai"}
        assert found(topic="china") == {"new-ai"}
        assert found(topic="sport") == set()
        assert found(source="reuters") == {"old-ai", "new-biz"}
        assert found(source="GUARDIAN") == {"new-ai"}
        assert found(since=BASE_TIME) == {"new-ai", "new-biz"}
        month_ago = BASE_TIME - timedelta(days=30)
        assert found(topic="ai", source="reuters", since=month_ago) == {"old-ai"}
        assert found(topic="ai", since=BASE_TIME + timedelta(minutes=1)) == set()


def test_pages_do_not_overlap_and_cover_every_match(store: sessionmaker[Session]) -> None:
    # many exact ties (identical text) plus a spread of scores
    articles = [_article(f"tie{i}", "Budget vote", "The budget vote is today.") for i in range(9)]
    articles += [
        _article(f"var{i}", f"Item {i}", "budget " * (i + 1) + "filler words here " * (20 - i))
        for i in range(14)
    ]
    add_articles(store, articles)
    with store() as session:
        everything = search_articles(session, "budget", limit=100)
        assert len(everything) == 23
        pages: list[SearchHit] = []
        for page in range(6):
            chunk = search_articles(session, "budget", limit=5, offset=page * 5)
            assert len(chunk) == (5 if page < 4 else 3 if page == 4 else 0)
            pages.extend(chunk)
        assert [hit.article_id for hit in pages] == [hit.article_id for hit in everything]
        assert len({hit.article_id for hit in pages}) == 23
        # ties are broken by id, newest first
        tie_ids = [hit.article_id for hit in everything if hit.score == everything[0].score]
        assert tie_ids == sorted(tie_ids, reverse=True)


def test_result_shape_is_the_same_on_both_engines(store: sessionmaker[Session]) -> None:
    add_articles(
        store,
        [
            _article("a", "Greenland envoy named", "The president named an envoy to Greenland."),
            _article("b", "Tariffs on steel", "New tariffs on steel and aluminium imports."),
            _article("c", "Envoys meet", "Envoys from Denmark and Greenland met in Nuuk."),
        ],
    )
    with store() as session:
        hits = search_articles(session, "greenland envoy", limit=10)
        assert sorted(uids(session, hits)) == ["a", "c"]
        for hit in hits:
            assert type(hit.article_id) is int and type(hit.score) is float
            assert isinstance(hit.snippet, str)
            assert hit.snippet.count(MARK_START) == hit.snippet.count(MARK_END) >= 1
            assert "greenland" in hit.snippet.casefold()
        assert uids(session, search_articles(session, "tariff")) == ["b"]
        assert search_articles(session, "unicorns") == []
        assert search_articles(session, "greenland", limit=0) == []


def test_very_common_queries_rank_only_the_newest_matches(
    store: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.search.MAX_RANKED", 5)
    add_articles(
        store,
        [_article(f"n{i}", f"Story {i}", "budget " * (10 - i) + "news") for i in range(8)],
    )
    with store() as session:
        newest = sorted(session.scalars(sa.select(Article.id)), reverse=True)[:5]
        hits = search_articles(session, "budget", limit=100)
        assert sorted((hit.article_id for hit in hits), reverse=True) == newest
        page2 = search_articles(session, "budget", limit=3, offset=3)
        assert [hit.article_id for hit in page2] == [hit.article_id for hit in hits[3:]]
        assert len(search_articles(session, "story", limit=100)) == 5
        assert len(search_articles(session, "story 2", limit=100)) == 1


def test_common_terms_must_match_but_are_left_out_of_sqlite_bm25(
    store: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 30 articles: every one says "city" and "people"; three mention a zeppelin, one in its
    # title; two have "city" and "people" in their titles. The thresholds shrink so that
    # this store has common terms (the real ones are for tens of thousands of articles).
    monkeypatch.setattr(search_module, "COMMON_DOCS", 5)
    monkeypatch.setattr(search_module, "SAMPLE_DOCS", 10)
    rows = []
    for n in range(30):
        title = {4: "Zeppelin lands", 7: "City people vote", 20: "People of the city"}.get(
            n, f"Story {n}"
        )
        extra = " A zeppelin flew over." if n in (4, 11, 25) else ""
        rows.append(_article(f"a{n:02}", title, f"The city and its people met on day {n}.{extra}"))
    add_articles(store, rows)
    with store() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
        if sqlite:
            common = search_module._common_terms(session, ["city", "zeppelin"], top=30)
            assert common == {"city"}
        found = uids(session, search_articles(session, "zeppelin city", limit=10))
        assert set(found) == {"a04", "a11", "a25"}
        assert found[0] == "a04"  # the title still counts for the rare word
        pages = [
            uids(session, search_articles(session, "city people", limit=4, offset=4 * page))
            for page in range(8)
        ]
        everything = [uid for page in pages for uid in page]
        assert sorted(everything) == sorted(f"a{n:02}" for n in range(30))  # no overlap, none lost
        if sqlite:  # no rare word left: titles holding every word first, then newest first
            assert everything[:4] == ["a20", "a07", "a29", "a28"]
