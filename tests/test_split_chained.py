"""Chained dumps: whole scraped pages one after another are split into their pages' stories,
while a single page with page-like furniture inside it stays one article."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from conftest import SEEDS, make_settings
from sqlalchemy import select

from bot.app import build_context
from bot.cli import main
from briefings.text.split import split_dump
from storage.models import Article

PAGES = Path(__file__).resolve().parent / "data" / "chained"
NAMES = ("harbour", "orchard", "library")
TITLES = {
    "harbour": "Harbour ferry returns after two-year repair",
    "orchard": "Orchard growers count the cost of late frost",
    "library": "City library opens its doors on Sundays",
}
FIRST = {
    "harbour": "The old harbour ferry carried its first passengers",
    "orchard": "A single night of frost in early April",
    "library": "The central library will open on Sundays",
}
LAST = {
    "harbour": "the fare stays the same as it was before the repair began.",
    "orchard": "imports should keep the shelves full in the shops.",
    "library": "whether the change should stay.",
}
CHROME = ("Related stories", "Most read", "You may also like", "Privacy", "©", "Copyright")


def _page(name: str) -> str:
    return (PAGES / f"{name}.txt").read_text(encoding="utf-8")


def _story(name: str) -> tuple[str, list[str]]:
    """Headline and paragraphs of a fixture page (the lines of 20+ words are paragraphs)."""
    lines = _page(name).splitlines()
    return TITLES[name], [line for line in lines if len(line.split()) >= 20]


def _assert_story(article, name: str) -> None:
    assert article.title == TITLES[name]
    assert article.body.startswith(FIRST[name])
    assert article.body.endswith(LAST[name])
    assert not any(word in article.body for word in CHROME)


@pytest.mark.parametrize("name", NAMES)
def test_each_fixture_page_alone_is_one_article(name: str) -> None:
    (article,) = split_dump(_page(name))
    _assert_story(article, name)


@pytest.mark.parametrize(
    "order", [NAMES, NAMES[::-1], NAMES[:2], ("library", "harbour"), (*NAMES, "harbour")]
)
def test_pages_of_different_sites_one_after_another(order: tuple[str, ...]) -> None:
    articles = split_dump("\n".join(_page(name) for name in order))
    assert len(articles) == len(order)
    for article, name in zip(articles, order, strict=True):
        _assert_story(article, name)


def test_chained_pages_keep_their_own_outlet_byline_and_date() -> None:
    harbour, orchard, library = split_dump("\n\n".join(_page(name) for name in NAMES))
    assert (harbour.source, harbour.byline) == ("Coastal Courier Ltd", "Mira Tallis")
    assert harbour.published is not None and harbour.published.date().isoformat() == "2024-03-12"
    assert orchard.source == "Valley Farmer Media"
    assert library.byline == "Tom Okafor"
    assert library.published is not None and library.published.month == 5


def _same_site(name: str, *, footer: bool) -> str:
    """A page of one site as copied from a browser: no <title> line, the site's menus,
    headline, byline, date, story, related links and (maybe) a copyright footer."""
    title, paragraphs = _story(name)
    lines = ["Riverside Post", "Home", "News", "Sport", "Weather", "Opinion", "Search"]
    lines += [title, "By Staff Reporter", "June 3, 2024", *paragraphs]
    lines += ["Most read", "Roadworks on the bridge", "Market day moves", "Contact"]
    if footer:
        lines.append("© 2024 Riverside Post. All rights reserved.")
    return "\n".join(lines)


@pytest.mark.parametrize("footer", [True, False])
def test_pages_of_one_site_split_where_its_chrome_starts_over(footer: bool) -> None:
    articles = split_dump("\n".join(_same_site(name, footer=footer) for name in NAMES))
    assert [a.title for a in articles] == [TITLES[name] for name in NAMES]
    for article, name in zip(articles, NAMES, strict=True):
        assert article.body.startswith(FIRST[name])
        assert article.body.endswith(LAST[name])
        assert "Most read" not in article.body and "Riverside Post" not in article.body


def test_footer_then_a_second_story_without_a_headline_is_not_a_page() -> None:
    """After a copyright line, a sign-in box with two paragraphs of legal text follows:
    no headline leads to it, so the page stays one article."""
    page = _page("harbour") + "\n".join(
        [
            "",
            "Register",
            "E-mail:",
            "Password:",
            "Remember me",
            "Sign in",
            "Hello, !",
            "We are committed to protecting your personal information and we have changed "
            "the way we keep it, so that it is clearer how long we hold it and why we do so.",
            "Please read the whole notice before you go on, because it explains the kinds of "
            "data that we collect, how we use them and what you can ask us to do about them.",
        ]
    )
    (article,) = split_dump(page)
    _assert_story(article, "harbour")


def test_table_of_contents_headings_do_not_start_pages() -> None:
    """A story that lists its sections after its opening paragraphs and repeats them as
    sub-headings: each heading recurs like a page title echoed by its headline, but it
    is one story."""
    paragraphs = _story("library")[1] + _story("harbour")[1]
    sections = [
        "Why the hours are changing",
        "Opening hours on Sundays",
        "Paying for the extra staff",
        "Children and computers on Sundays",
    ]
    lines = ["How the Sunday opening will work", "Northside Daily", *paragraphs[:2]]
    lines += ["Contents", "In short", *sections, "Questions and answers", "What happens next"]
    lines += ["Other libraries in the region", "How to give your views", "Contact the library"]
    for k, section in enumerate(sections):
        lines += [section, *paragraphs[2 + 2 * k : 4 + 2 * k]]
    lines += ["Help", "Privacy", "© 2024 Northside Daily. All rights reserved."]
    (article,) = split_dump("\n".join(lines))
    assert article.body.startswith(FIRST["library"])
    assert article.body.endswith(paragraphs[9])


def test_repeated_headline_inside_a_story_is_not_a_page() -> None:
    """A headline repeated in the middle of a story (an inline card) after a paragraph."""
    title, paragraphs = _story("orchard")
    lines = [f"{title} - Valley Farmer", "Valley Farmer", title, *paragraphs[:3]]
    lines += [
        "Milk prices steady for the third month running",
        "Milk prices steady for the third month running",
    ]
    lines += [*paragraphs[3:], "© 2024 Valley Farmer Media"]
    (article,) = split_dump("\n".join(lines))
    assert article.title == title
    assert article.body.endswith(LAST["orchard"])


def test_relative_time_in_a_later_page_uses_the_file_time() -> None:
    saved = datetime(2024, 6, 1, 12, 0).astimezone()
    dump = (
        _page("harbour") + "\n" + _page("orchard").replace("Published 14 April 2024", "2 hours ago")
    )
    _, orchard = split_dump(dump, file_time=saved)
    assert orchard.published == saved.replace(hour=10)


def test_chained_dump_is_stored_as_its_pages_articles(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    tmp_path: Path,
) -> None:
    """``briefbot ingest`` of one file holding three whole pages stores three articles,
    each with its own title, outlet and story, read back from the store."""
    dump = tmp_path / "chained.txt"
    dump.write_text("\n".join(_page(name) for name in NAMES), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["ingest", str(dump)]) == 0
    assert "1 file read, 3 articles stored" in capsys.readouterr().out
    ctx = build_context(make_settings(database_url))
    with ctx.sessions() as session:
        stored = session.scalars(select(Article).order_by(Article.position)).all()
        rows = [(a.title, a.source, a.body) for a in stored]
    assert [title for title, _, _ in rows] == [TITLES[name] for name in NAMES]
    assert [source for _, source, _ in rows] == [
        "Coastal Courier Ltd",
        "Valley Farmer Media",
        "Northside Daily",
    ]
    for (_, _, body), name in zip(rows, NAMES, strict=True):
        assert body.startswith(FIRST[name]) and body.endswith(LAST[name])
