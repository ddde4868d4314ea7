"""Line/paragraph boilerplate classifier."""

from __future__ import annotations

import pytest

from briefings.clean import clean
from briefings.textnorm import fix_text, line_info, line_key

PARAS = [
    "The council voted on Tuesday to expand the bus network, adding four routes that will "
    "connect the northern suburbs with the hospital and the university campus.",
    "Supporters said the change was long overdue, while opponents questioned whether the "
    "city could afford the drivers it would need to run the extra services.",
    "The first of the new routes is expected to open in the spring, the council said.",
]


def page(*middle: str) -> str:
    head = "Home\nNews\nSport\nWeather\nSign in\n\nCouncil expands bus network\n\n"
    tail = "\n\nShare this article\nFacebook\nTwitter\n\nMost Popular\n1\nSomething else\n© 2024"
    return head + "\n\n".join(middle) + tail


def test_keeps_every_paragraph_and_drops_page_furniture():
    body = clean(page(*PARAS))
    assert body.split("\n\n") == PARAS


@pytest.mark.parametrize(
    "junk",
    [
        "Advertisement",
        "Image:\nA bus at the depot. Pic: Reuters",
        "Read more:\nCity budget approved\nNew tram line delayed",
        "Photo: John Smith/Getty Images",
        "Download our app and sign up for your daily newsletter today.",
        "Image 3 of 12",
    ],
)
def test_drops_boilerplate_between_paragraphs(junk):
    body = clean(page(PARAS[0], junk, PARAS[1], PARAS[2]))
    assert body.split("\n\n") == PARAS


def test_template_lines_repeated_in_the_file_are_dropped():
    text = page(PARAS[0], "More on Transport", PARAS[1], "More on Budgets", PARAS[2])
    assert clean(text).split("\n\n") == PARAS


def test_keeps_subheadings_inside_the_story():
    body = clean(page(PARAS[0], "WHAT COMES NEXT", PARAS[1], PARAS[2]))
    assert "WHAT COMES NEXT" in body.split("\n\n")


def test_corpus_level_boilerplate_lines():
    promo = "Our journalism is independent and reader funded every single day."
    text = page(PARAS[0], promo, PARAS[1], PARAS[2])
    assert promo in clean(text)
    assert promo not in clean(text, boilerplate_lines=frozenset({line_key(promo)}))


def test_repairs_mojibake_and_keeps_curly_quotes():
    assert fix_text("The councilâ€™s plan") == "The council’s plan"
    assert fix_text("a\u00a0b\r\nc\u200b") == "a b\nc"


def test_nothing_prose_like_gives_empty_body():
    assert clean("Home\nNews\nLogin\n\n") == ""


def test_line_features():
    info = line_info("The council voted on Tuesday to expand the bus network.")
    assert info.terminal and info.words == 10 and info.stop > 0.3
    assert line_info("Read more:").label
    assert line_key("It’s “OK”") == line_key('it\'s "ok"')
