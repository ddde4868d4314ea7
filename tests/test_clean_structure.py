"""Structure rules of the text cleaner: charts, weak lines in furniture, comment buttons,
dated post lists, hard-wrapped paragraphs and paragraphs printed twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import make_settings
from sqlalchemy import select

from bot.app import build_context
from bot.cli import main
from briefings.text.clean import clean
from briefings.text.normalise import fix_text, text_lines
from storage.models import Article

PARAS = [
    "The council voted on Tuesday to expand the bus network, adding four routes that will "
    "connect the northern suburbs with the hospital and the university campus.",
    "Supporters said the change was long overdue, while opponents questioned whether the "
    "city could afford the drivers it would need to run the extra services.",
    "The first of the new routes is expected to open in the spring, the council said, and "
    "the other three will follow before the end of next year if the budget allows.",
    "Drivers' representatives welcomed the plan but warned that recruitment had been slow "
    "across the region and that training a new driver takes about four months.",
]
HEAD = "Home\nNews\nSport\nWeather\nSign in\n\nCouncil expands bus network\n\nBy Jane Doe\n\n"
TAIL = "\n\nShare this article\nFacebook\nTwitter\n\nPrivacy\nTerms\n© 2024 Town Times"


def page(*middle: str) -> str:
    return HEAD + "\n\n".join(middle) + TAIL


def test_a_chart_between_paragraphs_does_not_end_the_story() -> None:
    axis = "\n".join(["$900", "600", "300", "0", "’17", "’18", "’19", "’20", "’21", "’22"])
    chart = f"Bus passengers per day\n{axis}\nBus passengers per day\n{axis}"
    body = clean(page(PARAS[0], chart, PARAS[1], PARAS[2]))
    assert body.split("\n\n") == PARAS[:3]


def test_weak_lines_in_a_link_list_do_not_carry_the_story_on() -> None:
    # Teaser titles with figures ("2 of 3 routes ...") score a little above zero: they must
    # not make the furniture after the story cheap again.
    teasers = "\n".join(
        f"Route {k}: {k} stops, {k + 10} minutes" if k % 2 else f"More on transport {k}"
        for k in range(1, 13)
    )
    blurb = (
        "A separate story about the regional rail timetable, which changes in December "
        "and will bring earlier trains on weekdays for commuters heading to the city."
    )
    body = clean(page(*PARAS, "Most read", teasers, blurb, "Newsletter", "Sign up"))
    assert body.split("\n\n") == PARAS


def test_a_comments_button_above_the_story_text_is_no_comment_thread() -> None:
    related = "\n".join(f"Nov {d}, 2019\nAnother story number {d}" for d in range(1, 5))
    body = clean(page(*PARAS[:2], "Comments", "Share this story", *PARAS[2:], related))
    assert body.split("\n\n") == PARAS


COMMENTS = [
    "I think the council should have asked the people who ride the buses every day before "
    "it decided anything about the routes.",
    "Four routes is a start, but the evening timetable is what keeps most of my neighbours "
    "in their cars after six o'clock.",
    "My daughter studies at the campus and has waited for a direct connection for three "
    "years, so this is very welcome news.",
    "Who is going to pay for all of this when the grant from the regional government runs "
    "out in two years' time?",
]


def test_a_list_of_dated_posts_after_the_story_is_cut() -> None:
    # No "Comments" header that the comment rule knows; the posts' date lines tell.
    posts = "\n\n".join(
        f"reader{k} · March {10 + k}, 2017 at 1:2{k} AM\n{text}\nReply"
        for k, text in enumerate(COMMENTS)
    )
    body = clean(page(*PARAS, "There are 4 of them", posts))
    assert body.split("\n\n") == PARAS


def test_a_single_timestamp_inside_the_story_does_not_cut_it() -> None:
    body = clean(page(PARAS[0], "Updated Nov 19, 2019 10:02 am", *PARAS[1:]))
    assert body.split("\n\n") == PARAS


def test_hard_wrapped_paragraphs_are_joined() -> None:
    wrapped = (
        "The council voted on Tuesday to expand the bus network, adding four\n"
        "routes that will connect the northern suburbs with the hospital and\n"
        "the university campus."
    )
    assert text_lines(fix_text(f"Menu\nHome\n\n{wrapped}\n")) == ["Menu", "Home", PARAS[0]]
    body = clean(page(wrapped, *PARAS[1:]))
    assert body.split("\n\n") == PARAS


def test_lines_that_do_not_end_a_sentence_stay_apart() -> None:
    # A menu or a list of links with lower-case entries is no wrapped paragraph.
    menu = "switch to the UK edition of the site\nswitch to the US edition of the site"
    assert text_lines(menu) == menu.split("\n")
    short = "Home\nnews\nsport"
    assert text_lines(short) == ["Home", "news", "sport"]


def test_a_paragraph_printed_twice_is_kept_once() -> None:
    note = (
        "Figures are estimates by the council's transport office and may be revised when "
        "the final passenger counts for the year are published in the spring."
    )
    body = clean(page(PARAS[0], note, PARAS[1], PARAS[2], note, PARAS[3]))
    assert body.split("\n\n") == [PARAS[0], note, *PARAS[1:]]


# --- end to end: a dump through ``briefbot ingest``, read back from the store ---------------

DUMP = Path(__file__).resolve().parent / "data" / "cleaning" / "tram.txt"
KEPT = [
    # three hard-wrapped lines read as one paragraph
    "The new tram line between the central station and the airport will carry its first "
    "passengers next spring, the transport authority said on Tuesday, after three years of "
    "construction and two delays caused by the pandemic.",
    # after a "Comments" button that is no comment thread
    "The line runs for eleven kilometres and has nine stops, including two at the airport "
    "terminals, and trams will run every eight minutes during the day.",
    # after a chart's figures
    "Officials expect about twenty thousand passengers a day in the first year",
    "Local businesses along the route, many of which struggled during the years of roadworks",
]
NOTE = "Figures are forecasts by the transport authority"
REMOVED = ["There are 4 responses", "About time too", "Eight minutes is not often enough",
           "Will the trams run at night", "The roadworks cost my shop", "Reply", "40,000",
           "Share this story", "Comments"]  # fmt: skip


@pytest.mark.slow
def test_a_dump_through_ingest_keeps_the_story_and_drops_chart_comments_and_repeats(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(DUMP, folder / DUMP.name)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["ingest", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "1 file read, 1 articles stored" in out and " 0 errors" in out, out
    ctx = build_context(make_settings(database_url))
    with ctx.sessions() as session:
        (article,) = session.scalars(select(Article))
        title, source, body = article.title, article.source, article.body
    assert title == "Tram line to the airport opens next spring"
    assert source == "Riverside Gazette"
    paragraphs = body.split("\n\n")
    assert paragraphs[:2] == KEPT[:2]
    for start in KEPT[2:]:
        assert any(p.startswith(start) for p in paragraphs), start
    assert sum(p.startswith(NOTE) for p in paragraphs) == 1  # printed twice, kept once
    for line in REMOVED:
        assert not any(p.startswith(line) for p in paragraphs), line
