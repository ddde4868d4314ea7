"""Link keys: the store's band keys find exactly what the in-memory LSH found."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from briefings.stories.duplicates import (
    DEFAULT_THRESHOLD,
    NearDuplicateIndex,
    minhash_signature,
    signature_similarity,
)
from briefings.stories.events import title_terms
from briefings.stories.linking import band_keys, best_near, link_keys, term_key
from briefings.text.split import split_dump

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def signatures() -> dict[str, bytes]:
    out = {}
    for path in sorted(SEEDS.glob("*.txt")):
        for article in split_dump(path.read_text(encoding="utf-8")):
            out[article.title] = minhash_signature(article.body)
    return out


def _variants(text: str, n: int, seed: int = 3) -> list[str]:
    """Copies of ``text`` with ever more words replaced (similarity from ~1 down to ~0)."""
    rng = random.Random(seed)
    words = text.split()
    out = []
    for k in range(n):
        share = k / n
        out.append(" ".join(w if rng.random() > share else f"x{rng.random()}" for w in words))
    return out


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
