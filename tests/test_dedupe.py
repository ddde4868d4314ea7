"""Exact hashes, MinHash signatures, the near-duplicate index and the store's band keys."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from briefings.stories.duplicates import (
    DEFAULT_THRESHOLD,
    NearDuplicateIndex,
    content_hash,
    minhash_signature,
    normalise_for_hash,
    signature_similarity,
)
from briefings.stories.events import title_terms
from briefings.stories.linking import band_keys, best_near, link_keys, term_key
from briefings.text.language import detect_language
from briefings.text.split import split_dump

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def seed_articles():
    out = []
    for path in sorted(SEEDS.glob("*.txt")):
        out.extend(split_dump(path.read_text(encoding="utf-8")))
    return out


def test_hash_ignores_case_punctuation_and_whitespace():
    assert normalise_for_hash("  Hello,   WORLD!\n“Quoted” ") == "hello world quoted"
    assert content_hash("Hello, world!") == content_hash("hello   world")
    assert content_hash("Hello, world!") != content_hash("Hello, there!")
    assert len(content_hash("x")) == 64


def test_signature_is_deterministic_bytes():
    text = "the quick brown fox jumps over the lazy dog " * 5
    a, b = minhash_signature(text), minhash_signature(text)
    assert isinstance(a, bytes) and a == b and len(a) == 128 * 8
    assert signature_similarity(a, b) == 1.0
    assert len(minhash_signature(text, num_perm=64)) == 64 * 8


def test_signature_similarity_rejects_mismatched_signatures():
    with pytest.raises(ValueError):
        signature_similarity(minhash_signature("a b c"), minhash_signature("a b c", num_perm=64))
    with pytest.raises(ValueError):
        signature_similarity(b"abc", b"abc")


def test_greenland_pieces_match_and_others_do_not(seed_articles):
    by_title = {a.title: a for a in seed_articles}
    greenland = [t for t in by_title if "Greenland" in t]
    assert len(greenland) == 2
    index = NearDuplicateIndex()
    for title, article in by_title.items():
        if title != greenland[1]:
            index.add(title, minhash_signature(article.body))
    assert index.query(minhash_signature(by_title[greenland[1]].body)) == [greenland[0]]
    for title, article in by_title.items():
        if "Greenland" not in title:
            assert index.query(minhash_signature(article.body)) == [title]


def test_index_add_replace_remove():
    index = NearDuplicateIndex(threshold=0.5)
    text = " ".join(f"word{i}" for i in range(200))
    index.add(1, minhash_signature(text))
    index.add(1, minhash_signature(text))
    assert len(index) == 1 and 1 in index
    assert index.query(minhash_signature(text + " extra words at the end")) == [1]
    index.remove(1)
    assert index.query(minhash_signature(text)) == []


def test_detect_language():
    assert detect_language("The council voted on Tuesday to expand the bus network.") == "en"
    assert (
        detect_language("Le conseil municipal a voté mardi l'extension du réseau de bus.") == "fr"
    )
    assert (
        detect_language("Der Stadtrat hat am Dienstag den Ausbau des Busnetzes beschlossen.")
        == "de"
    )
    assert detect_language("ok") is None
    assert detect_language("") is None


def test_index_evicts_oldest_entries() -> None:
    texts = [f"story number {i} about a different subject entirely, word{i} " * 5 for i in range(5)]
    index = NearDuplicateIndex()
    for i, text in enumerate(texts):
        index.add(i, minhash_signature(text))
    index.evict_oldest(3)
    assert len(index) == 3 and 0 not in index and 1 not in index and 4 in index
    assert index.query(minhash_signature(texts[4])) == [4]
    assert index.query(minhash_signature(texts[0])) == []


def _variants(text: str, n: int, seed: int = 3) -> list[str]:
    """Copies of ``text`` with ever more words replaced (similarity from ~1 down to ~0)."""
    rng = random.Random(seed)
    words = text.split()
    out = []
    for k in range(n):
        share = k / n
        out.append(" ".join(w if rng.random() > share else f"x{rng.random()}" for w in words))
    return out


@pytest.fixture(scope="module")
def signatures(seed_articles) -> dict[str, bytes]:
    return {article.title: minhash_signature(article.body) for article in seed_articles}


def test_shared_band_keys_are_the_lsh_candidates(signatures: dict[str, bytes]) -> None:
    base = next(iter(signatures))
    texts = _variants(base * 20, 40)
    sigs = [minhash_signature(t) for t in texts] + list(signatures.values())
    index = NearDuplicateIndex()
    for i, sig in enumerate(sigs):
        index.add(i, sig)
    keys = [set(band_keys(sig)) for sig in sigs]
    for i, sig in enumerate(sigs):
        by_keys = {
            j
            for j, other in enumerate(keys)
            if keys[i] & other and signature_similarity(sig, sigs[j]) >= DEFAULT_THRESHOLD
        }
        assert set(index.query(sig)) == by_keys
    assert 2 < len({j for j, other in enumerate(keys) if keys[0] & other}) < len(sigs)


def test_greenland_pieces_share_a_band_and_link(signatures: dict[str, bytes]) -> None:
    greenland = [sig for title, sig in signatures.items() if "Greenland" in title]
    others = [
        (n, sig) for n, (title, sig) in enumerate(signatures.items()) if "Greenland" not in title
    ]
    assert set(band_keys(greenland[0])) & set(band_keys(greenland[1]))
    assert best_near(greenland[1], [*others, (99, greenland[0])]) == 99
    assert best_near(greenland[1], others) is None


def test_best_near_prefers_the_most_similar() -> None:
    texts = _variants(" ".join(f"word{i}" for i in range(400)), 40)
    sigs = [minhash_signature(t) for t in texts[:3]]  # 0%, 2.5% and 5% of the words replaced
    assert best_near(sigs[0], [(2, sigs[2]), (1, sigs[1])]) == 1
    assert best_near(sigs[0], [(2, sigs[2]), (1, sigs[1])], threshold=1.0) is None


def test_link_keys_are_bands_then_headline_terms() -> None:
    sig = minhash_signature("some text " * 50)
    keys = link_keys("Trump's envoys visit Greenland", sig)
    assert keys[: len(band_keys(sig))] == band_keys(sig)
    assert set(keys[len(band_keys(sig)) :]) == {
        term_key(t) for t in title_terms("Trump's envoys visit Greenland")
    }
    assert link_keys("Trump's envoys visit Greenland", None) == keys[len(band_keys(sig)) :]
    assert all(-(2**63) <= k < 2**63 for k in keys)  # BIGINT on both engines
