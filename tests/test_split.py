"""Plain-text dump splitting on the seed dumps (main story, teasers, chained stories)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from briefings.text.normalise import line_key
from briefings.text.split import split_dump

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SAVED = datetime(2025, 7, 8, 12, 0, tzinfo=UTC)

BOILERPLATE = [
    "Continue Reading",
    "Related Articles",
    "DOWNLOAD THE APP",
    "Image:",
    "Stills from",
    "Pic: Reuters",
    "Read more",
    "More on China",
    "More on Russia",
    "More on Denmark",
    "Published",
    "on",
    "By",
    "World",
    "Trending",
    "Connect with us",
    "logo",
    "Comments",
    "No comments yet...",
    "Try Our AI Features",
    "Orange background",
    "Pics: Reuters",
]


def _seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed000():
    return split_dump(_seed("000"), file_time=SAVED)


@pytest.fixture(scope="module")
def seed004():
    return split_dump(_seed("004"), file_time=SAVED)


def test_seed000_has_main_story_and_three_teasers(seed000):
    assert len(seed000) == 4
    main = seed000[0]
    assert main.title == "The coder ‘village' at the heart of China's AI frenzy"
    assert main.body.startswith("It was a sunny Saturday afternoon")
    assert main.body.endswith("not the common way to live your life.'")
    assert main.body.count("\n\n") >= 20


def test_seed000_teasers_have_titles_outlets_and_times(seed000):
    brics, foxconn, telcos = seed000[1:]
    assert "BRICS tariff" in brics.title and brics.source == "Time of India"
    assert foxconn.title == "Foxconn feels the China squeeze in India"
    assert foxconn.source == "Time of India"
    assert telcos.title.startswith("Spies & shields") and telcos.source == "Mint"
    assert brics.published == SAVED - timedelta(hours=1)
    assert telcos.published == SAVED - timedelta(hours=2)
    assert brics.body.startswith("Developing nations at the BRICS summit")


def test_relative_times_stay_unknown_without_file_time():
    articles = split_dump(_seed("000"))
    assert all(a.published is None for a in articles)


def test_seed004_splits_chained_stories(seed004):
    titles = [line_key(a.title) for a in seed004]
    assert len(seed004) == 4
    assert "hangzhou" in titles[0]
    assert titles[1:] == [
        line_key("Trump: US has to have Greenland"),
        line_key("Timing of Russian general's assassination appears significant"),
        line_key("Trump's new Greenland envoy intends to make territory 'a part of the US'"),
    ]
    assert seed004[0].body.startswith("The city of Hangzhou is one of the most historic")
    assert seed004[0].body.endswith("it will leave its mark on the world.")
    assert seed004[2].body.startswith("A Russian general being blown up")


@pytest.mark.parametrize("seed", ["000", "004"])
def test_no_boilerplate_line_in_any_body(seed):
    for article in split_dump(_seed(seed), file_time=SAVED):
        for para in article.body.split("\n\n"):
            assert para.strip(), "empty paragraph"
            for junk in BOILERPLATE:
                if len(junk) < 12:
                    assert line_key(para) != line_key(junk), (article.title, para)
                else:
                    assert not para.startswith(junk), (article.title, para)
            assert "Pic: Reuters" not in para and not para.startswith("Read more")
            if para == article.title:  # a title derived from the first sentence
                assert article.body.startswith(para)


def test_repeated_title_lines_are_not_in_the_body(seed000):
    for article in seed000:
        assert line_key(article.title) not in {line_key(p) for p in article.body.split("\n\n")}


def test_empty_and_furniture_only_text_give_no_article():
    assert split_dump("") == []
    assert split_dump("Home\nNews\nSport\nSign in\nSubscribe\n\n© 2025 Example") == []


def test_dateline_and_byline():
    text = (
        "Menu\nNews\n\nRain returns to the valley\n\nBy Jane Doe\n\nMarch 3, 2024 10:15 am EST\n\n"
        "MADRID — Heavy rain returned to the region on Monday, forcing the closure of several "
        "roads and schools while emergency services worked through the night.\n\n"
        "Officials said the storm would pass by Wednesday, but warned residents to stay away "
        "from the river banks until the water level had dropped.\n\nShare\nTweet\n"
    )
    (article,) = split_dump(text)
    assert article.title == "Rain returns to the valley"
    assert article.byline == "Jane Doe"
    assert article.dateline == "MADRID"
    assert article.published is not None and article.published.hour == 10
    assert article.body.count("\n\n") == 1


def test_inline_related_card_does_not_split_the_story():
    paras = [
        "The council voted on Tuesday to expand the bus network, adding four routes that "
        "will connect the northern suburbs with the hospital and the university campus.",
        "Supporters said the change was long overdue, while opponents questioned whether "
        "the city could afford the drivers it would need to run the extra services.",
        "Officials expect the first of the new routes to open in the spring, once the "
        "depot has been extended and the new vehicles have been delivered.",
        "A consultation last year found that most residents of the suburbs wanted more "
        "frequent buses in the evening and on Sundays, when services are thin.",
        "The transport union welcomed the plan but warned that recruitment would be "
        "difficult unless wages rose in line with those paid in neighbouring towns.",
        "The mayor said she hoped the expansion would cut car journeys into the centre "
        "and help the city meet its target for cleaner air by the end of the decade.",
    ]
    card = (
        "Business\nCity budget approved after a long night of talks\nBusiness\n"
        "City budget approved after a long night of talks\n"
        "The council approved its budget for next year after a session that lasted until "
        "the early hours of the morning."
    )
    text = "Buses\n\n" + "\n\n".join(paras[:3]) + "\n\n" + card + "\n\n" + "\n\n".join(paras[3:])
    (article,) = split_dump(text)
    assert article.body.split("\n\n") == paras


def test_boilerplate_lines_from_the_corpus_are_dropped():
    promo = "Our journalism is independent and reader funded every single day."
    text = _seed("004").replace(
        "Those who are part of the tech scene here brim with enthusiasm.",
        "Those who are part of the tech scene here brim with enthusiasm.\n\n" + promo,
    )
    assert promo in split_dump(text)[0].body
    assert promo not in split_dump(text, boilerplate_lines=frozenset({line_key(promo)}))[0].body


def test_title_from_page_title_line_and_drop_cap():
    text = (
        "Rain returns to the valley - Valley Times\n\nHome\nNews\nWeather\n\n"
        "Rain returns to the valley\n\nBy Jane Doe\n\n"
        "H eavy rain returned to the region on Monday, forcing the closure of several roads "
        "and schools while emergency services worked through the night.\n\n"
        "Officials said the storm would pass by Wednesday, but warned residents to stay away "
        "from the river banks until the water level had dropped.\n\nShare\n"
    )
    (article,) = split_dump(text)
    assert article.title == "Rain returns to the valley"
    assert article.byline == "Jane Doe"
    assert article.body.startswith("Heavy rain returned")
