"""Summaries never use an acronym bare whose spelled-out sentence they left out."""

from __future__ import annotations

import pytest
from conftest import SEEDS

from briefings.pipeline import PipelineConfig, derive_article
from briefings.summary.acronyms import acronym_definers, acronyms, defines
from briefings.summary.summarise import summarise
from briefings.summary.tokenizer import split_sentences
from briefings.text.read import parse_document
from briefings.topics.taxonomy import load_taxonomy


@pytest.mark.parametrize(
    ("sentence", "acronym", "expected"),
    [
        ("Tools were tagged as critical telecom infrastructure or CTI, people said.", "CTI", True),
        (
            "A Telecom Computer Security Incident Response Team (TCSIRT) will run it.",
            "TCSIRT",
            True,
        ),
        ("In 5G, unified data management (UDM) manages subscriber records.", "UDM", True),
        ("The Department of the Interior (DOI) said so.", "DOI", True),
        ("Die Europäische Zentralbank (EZB) hob die Zinsen an.", "EZB", True),
        ("CTI (critical telecom infrastructure) is undefined in law.", "CTI", True),
        ("CTI was introduced under the Telecom Act, 2023.", "CTI", False),
        ("The US said it would act.", "US", False),
    ],
)
def test_defines(sentence: str, acronym: str, expected: bool) -> None:
    assert defines(sentence, acronym) is expected


def test_acronyms_and_definers() -> None:
    assert acronyms("The US and the EU met at NATO; a COP29 deal.") == {"US", "EU", "NATO", "COP29"}
    assert acronyms("BREAKING NEWS: FIRE IN TOWN") == set()  # shouting, not acronyms
    sentences = [
        "The ministry tagged tools as critical telecom infrastructure or CTI.",
        "The UN welcomed it.",
        "CTI rules begin in May, and CTI audits follow.",
        "Critical telecom infrastructure (CTI) is now a legal term.",
    ]
    assert acronym_definers(sentences) == [(), (), (0,), ()]


ARTICLE = (
    "Officials met in the capital on Monday to discuss the new network rules.\n\n"
    "The government will tag routing systems and satellite tools as critical telecom "
    "infrastructure or CTI, two people aware of the plans said.\n\n"
    "The weather was mild and the meeting ran late into the evening.\n\n"
    "Operators said CTI rules would raise costs; CTI audits and CTI testing will be "
    "mandatory for operators, and CTI reports go to the regulator every quarter.\n\n"
    "Smaller operators fear CTI compliance costs, and CTI deadlines worry operators most.\n\n"
    "Lunch was served at noon."
)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_summary_brings_in_the_defining_sentence(n: int) -> None:
    summary = summarise(ARTICLE, n)
    sentences = split_sentences(ARTICLE)
    definers = acronym_definers(sentences)
    for sentence in summary:
        for j in definers[sentences.index(sentence)]:
            assert sentences[j] in summary, (summary, sentences[j])
    assert len(summary) == n


def test_seed_summaries_define_their_acronyms() -> None:
    config = PipelineConfig(load_taxonomy())
    checked = 0
    for path in sorted(SEEDS.iterdir()):
        for parsed in parse_document(path.name, path.read_bytes()):
            article = derive_article(parsed, config)
            sentences = split_sentences(article.body)
            definers = acronym_definers(sentences)
            for sentence in article.summary:
                for j in definers[sentences.index(sentence)]:
                    assert sentences[j] in article.summary, (article.title, sentence)
            if any("CTI" in s for s in article.summary):
                checked += 1
                assert any(defines(s, "CTI") for s in article.summary), article.summary
    assert checked == 1  # the Mint story uses CTI, and spells it out
