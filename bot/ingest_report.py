"""Terminal output of ``briefbot ingest``: progress, final report, and the dry run."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from briefings.ingest import FileResult, IngestReport


def progress_printer() -> Callable[[FileResult], None] | None:
    """Return a callback drawing a one-line progress counter on a terminal (else None)."""
    if not sys.stderr.isatty():
        return None
    done = 0

    def show(result: FileResult) -> None:
        nonlocal done
        done += 1
        name = Path(result.path).name[:50]
        sys.stderr.write(f"\r\x1b[K[{done}] {result.status:<9} {name}")
        sys.stderr.flush()

    return show


def print_report(report: IngestReport, fmt: str) -> None:
    """Print the final report: totals, then every error with its file and reason."""
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")
    if fmt == "jsonl":
        for result in report.files:
            print(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    print(report.summary_line())
    for result in report.errors:
        print(f"  error: {result.path}: {result.error}")


def print_dry_run(report: IngestReport, fmt: str) -> None:
    """Print what a real ingest would store (one JSON object per article for jsonl)."""
    for result in report.files:
        for article in result.articles:
            record = {
                "title": article.title,
                "source": article.source,
                "byline": article.byline,
                "published": article.published.isoformat() if article.published else None,
                "language": article.language,
                "body": article.body,
                "summary": article.summary,
                "topics": [slug for slug, _ in article.topics],
                "source_file": result.path,
            }
            if fmt == "jsonl":
                print(json.dumps(record, ensure_ascii=False))
            else:
                topics = ", ".join(record["topics"]) or "-"  # type: ignore[arg-type]
                name = Path(result.path).name
                print(f"{name}: {article.title} [{article.source or '?'}] ({topics})")
    if fmt == "jsonl":  # stdout holds only article records
        for result in report.errors:
            print(f"error: {result.path}: {result.error}", file=sys.stderr)
        return
    print("dry run: nothing was written; a real ingest would report:")
    print_report(report, fmt)
