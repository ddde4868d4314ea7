"""Line/paragraph boilerplate classifier."""

from __future__ import annotations

import pytest

from briefings.text.clean import clean
from briefings.text.normalise import fix_text, line_info, line_key

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


def test_comment_thread_after_the_story_is_cut():
    comments = "\n\n".join(
        f"reader{i} says:\nNovember 19, 2019 at 6:{10 + i} am\n"
        f"This is a long comment number {i} that argues with the article at some length, "
        "because readers who comment always have a great deal to say about the bus network."
        for i in range(6)
    )
    body = clean(page(*PARAS, "34 Comments", comments))
    assert body.split("\n\n") == PARAS


def test_dated_list_inside_the_story_is_kept():
    dates = "The new routes and their opening dates:\n" + "\n".join(
        f"June {d} – Route {d} from Northgate to the hospital" for d in range(1, 7)
    )
    body = clean(page(PARAS[0], PARAS[1], dates, PARAS[2]))
    assert "June 3 – Route 3 from Northgate to the hospital" in body.split("\n\n")


def test_text_without_spaces_between_words():
    cjk = [
        "東京都は火曜日、バス路線網を拡大し、北部の郊外と病院や大学を結ぶ四つの新しい路線を追加すると発表した。",
        "支持者はこの変更は遅すぎたと述べたが、反対派は市が追加の運転手を確保できるかどうか疑問を呈した。",
    ]
    assert clean(page(*cjk)).split("\n\n") == cjk


def test_sentences_that_mention_credits_or_ui_words_are_kept():
    paras = [
        "WASHINGTON (AP) — The council voted on Tuesday to expand the bus network, adding "
        "four routes that will connect the northern suburbs with the hospital.",
        "Japan's Honda has won a copyright case in Beijing, further evidence that China is "
        "taking a tougher line on protecting intellectual property rights.",
        "Home prices rose again.",
        "Supporters said the change was long overdue, while opponents questioned whether the "
        "city could afford the drivers it would need to run the extra services.",
    ]
    assert clean(page(*paras)).split("\n\n") == paras
