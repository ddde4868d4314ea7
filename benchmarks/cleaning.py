"""Cleaning quality and speed on the scrapinghub article-extraction dev pages.

Usage: ``.venv/bin/python benchmarks/cleaning.py [--split dev,readability] [--no-html]
[--only text,html,chained] [-v]``

Scores exactly as ``eval/README.md`` says: lower-cased ``\\w+`` tokens, multiset overlap,
precision/recall/F1 averaged over pages. Text dumps go through ``parse_document`` (the
first article's body is the page's body); ``*.html.gz`` through the HTML path.

The text cleaner's only corpus-fitted part is the cross-dump boilerplate set
(:mod:`briefings.text.corpus`). Besides the plain figure (no corpus signal) each split
prints that signal fitted three ways: on all pages (``corpus=all``: the scored page is in
its own training set), 5-fold (``5-fold``: fitted on the other four folds) and
leave-site-out (``LOSO``: fitted on the other sites' pages). The rules themselves were
written against ``dev/``: ``readability/`` is the held-out figure for them.

``chained`` lines score dumps made of 2-4 whole pages one after another (see
:mod:`chained`): articles per dump, best-match F1 per page, and the false-split rate of
the same pages alone; ``chained 5-fold`` fits the corpus signal on the other folds.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import chained  # noqa: E402  (benchmarks/ is the script's own directory)

from briefings.errors import BadInput  # noqa: E402
from briefings.text.corpus import boilerplate_lines, candidate_keys  # noqa: E402
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


def body_of(name: str, data: bytes, boilerplate: frozenset[str] = frozenset()) -> str:
    """First article's body, or "" when the reader rejects the page."""
    try:
        return parse_document(name, data, boilerplate_lines=boilerplate)[0].body
    except BadInput:
        return ""


def mean_prf(
    bodies: Mapping[str, str], gold: Mapping[str, str]
) -> tuple[float, float, float, list[tuple[float, float, float, str]]]:
    """Mean P, R, F1 over pages, and the per-page scores."""
    scores = [(*prf(body, gold[name]), name) for name, body in bodies.items()]
    p, r, f = (
        statistics.fmean(s[0] for s in scores),
        statistics.fmean(s[1] for s in scores),
        statistics.fmean(s[2] for s in scores),
    )
    return p, r, f, scores


def run(pages: dict[str, bytes], gold: dict[str, str], label: str, verbose: bool) -> None:
    """Score one path through ``parse_document``; prints one summary line (worst pages: -v)."""
    t0 = time.process_time()
    bodies = {name: body_of(name, data) for name, data in pages.items()}
    elapsed = time.process_time() - t0
    p, r, f, scores = mean_prf(bodies, gold)
    print(
        f"{label:<16} pages={len(scores):3d}  P={p:.3f}  R={r:.3f}  F1={f:.3f}  "
        f"parse_document {len(scores) / elapsed:6.1f} pages/s (CPU)"
    )
    if verbose:
        for sp, sr, sf, name in sorted(scores, key=lambda s: s[2])[:15]:
            print(f"    {sf:.2f}  P={sp:.2f} R={sr:.2f}  {name}")


def held_out(
    texts: dict[str, bytes],
    gold: dict[str, str],
    group: Callable[[str], str] | None,
    label: str,
) -> None:
    """Score text dumps with the cross-dump boilerplate set fitted on the pages of other
    groups (``group=None``: on all pages, the scored one included)."""
    keys = {name: candidate_keys(decode(data)) for name, data in texts.items()}
    groups = {name: group(name) if group else "" for name in texts}
    bodies = {}
    for name, data in texts.items():
        train = [k for other, k in keys.items() if not group or groups[other] != groups[name]]
        counts: Counter[str] = Counter()
        for k in train:
            counts.update(k)
        bodies[name] = body_of(name, data, boilerplate_lines(counts, len(train)))
    p, r, f, scores = mean_prf(bodies, gold)
    folds = f"({len(set(groups.values()))} groups)" if group else "(fitted on all)"
    print(f"{label:<16} pages={len(scores):3d}  P={p:.3f}  R={r:.3f}  F1={f:.3f}  {folds}")


def fold_boilerplate(
    texts: Mapping[str, bytes], folds: Mapping[str, str]
) -> Callable[[str], frozenset[str]]:
    """For a page, the cross-dump boilerplate set fitted on the pages of the other folds."""
    keys = {name: candidate_keys(decode(data)) for name, data in texts.items()}
    fitted = {}
    for fold in set(folds.values()):
        train = [k for name, k in keys.items() if folds[name] != fold]
        counts: Counter[str] = Counter()
        for k in train:
            counts.update(k)
        fitted[fold] = boilerplate_lines(counts, len(train))
    return lambda name: fitted[folds[name]]


def split_speed(pages: dict[str, bytes], repeat: int) -> None:
    """Pages per CPU-second of the cleaning+splitting step alone (text already decoded)."""
    texts = [decode(data) for data in pages.values()]
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.process_time()
        for text in texts:
            split_dump(text)
        best = min(best, time.process_time() - t0)
    mb = sum(len(text) for text in texts) / 2**20
    print(
        f"text  cleaning+splitting (split_dump) {len(texts) / best:6.1f} pages/s, "
        f"{mb / best:5.2f} MB/s (CPU, best of {max(1, repeat)})"
    )


_NUMBERED = re.compile(r"-\d+$")


def site_of(page_id: str, url: str | None) -> str:
    """Site of a page: the URL's host without ``www.``, else the id minus a ``-N`` suffix."""
    if url:
        host = urlsplit(url).hostname or ""
        return host.removeprefix("www.")
    return _NUMBERED.sub("", page_id)


def bench_split(folder: Path, args: argparse.Namespace) -> int:
    """Print the figures of one split (``dev``, ``readability``); 2 when it is missing."""
    if not (folder / "gold.jsonl").is_file():
        print(f"no eval data at {folder}", file=sys.stderr)
        return 2
    gold, sites = {}, {}
    for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        gold[rec["id"]] = rec["body"]
        sites[rec["id"]] = site_of(rec["id"], rec.get("url"))
    # dev/ names its files by the first 16 characters of the id, readability/ by the id
    short = {page_id[:16]: page_id for page_id in gold}
    files = sorted(folder.glob("*.txt")) + sorted(folder.glob("*.html.gz"))
    ids = {p.name: short.get(p.name.split(".")[0], p.name.split(".")[0]) for p in files}
    texts = {p.name: p.read_bytes() for p in files if p.suffix == ".txt" and ids[p.name] in gold}
    htmls = {p.name: p.read_bytes() for p in files if p.suffix == ".gz" and ids[p.name] in gold}
    gold = {name: gold[page_id] for name, page_id in ids.items() if page_id in gold}
    split = folder.name
    only = set(args.only.split(","))
    print(f"== {split}")
    order = {name: k for k, name in enumerate(sorted(texts))}
    if "text" in only:
        run(texts, gold, f"text {split}", args.verbose)
        held_out(texts, gold, None, "text corpus=all")
        held_out(texts, gold, lambda name: str(order[name] % 5), "text 5-fold")
        held_out(texts, gold, lambda name: sites[ids[name]], "text LOSO")
        split_speed(texts, args.repeat)
    if "html" in only and not args.no_html:
        run(htmls, gold, f"html {split}", args.verbose)
    if "chained" in only:
        decoded = {name: decode(data) for name, data in texts.items()}
        chained.report(f"chained {split}", decoded, gold, prf, verbose=args.verbose)
        folds = {name: str(order[name] % 5) for name in texts}
        chained.report(
            "chained 5-fold",
            decoded,
            gold,
            prf,
            folds=folds,
            boilerplate=fold_boilerplate(texts, folds),
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 2 when the eval data is missing."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    ap.add_argument("--split", default="dev,readability", help="comma-separated splits")
    ap.add_argument("--repeat", type=int, default=5, help="timing repeats for split_dump")
    ap.add_argument("--no-html", action="store_true", help="skip the HTML path")
    ap.add_argument("--only", default="text,html,chained", help="comma-separated parts to run")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    status = 0
    for split in args.split.split(","):
        status = max(status, bench_split(args.eval_dir / "cleaning" / split, args))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
