"""Headlines for untitled stories: built from the lead sentence, in any language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SEEDS, make_settings
from sqlalchemy import select

from bot.app import build_context
from bot.cli import main
from briefings.summary.headline import MAX_CHARS, build_headline, is_fallback_title, shorten
from briefings.summary.summarise import summarise
from briefings.text.words import FUNCTION_WORDS
from storage.models import Article

LANGUAGES = Path(__file__).parent / "data" / "languages"
HANGZHOU_LEAD = "The city of Hangzhou is one of the most historic and beautiful in China."


def _body(name: str) -> str:
    """A test article without its title line (as an untitled dump gives it)."""
    return (LANGUAGES / name).read_text(encoding="utf-8").split("\n\n", 1)[1]


def _norm(text: str) -> str:
    return " ".join(text.casefold().rstrip(".。!?").split())


def _ingest_seeds(monkeypatch: pytest.MonkeyPatch, url: str) -> list[Article]:
    """Ingest the seeds with ``briefbot ingest`` and read the stored articles back."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["ingest", str(SEEDS)]) == 0
    ctx = build_context(make_settings(url))
    with ctx.sessions() as session:
        articles = list(session.scalars(select(Article).order_by(Article.id)))
        session.expunge_all()
    return articles


@pytest.fixture
def stored(seed_articles: list[Article]) -> list[Article]:
    """The seeds ingested once for this module's read-only tests."""
    return seed_articles


def test_untitled_seed_story_gets_a_headline_not_repeated_by_its_summary(
    stored: list[Article],
) -> None:
    [hangzhou] = [a for a in stored if a.body.startswith("The city of Hangzhou")]
    assert hangzhou.title == HANGZHOU_LEAD.rstrip(".")
    assert len(hangzhou.title) <= MAX_CHARS
    assert HANGZHOU_LEAD not in hangzhou.summary
    assert _norm(hangzhou.summary[0]) != _norm(hangzhou.title)
    assert len(hangzhou.summary) == 3
    for article in stored:  # no title reads as a repeat of its summary's first sentence
        assert _norm(article.title) != _norm(article.summary[0]), article.title


def test_titled_seed_stories_keep_their_headlines(stored: list[Article]) -> None:
    titles = [a.title for a in stored]
    assert "Trump: US has to have Greenland" in titles
    assert "Foxconn feels the China squeeze in India" in titles
    assert "The coder ‘village' at the heart of China's AI frenzy" in titles


@pytest.mark.slow
def test_built_headline_keeps_the_article_id(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    """Re-deriving every article (``briefbot reingest``) keeps the untitled story's uid."""
    before = {a.uid: (a.id, a.title) for a in _ingest_seeds(monkeypatch, sqlite_url)}
    assert main(["reingest"]) == 0
    ctx = build_context(make_settings(sqlite_url))
    with ctx.sessions() as session:
        after = {a.uid: (a.id, a.title) for a in session.scalars(select(Article))}
    assert after == before
    assert HANGZHOU_LEAD.rstrip(".") in {title for _, title in after.values()}


@pytest.mark.slow
def test_jsonl_record_without_title_gets_a_headline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    body = (
        "Radni zagłosowali we wtorek za rozbudową sieci autobusowej, która od lat nie "
        "nadąża za rosnącą liczbą mieszkańców północnych dzielnic miasta i okolicznych wsi. "
        "Cztery nowe linie połączą północne dzielnice ze szpitalem i kampusem uniwersytetu.\n\n"
        "Zwolennicy zmiany mówili, że była ona od dawna potrzebna. Przeciwnicy pytali, czy "
        "miasto stać na zatrudnienie dodatkowych kierowców.\n\n"
        "Pierwsza z nowych linii ma zostać uruchomiona wiosną, po rekrutacji kierowców."
    )
    titled = {
        "title": "Rada miasta rozbudowuje sieć autobusową",
        "text": body.replace("Radni", "R"),
    }
    dump = tmp_path / "feed.jsonl"
    dump.write_text(json.dumps({"text": body}) + "\n" + json.dumps(titled) + "\n", encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["ingest", str(dump)]) == 0
    ctx = build_context(make_settings(sqlite_url))
    with ctx.sessions() as session:
        titles = {a.title: a.summary for a in session.scalars(select(Article))}
    assert "Rada miasta rozbudowuje sieć autobusową" in titles  # metadata title kept
    assert "Radni zagłosowali we wtorek za rozbudową sieci autobusowej" in titles
    summary = titles["Radni zagłosowali we wtorek za rozbudową sieci autobusowej"]
    assert not any(s.startswith("Radni zagłosowali") for s in summary)


@pytest.mark.parametrize(
    ("name", "language", "expected"),
    [
        ("pl.txt", "pl", "Radni zagłosowali we wtorek za rozbudową sieci autobusowej"),
        ("ru.txt", "ru", "Во вторник городской совет проголосовал за расширение автобусной сети"),
        ("ar.txt", "ar", "صوت مجلس المدينة يوم الثلاثاء على توسيع شبكة الحافلات"),  # cut at "،"
        (
            "zh.txt",
            "zh",
            "市议会周二投票决定扩大公交网络，新增四条线路，连接北部郊区与医院和大学校园",
        ),
        ("ja.txt", "ja", "市議会は火曜日、バス路線網の拡大を可決した"),
    ],
)
def test_headline_from_the_lead_in_several_languages(
    name: str, language: str, expected: str
) -> None:
    body = _body(name)
    headline = build_headline(body, language=language)
    assert headline is not None
    assert headline.text == expected
    assert headline.sentence.startswith(expected[:10])
    # the summariser leaves that sentence out when asked to
    assert headline.sentence not in summarise(
        body, 3, language=language, exclude=[headline.sentence]
    )


@pytest.mark.parametrize(
    ("name", "language", "limit"),
    [("pl.txt", "pl", 30), ("ru.txt", "ru", 30), ("ar.txt", "ar", 30), ("zh.txt", "zh", 12)],
)
def test_short_limit_cuts_at_a_boundary(name: str, language: str, limit: int) -> None:
    body = _body(name)
    headline = build_headline(body, language=language, max_chars=limit)
    assert headline is not None
    text = headline.text
    assert len(text) <= limit
    stem = text.removesuffix("…")
    assert headline.sentence.startswith(stem)  # a prefix of the lead, cut where a word ends
    if " " in stem:  # scripts with spaces are cut where a word ends; CJK at any character
        after = headline.sentence[len(stem) : len(stem) + 1]
        assert after in (" ", "،", ",")
        assert stem.split()[-1].casefold() not in FUNCTION_WORDS


def test_long_english_lead_is_cut_at_a_clause() -> None:
    body = (
        "(CNN) -- Rescue teams in northern Italy searched overnight for hikers missing "
        "since Saturday, officials said on Monday, as heavy snow closed the main roads.\n\n"
        "The group had set out from a village near the border."
    )
    headline = build_headline(body)
    assert headline is not None
    assert headline.text == (
        "Rescue teams in northern Italy searched overnight for hikers missing since Saturday"
    )
    assert headline.sentence.endswith("closed the main roads.")


def test_word_cut_drops_dangling_function_words_and_marks_the_cut() -> None:
    text = "Officials from both countries met for the first time in years to discuss the " + (
        "disputed border region and the water rights along the river"
    )
    cut = shorten(text, 60)
    assert len(cut) <= 60 and cut.endswith("…")
    assert cut.removesuffix("…").split()[-1] not in FUNCTION_WORDS
    assert text.startswith(cut.removesuffix("…"))


def test_captions_and_fragments_are_not_leads() -> None:
    body = (
        "Photo: Reuters\n\nTop stories\n\nThe council approved a new budget on Tuesday after "
        "a long debate.\n\nIt takes effect in April."
    )
    headline = build_headline(body)
    assert headline is not None
    assert headline.text == "The council approved a new budget on Tuesday after a long debate"
    assert build_headline("") is None
    assert build_headline("Share\n\nMenu") is None


@pytest.mark.parametrize(
    ("title", "body", "fallback"),
    [
        (HANGZHOU_LEAD, HANGZHOU_LEAD + " But this ancient place…", True),
        ("", "Any body.", True),
        ("The city of Hangzhou is one of the most historic and…", HANGZHOU_LEAD, True),
        ("Hangzhou: China's Silicon Valley", HANGZHOU_LEAD, False),
        ("市议会扩大公交网络", _body("zh.txt"), False),
    ],
)
def test_fallback_titles_are_recognised(title: str, body: str, fallback: bool) -> None:
    assert is_fallback_title(title, body) is fallback
