"""Offline sentence/word splitting: abbreviations, quotes, datelines, paragraphs."""

from __future__ import annotations

import pytest

from briefings.summary.tokenizer import (
    OfflineTokenizer,
    split_paragraphs,
    split_sentences,
    strip_dateline,
    to_words,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Smith went to Washington. He met the U.S. president on Jan. 5 at the White House.",
            [
                "Dr. Smith went to Washington.",
                "He met the U.S. president on Jan. 5 at the White House.",
            ],
        ),
        (
            "Some fruit, e.g. apples, are red. Others are not.",
            ["Some fruit, e.g. apples, are red.", "Others are not."],
        ),
        (
            "Mr. Jones and Mrs. Lee of Acme Inc. met Gen. Smith. They talked.",
            ["Mr. Jones and Mrs. Lee of Acme Inc. met Gen. Smith.", "They talked."],
        ),
        (
            '"Is this the end?" she asked. "No," he said.',
            ['"Is this the end?" she asked.', '"No," he said.'],
        ),
        (
            "The economy grew 3.5 per cent. Prices rose by 2.1%.",
            ["The economy grew 3.5 per cent.", "Prices rose by 2.1%."],
        ),
    ],
)
def test_split_sentences_handles_abbreviations_and_quotes(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "first"),
    [
        (
            "(CNN)Share, and your gift will be multiplied. More.",
            "Share, and your gift will be multiplied.",
        ),
        (
            "(CNN) -- The Senate voted on Tuesday to pass the bill. More.",
            "The Senate voted on Tuesday to pass the bill.",
        ),
        (
            "London (CNN)A photo of a weasel on a woodpecker went viral. More.",
            "A photo of a weasel on a woodpecker went viral.",
        ),
        (
            "Sanaa, Yemen (CNN)The U.S. military is evacuating 100 troops. More.",
            "The U.S. military is evacuating 100 troops.",
        ),
        (
            "WASHINGTON (Reuters) - The U.S. economy grew faster than expected. More.",
            "The U.S. economy grew faster than expected.",
        ),
        (
            "WASHINGTON — The Senate voted on Tuesday to pass the bill. More.",
            "The Senate voted on Tuesday to pass the bill.",
        ),
        (
            "NEW YORK, March 3 (AP) — Stocks fell sharply in early trading. More.",
            "Stocks fell sharply in early trading.",
        ),
    ],
)
def test_dateline_is_removed_from_first_sentence(text: str, first: str) -> None:
    assert split_sentences(text)[0] == first


@pytest.mark.parametrize(
    "text",
    [
        "The Senate voted on Tuesday to pass the bill.",
        "US President Donald Trump (R) met the press on Monday.",
        "A (very) small change happened today in the city.",
    ],
)
def test_text_without_dateline_is_unchanged(text: str) -> None:
    assert strip_dateline(text) == text


def test_dateline_only_stripped_at_the_start() -> None:
    text = "It began quietly. Later, WASHINGTON (Reuters) - reported the news to everyone."
    assert split_sentences(text)[1].startswith("Later, WASHINGTON (Reuters)")


def test_paragraphs_blank_lines_single_lines_and_soft_wraps() -> None:
    text = "First para line one\ncontinues here.\n\nSecond para.\nThird para on its own line."
    assert split_paragraphs(text) == [
        "First para line one continues here.",
        "Second para.",
        "Third para on its own line.",
    ]
    assert split_sentences(text) == [
        "First para line one continues here.",
        "Second para.",
        "Third para on its own line.",
    ]


def test_headline_lines_without_punctuation_are_not_glued() -> None:
    assert split_sentences("Markets Today\n\nStocks rose. Bonds fell.") == [
        "Markets Today",
        "Stocks rose.",
        "Bonds fell.",
    ]


def test_empty_and_blank() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n \n") == []


def test_words_match_sumy_word_filter() -> None:
    assert to_words("It's 5 o'clock -- the well-known U.S. rule, 2024!") == (
        "It's",
        "o'clock",
        "the",
        "well-known",
        "U",
        "S",
        "rule",
    )


def test_offline_tokenizer_interface() -> None:
    tokenizer = OfflineTokenizer("English")
    assert tokenizer.language == "english"
    assert tokenizer.to_sentences("Dr. No arrived.\nHe left.") == ("Dr. No arrived.", "He left.")
    assert tokenizer.to_words("Hello, world") == ("Hello", "world")
    assert isinstance(tokenizer.to_sentences("One."), tuple)


def test_seed_paragraphs_split_into_sentences() -> None:
    with open("seeds/000_c26f4d5863d37560.txt", encoding="utf-8") as fh:
        lines = fh.read().split("\n")[4:20]
    sentences = split_sentences("\n\n".join(lines))
    assert len(sentences) > len(lines)
    assert all(s == s.strip() and s for s in sentences)
    assert any(s.startswith("It looked like Silicon Valley") for s in sentences)


def _sample_articles() -> list[str]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent / "data" / "cnndm_sample.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["article"] for line in fh]


def test_fast_rules_agree_with_nupunkt() -> None:
    same = total = 0
    for article in _sample_articles():
        exact = set(split_sentences(article, exact=True))
        fast = set(split_sentences(article))
        same += len(exact & fast)
        total += len(exact)
    assert same / total >= 0.97


@pytest.mark.parametrize("exact", [False, True])
def test_both_paths_handle_abbreviations(exact: bool) -> None:
    text = "Gov. Jerry Brown met Sen. Smith in Calif. on Tuesday. It went well in the U.S. The end."
    assert split_sentences(text, exact=exact) == [
        "Gov. Jerry Brown met Sen. Smith in Calif. on Tuesday.",
        "It went well in the U.S.",
        "The end.",
    ]


def test_ellipsis_and_lone_separators() -> None:
    assert split_sentences("We waited. ... Then it came. Latest news: . More to come.") == [
        "We waited. ...",
        "Then it came.",
        "Latest news: .",
        "More to come.",
    ]
