"""Chained dumps: several whole scraped pages one after another in one file.

A scraper that appends page after page to one file produces a dump in which every page
keeps its own menus, header and footer, with nothing between them. This module builds
such dumps from the text renderings of the eval pages (2-4 pages each, a fixed shuffle so
runs compare) and scores the splitter on them (``benchmarks/cleaning.py`` prints it):

- ``art/dump``: articles found per dump (median, and share of dumps with exactly as many
  articles as pages: teasers a page legitimately yields count as extra articles); ``as
  alone``: share of dumps that give as many articles as their pages give one by one;
- ``best-match F1``: for each page's gold body the best token F1 of any article found in
  its dump, averaged over pages (a dump left whole scores about 1/k per page);
- ``false split``: share of single pages (the same pages, alone) that come back as more
  than one article (a page's own "related" teasers count too), and ``gold cut``: share
  of single pages whose gold body is cut across articles (the best article scores at
  least 0.05 F1 below all articles joined: the story itself was split).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence

from briefings.text.split import split_dump

SEED = 11
ROUNDS = 3
SIZES = (2, 3, 4)


def make_chains(
    names: Sequence[str], *, rounds: int = ROUNDS, seed: int = SEED
) -> list[tuple[str, ...]]:
    """Groups of 2-4 page names: ``rounds`` shuffles of all pages, cut into groups."""
    rng = random.Random(seed)
    chains: list[tuple[str, ...]] = []
    for _ in range(rounds):
        order = sorted(names)
        rng.shuffle(order)
        i = 0
        while len(order) - i >= 2:
            size = min(rng.choice(SIZES), len(order) - i)
            if len(order) - i - size == 1:  # never leave one page over
                size += 1 if size < 4 else -1
            chains.append(tuple(order[i : i + size]))
            i += size
    return chains


def chain_text(texts: Mapping[str, str], chain: Sequence[str]) -> str:
    """The dump a scraper writes for ``chain``: each page's text, one after another."""
    return "\n\n".join(texts[name].strip("\n") for name in chain) + "\n"


def score_chains(
    texts: Mapping[str, str],
    gold: Mapping[str, str],
    chains: Sequence[tuple[str, ...]],
    prf: Callable[[str, str], tuple[float, float, float]],
    boilerplate: Callable[[str], frozenset[str]] = lambda _: frozenset(),
) -> tuple[list[int], list[float], float, int]:
    """Split every chained dump: articles per dump, best-match F1 per page, CPU seconds,
    characters split. ``boilerplate(name)`` is the corpus set to use for a page's dump."""
    counts, best = [], []
    cpu, chars = 0.0, 0
    for chain in chains:
        dump = chain_text(texts, chain)
        t0 = time.process_time()
        bodies = [a.body for a in split_dump(dump, boilerplate_lines=boilerplate(chain[0]))]
        cpu += time.process_time() - t0
        chars += len(dump)
        counts.append(len(bodies))
        for name in chain:
            best.append(max((prf(body, gold[name])[2] for body in bodies), default=0.0))
    return counts, best, cpu, chars


def false_splits(
    texts: Mapping[str, str],
    gold: Mapping[str, str],
    prf: Callable[[str, str], tuple[float, float, float]],
) -> tuple[list[str], list[str], float]:
    """Single pages returned as more than one article, those among them whose gold body
    is cut across articles, and the best-match F1 of the pages alone (the ceiling of
    the chained figure: a perfect page split scores this)."""
    split, cut, best = [], [], []
    for name, text in texts.items():
        bodies = [a.body for a in split_dump(text)]
        best.append(max((prf(body, gold[name])[2] for body in bodies), default=0.0))
        if len(bodies) > 1:
            split.append(name)
            if best[-1] < prf("\n\n".join(bodies), gold[name])[2] - 0.05:
                cut.append(name)
    return split, cut, statistics.fmean(best)


def report(
    label: str,
    texts: Mapping[str, str],
    gold: Mapping[str, str],
    prf: Callable[[str, str], tuple[float, float, float]],
    *,
    folds: Mapping[str, str] | None = None,
    boilerplate: Callable[[str], frozenset[str]] = lambda _: frozenset(),
    verbose: bool = False,
) -> None:
    """Print one line of chained-dump figures for ``texts`` (page name -> decoded text).

    With ``folds`` (page -> fold) every chain is built inside one fold, so that a corpus
    signal fitted on the other folds (``boilerplate``) never saw the chain's pages.
    """
    if folds is None:
        chains = make_chains(list(texts))
    else:
        chains = []
        for fold in sorted(set(folds.values())):
            chains += make_chains([n for n in texts if folds[n] == fold])
    counts, best, cpu, chars = score_chains(texts, gold, chains, prf, boilerplate)
    expected = [len(c) for c in chains]
    alone = {
        name: len(split_dump(texts[name], boilerplate_lines=boilerplate(name))) for name in texts
    }
    same = sum(c == sum(alone[n] for n in chain) for c, chain in zip(counts, chains, strict=True))
    exact = sum(c == e for c, e in zip(counts, expected, strict=True)) / len(chains)
    fewer = sum(c < e for c, e in zip(counts, expected, strict=True)) / len(chains)
    print(
        f"{label:<16} dumps={len(chains):3d}  art/dump median={statistics.median(counts):.1f} "
        f"(expected {statistics.median(expected):.1f})  exact={exact:.2f}  too few={fewer:.2f}  "
        f"as alone={same / len(chains):.2f}  best-match F1={statistics.fmean(best):.3f}  "
        f"split_dump {chars / 2**20 / cpu:5.2f} MB/s"
    )
    if folds is None:
        wrong, cut, ceiling = false_splits(texts, gold, prf)
        print(
            f"{'':<16} single pages={len(texts):3d}  false split={len(wrong) / len(texts):.3f} "
            f"({len(wrong)} pages)  gold cut={len(cut) / len(texts):.3f} ({len(cut)} pages)  "
            f"alone best-match F1={ceiling:.3f}"
        )
        if verbose:
            for name in wrong:
                print(f"    split: {name}{' (gold cut)' if name in cut else ''}")
