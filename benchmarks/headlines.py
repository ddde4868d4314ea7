"""Headlines built for untitled stories, scored against real titles.

Usage::

    .venv/bin/python benchmarks/headlines.py [--limit N] [--max-chars 90]

Titles are stripped and each story gets the headline ingest would build for it
(:func:`briefings.pipeline.headline_for` on the body alone), with the summary ingest
would store next to it. Printed per set:

- ``<=90``: share of headlines within the length limit;
- ``differs``: share whose headline is not the summary's first sentence (compared
  case- and punctuation-insensitively);
- ``R1``: ROUGE-1 F1 × 100 (rouge-score, stemmer on) of the headline against the real
  title, or, for CNN/DailyMail, which has no titles, against its first highlight;
- ``words``: mean headline length in words.

Sets (from /work/shared/eval, see its README): BBC News (``topics/bbc_dev.jsonl``, real
titles), CNN/DailyMail (``summaries/cnndm_dev.jsonl``, first highlight) and the
Readability pages (``cleaning/readability/gold.jsonl``, real titles, several languages).
Baselines: the readers' old fallback (the body's first sentence, 140 characters at
most) and the body's first 90 characters cut at a space. Nothing here is tuned on
these sets: the builder's few constants (90 characters, 4-word minimum, clause cuts
keeping 40% of the limit) are fixed by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from briefings.pipeline import _sumy_language, headline_for  # noqa: E402
from briefings.summary.headline import MAX_CHARS  # noqa: E402
from briefings.summary.summarise import summarise  # noqa: E402
from briefings.text.article import ParsedArticle  # noqa: E402
from briefings.text.language import detect_language  # noqa: E402

EVAL = Path("/work/shared/eval")
_NORM = re.compile(r"\W+")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9\"'”’)][.!?])\s+(?=[A-Z\"“‘'])")


def _rows(limit: int | None) -> Iterable[tuple[str, list[tuple[str, str, str]]]]:
    """(set name, [(reference, body, note)]) per evaluation set."""
    sets = [
        ("bbc", EVAL / "topics" / "bbc_dev.jsonl", "title", "text"),
        ("cnndm", EVAL / "summaries" / "cnndm_dev.jsonl", "highlights", "article"),
        ("readability", EVAL / "cleaning" / "readability" / "gold.jsonl", "title", "body"),
    ]
    for name, path, ref_key, body_key in sets:
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            ref = str(obj[ref_key]).split("\n")[0].strip()
            body = str(obj[body_key])
            if name == "cnndm":  # one paragraph per sentence run, as the summariser reads it
                body = body.strip()
            if ref and body.strip():
                rows.append((ref, body, str(obj.get("lang", "en"))))
        yield name, rows[:limit] if limit else rows


def _norm(text: str) -> str:
    return _NORM.sub(" ", text.casefold()).strip()


def old_fallback(body: str) -> str:
    """The title the readers gave an untitled story: its first sentence (≤ 140 chars)."""
    first = _SENTENCE_END.split(body.strip().split("\n", 1)[0], maxsplit=1)[0]
    return first[:140].rsplit(" ", 1)[0] + "…" if len(first) > 140 else first


def first_90(body: str) -> str:
    """The body's first 90 characters, cut at a space."""
    text = " ".join(body.split())
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS].rsplit(" ", 1)[0]


def built(body: str, language: str) -> tuple[str, list[str]]:
    """The headline and the summary ingest would store for an untitled story."""
    title, leave_out = headline_for(ParsedArticle(title="", body=body), language)
    return title, summarise(body, 3, language=language, exclude=leave_out)


def score(
    rows: list[tuple[str, str, str]], make: Callable[[str, str], tuple[str, list[str]]]
) -> dict[str, float]:
    """Length, repeat and ROUGE-1 figures of one headline maker on one set."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    short = differs = 0
    r1 = words = 0.0
    for ref, body, _lang in rows:
        language = _sumy_language(detect_language(body))
        head, summary = make(body, language)
        short += len(head) <= MAX_CHARS
        differs += not summary or _norm(summary[0]) != _norm(head)
        r1 += scorer.score(ref, head)["rouge1"].fmeasure
        words += len(head.split())
    n = max(1, len(rows))
    return {
        "<=90": 100 * short / n,
        "differs": 100 * differs / n,
        "R1": 100 * r1 / n,
        "words": words / n,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="articles per set")
    args = ap.parse_args(argv)

    def baseline(fn: Callable[[str], str]) -> Callable[[str, str], tuple[str, list[str]]]:
        return lambda body, language: (fn(body), summarise(body, 3, language=language))

    makers = {
        "built": built,
        "old fallback": baseline(old_fallback),
        "first 90 chars": baseline(first_90),
    }
    print(f"{'set':<12}{'headline':<16}{'n':>6}{'<=90 %':>8}{'differs %':>11}{'R1':>7}{'words':>7}")
    for name, rows in _rows(args.limit):
        for label, make in makers.items():
            s = score(rows, make)
            print(
                f"{name:<12}{label:<16}{len(rows):>6}{s['<=90']:>8.1f}{s['differs']:>11.1f}"
                f"{s['R1']:>7.2f}{s['words']:>7.1f}"
            )
    print("R1 reference: the real title (bbc, readability), the first highlight (cnndm)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
