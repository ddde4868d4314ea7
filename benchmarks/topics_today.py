"""Topic precision and recall on recent news labelled by hand (the seeds, Readability pages).

Usage:
    .venv/bin/python benchmarks/topics_today.py [--show]

The BBC set has one label per article and five subjects only; it cannot say whether a
story is filed under the right places, or under too many topics. This script scores
every topic ``classify`` files each story under against hand labels in
``benchmarks/data/topics_today.json`` (how they were made is written there): the 8 seed
articles, read and tagged by the real pipeline (``derive_article``), and 26 English
news pages of the Readability set (gold title and body from
/work/shared/eval/cleaning/readability/gold.jsonl). Prints per-topic precision and
recall, micro precision/recall/F1, and per story the false and the missed topics
(``--show``: every story's topics). Nothing is tuned on it: 34 stories is a check, not
a training set.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from briefings.pipeline import PipelineConfig, derive_article  # noqa: E402
from briefings.text.read import parse_document  # noqa: E402
from briefings.topics.taxonomy import load_taxonomy  # noqa: E402

LABELS = Path(__file__).resolve().parent / "data" / "topics_today.json"
READABILITY = Path("/work/shared/eval/cleaning/readability/gold.jsonl")


def _key(title: str) -> str:
    return title.replace("’", "'").replace("‘", "'")


def stories() -> list[tuple[str, set[str], list[str]]]:
    """(name, gold topics, filed topics) for every labelled story."""
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    taxonomy = load_taxonomy()
    out = []
    config = PipelineConfig(taxonomy)
    for path in sorted((ROOT / "seeds").iterdir()):
        for parsed in parse_document(path.name, path.read_bytes()):
            article = derive_article(parsed, config)
            prefix = next(
                (p for p in labels["seeds"] if _key(article.title).startswith(_key(p))), None
            )
            if prefix is None:
                raise SystemExit(f"no label for seed story {article.title!r}")
            filed = [slug for slug, _ in article.topics]
            out.append((f"seed: {article.title[:50]}", set(labels["seeds"][prefix]), filed))
    pages = {}
    for line in READABILITY.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            pages[row["id"]] = row
    for page_id, gold in labels["readability"].items():
        row = pages[page_id]
        filed = [slug for slug, _ in taxonomy.classify(row["title"], row["body"])]
        out.append((f"page: {page_id}", set(gold), filed))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the figures; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true", help="print every story's topics")
    args = ap.parse_args(argv)
    rows = stories()
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for name, gold, filed in rows:
        for slug in filed:
            (tp if slug in gold else fp)[slug] += 1
        for slug in gold - set(filed):
            fn[slug] += 1
        false, missed = sorted(set(filed) - gold), sorted(gold - set(filed))
        if args.show or false or missed:
            print(f"{name:<62} filed {','.join(filed) or '-'}")
            if false or missed:
                print(f"{'':<62} false {','.join(false) or '-'}; missed {','.join(missed) or '-'}")
    print(f"\n{'topic':<16}{'prec':>7}{'rec':>7}{'filed':>7}{'gold':>6}")
    for slug in sorted(set(tp) | set(fp) | set(fn)):
        filed_n, gold_n = tp[slug] + fp[slug], tp[slug] + fn[slug]
        prec = tp[slug] / filed_n if filed_n else 0.0
        rec = tp[slug] / gold_n if gold_n else 0.0
        print(f"{slug:<16}{prec:7.2f}{rec:7.2f}{filed_n:7d}{gold_n:6d}")
    t, f, m = sum(tp.values()), sum(fp.values()), sum(fn.values())
    prec, rec = t / (t + f) if t + f else 0.0, t / (t + m) if t + m else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    print(
        f"{len(rows)} stories: micro precision {prec:.3f}, recall {rec:.3f}, F1 {f1:.3f}; "
        f"topics per story {(t + f) / len(rows):.2f} (gold {(t + m) / len(rows):.2f}); "
        f"false per story {f / len(rows):.2f}, missed per story {m / len(rows):.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
