"""The seeds through ``briefbot ingest``: no teaser links or widget labels, prose kept, outlets."""

from __future__ import annotations

import pytest

from briefings.text.inline import strip_inline
from briefings.text.meta import outlet_mentions, page_outlet
from storage.models import Article

# Page furniture the seed dumps carry inside or between story paragraphs.
LEFT_IN = [
    "Read more: Backhaul spectrum clash",
    "Read more: India's satcom vs telecom fight",
    "Read more: Push for faster WiFi",
    "Live Events",
    "WhatsApp channel",
    "Synopsis",
    "Ukraine war latest: Kremlin denies",
    "Why does Trump want Greenland?",
    "Read more from Sky News",
    # the caption of the video player Sky sets into both Greenland stories
    "President Donald Trump has said America ‘needs’ Greenland",
]
PROSE = ["“It’s our time.”", "But the attacks didn’t stop there."]


@pytest.fixture
def stored(seed_articles: list[Article]) -> list[Article]:
    """The seed articles as ``briefbot ingest seeds`` stores them in a fresh SQLite file."""
    return seed_articles


def test_seed_bodies_carry_no_teasers_or_labels(stored: list[Article]) -> None:
    assert len(stored) == 8
    for article in stored:
        for marker in LEFT_IN:
            assert marker not in article.body, (article.title, marker)
        for paragraph in article.body.split("\n\n"):
            assert not paragraph.rstrip().endswith(" )"), (article.title, paragraph[-80:])


def test_seed_prose_sentences_are_kept(stored: list[Article]) -> None:
    bodies = "\n\n".join(a.body for a in stored)
    for sentence in PROSE:
        assert sentence in bodies.split("\n\n"), sentence
    # The inline teasers go, the sentences around them stay.
    assert "put their weight behind cyber warfare." in bodies
    assert "'CTI was introduced under the Telecom Act, 2023" in bodies
    assert 'making people uncomfortable." In February, Trump warned' in bodies


def test_every_seed_article_has_an_outlet(stored: list[Article]) -> None:
    outlets = {a.title: a.source for a in stored}
    assert all(outlets.values()), outlets
    sky = [a.source for a in stored if "Greenland" in a.title or "Russian" in a.title]
    assert sky and set(sky) == {"Sky News"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Prices rose again. Also read: Why the central bank may wait until March "
            "The index gained 2% in May.",
            "Prices rose again. The index gained 2% in May.",
        ),
        (
            'He left. "It was over." Top Stories The club said it would appeal the ruling today.',
            'He left. "It was over." The club said it would appeal the ruling today.',
        ),
        ("Key points: Rates stay at 5%. The board meets again in June.", None),
        ("The vote passed 52-48. Follow us on our Telegram channel )", "The vote passed 52-48."),
        # prose stays whole: names, quotes, numbered headings, balanced brackets
        ("James Van Der Beek has been eliminated from the show.", None),
        ("It ended. 14. Security Considerations To prevent abuse, servers limit it.", None),
        ("He said (and meant it.) That was all he said about the deal.", None),
    ],
)
def test_inline_furniture_goes_prose_stays(line: str, expected: str | None) -> None:
    out = strip_inline(line)
    if expected is None:
        expected = line.removeprefix("Key points: ")
    assert out == expected


@pytest.mark.parametrize(
    ("lines", "outlet"),
    [
        (["Read more from The Guardian:", "Other story"], "The Guardian"),
        (["© 2024 Reuters. All rights reserved."], "Reuters"),
        (["Copyright © 2019 Los Angeles Times | Terms"], "Los Angeles Times"),
        (["Join the Hindustan Times WhatsApp channel", "© 2025 HT Media"], "HT Media"),
        (["Download the Daily Star app today"], "Daily Star"),
        (["Nothing here names a site.", "Download the app"], None),
    ],
)
def test_outlet_named_by_the_page(lines: list[str], outlet: str | None) -> None:
    assert page_outlet(outlet_mentions(lines)) == outlet
