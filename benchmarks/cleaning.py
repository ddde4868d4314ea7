"""Cleaning quality and speed on the scrapinghub article-extraction dev pages.

Usage: ``.venv/bin/python benchmarks/cleaning.py [--eval-dir ../shared/eval] [-v]``

Scores exactly as ``eval/README.md`` says: lower-cased ``\\w+`` tokens, multiset overlap,
precision/recall/F1 averaged over pages. Text dumps go through ``parse_document`` (the
first article's body is the page's body); ``*.html.gz`` through the HTML path.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from briefings.errors import BadInput  # noqa: E402
from briefings.text.decode import decode  # noqa: E402
from briefings.text.read import parse_document  # noqa: E402
from briefings.text.split import split_dump  # noqa: E402

_TOKEN = re.compile(r"\w+")


def prf(candidate: str, gold: str) -> tuple[float, float, float]:
    """Token precision, recall and F1 of ``candidate`` against ``gold``."""
    a, g = Counter(_TOKEN.findall(candidate.lower())), Counter(_TOKEN.findall(gold.lower()))
    overlap = sum((a & g).values())
    p = overlap / max(1, sum(a.values()))
    r = overlap / max(1, sum(g.values()))
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def body_of(name: str, data: bytes) -> str:
    """First article's body, or "" when the reader rejects the page."""
    try:
        return parse_document(name, data)[0].body
    except BadInput:
        return ""


def run(pages: dict[str, bytes], gold: dict[str, str], label: str, verbose: bool) -> None:
    """Score one path through ``parse_document``; prints one summary line (worst pages: -v)."""
    scores = []
    t0 = time.process_time()
    bodies = {name: body_of(name, data) for name, data in pages.items()}
    elapsed = time.process_time() - t0
    for name, body in bodies.items():
        scores.append((*prf(body, gold[name]), name))
    n = len(scores)
    p, r, f = (statistics.fmean(s[i] for s in scores) for i in range(3))
    print(
        f"{label:<5} pages={n:3d}  P={p:.3f}  R={r:.3f}  F1={f:.3f}  "
        f"parse_document {n / elapsed:6.1f} pages/s (CPU)"
    )
    if verbose:
        for sp, sr, sf, name in sorted(scores, key=lambda s: s[2])[:15]:
            print(f"    {sf:.2f}  P={sp:.2f} R={sr:.2f}  {name}")


def split_speed(pages: dict[str, bytes], repeat: int) -> None:
    """Pages per CPU-second of the cleaning+splitting step alone (text already decoded)."""
    texts = [decode(data) for data in pages.values()]
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.process_time()
        for text in texts:
            split_dump(text)
        best = min(best, time.process_time() - t0)
    print(
        f"text  cleaning+splitting (split_dump) {len(texts) / best:6.1f} pages/s (CPU, best of "
        f"{max(1, repeat)})"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 2 when the eval data is missing."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--repeat", type=int, default=5, help="timing repeats for split_dump")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    folder = args.eval_dir / "cleaning" / args.split
    if not (folder / "gold.jsonl").is_file():
        print(f"no eval data at {folder}", file=sys.stderr)
        return 2
    gold = {}
    for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        gold[rec["id"]] = rec["body"]
    # dev/ names its files by the first 16 characters of the id, readability/ by the id
    short = {page_id[:16]: page_id for page_id in gold}
    files = sorted(folder.glob("*.txt")) + sorted(folder.glob("*.html.gz"))
    ids = {p.name: short.get(p.name.split(".")[0], p.name.split(".")[0]) for p in files}
    texts = {p.name: p.read_bytes() for p in files if p.suffix == ".txt" and ids[p.name] in gold}
    htmls = {p.name: p.read_bytes() for p in files if p.suffix == ".gz" and ids[p.name] in gold}
    gold = {name: gold[page_id] for name, page_id in ids.items() if page_id in gold}
    run(texts, gold, "text", args.verbose)
    split_speed(texts, args.repeat)
    run(htmls, gold, "html", args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
