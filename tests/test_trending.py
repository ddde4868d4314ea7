"""Tests for trending terms (briefings.topics.trending)."""

from __future__ import annotations

import random
from pathlib import Path

from seedstories import seed_stories

from briefings.topics.trending import DEFAULT_STOP, trending_terms

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

STORIES = [
    (
        "Trump Renews Push To Buy Greenland",
        "US President Donald Trump said on Monday that Greenland's future lay with America. "
        "The idea was rejected by Denmark. Mr Trump spoke in Washington.",
    ),
    (
        "Denmark Summons US Envoy",
        "The Danish foreign minister said Greenland was not for sale. Trump's envoy was "
        "summoned in Copenhagen on Tuesday. The island's leaders met in Nuuk.",
    ),
    (
        "DeepSeek releases new model",
        "The Hangzhou start-up DeepSeek said in January its model rivals OpenAI. "
        "Analysts in Hangzhou said the release rattled markets.",
    ),
    (
        "Alibaba shares jump",
        "Shares in Alibaba rose after DeepSeek's success lifted Chinese tech stocks. "
        "The Hangzhou-based group said cloud sales grew. However, Trump's tariffs weigh.",
    ),
    (
        "BRICS leaders meet in Rio",
        "Leaders of the BRICS nations met in Rio de Janeiro. Brazil's president criticised "
        "Trump. The BRICS bloc wants more trade in local currencies.",
    ),
]


def terms(result: list[tuple[str, int]]) -> list[str]:
    return [t for t, _ in result]


def test_shared_names_are_counted_per_story() -> None:
    result = dict(trending_terms(STORIES, limit=20))
    assert result["Trump"] == 4
    assert result["Greenland"] == 2  # "Greenland's" merged
    assert result["DeepSeek"] == 2
    assert result["Hangzhou"] == 2  # "Hangzhou-based" is another word
    assert result["Denmark"] == 2
    assert "BRICS" not in result  # one story, however often it says it
    assert all(count >= 2 for count in result.values())


def test_generic_words_are_excluded() -> None:
    found = {t.lower() for t in terms(trending_terms(STORIES, limit=50, min_stories=1))}
    for word in (
        "the",
        "mr",
        "monday",
        "tuesday",
        "january",
        "however",
        "us president",
        "shares",
        "analysts",
        "leaders",
        "danish",
        "chinese",
    ):
        assert word not in found
    assert "us" in found  # the acronym US is a name
    assert "rio de janeiro" in found


def test_headline_title_case_does_not_make_names() -> None:
    found = {t.lower() for t in terms(trending_terms(STORIES, limit=50, min_stories=1))}
    for word in ("renews", "push", "buy", "summons", "envoy", "releases", "jump"):
        assert word not in found


def test_case_variants_merge() -> None:
    stories = [
        ("", "DEEPSEEK shook markets."),
        ("", "Investors fear DeepSeek."),
        ("", "Everyone talks of DeepSeek."),
    ]
    assert trending_terms(stories) == [("DeepSeek", 3)]


def test_phrase_and_word_redundancy() -> None:
    stories = [
        ("", "President Donald Trump spoke. Later Trump left."),
        ("", "Yesterday Donald Trump met Jeff Landry in the Oval Office."),
        ("", "Critics of Trump met in the Oval Office, said Jeff Landry."),
    ]
    result = dict(trending_terms(stories))
    assert result["Trump"] == 3
    assert "Donald Trump" not in result  # "Trump" covers it
    assert result["Jeff Landry"] == 2 and "Jeff" not in result
    assert result["Oval Office"] == 2


def test_ordering_and_limit_are_deterministic() -> None:
    first = trending_terms(STORIES, limit=5, min_stories=1)
    shuffled = STORIES[:]
    random.Random(7).shuffle(shuffled)
    assert trending_terms(shuffled, limit=5, min_stories=1) == first
    counts = [(-c, t.casefold()) for t, c in first]
    assert counts == sorted(counts)
    assert len(first) == 5
    assert trending_terms([], limit=5) == []


def test_custom_stop_words() -> None:
    stop = DEFAULT_STOP | {"trump"}
    assert "Trump" not in terms(trending_terms(STORIES, stop=stop))


def test_seed_stories_trend() -> None:
    result = trending_terms(seed_stories(SEEDS), limit=30)
    found = terms(result)
    for name in ("Trump", "Greenland", "Hangzhou", "DeepSeek", "China"):
        assert name in found, found
    assert found[0] == "Trump"


def test_names_across_titles_possessives_and_contractions() -> None:
    stories = [
        ("", "China's Xi Jinping met officials of the European Union. I'm sure, he said."),
        ("", "The European Union rebuked Xi Jinping. I'm told the Foreign Secretary agreed."),
    ]
    result = dict(trending_terms(stories, limit=20))
    assert result == {"European Union": 2, "Xi Jinping": 2}  # no "I'm", no "Foreign"


def test_rarity_ranks_unusual_names_above_everyday_ones() -> None:
    from briefings.topics.trending import idf_rarity

    stories = [
        ("Greenland row grows", "Officials in the US said Greenland matters. The US disagreed."),
        ("Envoy named for Greenland", "The US named an envoy to Greenland on Sunday."),
        ("Markets calm", "Traders in the US watched bonds."),
    ]
    plain = trending_terms(stories)
    assert plain[0] == ("US", 3)
    ranked = trending_terms(stories, rarity=idf_rarity({"us": 1.0, "markets": 3.0}))
    assert ranked[0] == ("Greenland", 2)  # 2 × unseen (3.0) outranks 3 × 1.0
    assert dict(ranked) == dict(plain)  # same terms and counts, different order
