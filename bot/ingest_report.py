"""Terminal output of ``briefbot ingest``: progress, final report, and the dry run."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.settings import Settings
from briefings.errors import BadInput
from briefings.ingest import FileResult, IngestReport, iter_input_files, read_file
from briefings.pipeline import PipelineConfig, derive_document
from briefings.topics.taxonomy import load_taxonomy


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
            print(json.dumps(result.__dict__, ensure_ascii=False))
        return
    print(report.summary_line())
    for result in report.errors:
        print(f"  error: {result.path}: {result.error}")


def dry_run(settings: Settings, paths: Sequence[Path], fmt: str) -> int:
    """Print what ingest would store (one JSON object per article for jsonl); write nothing."""
    taxonomy = load_taxonomy(extra=settings.topics_file)
    config = PipelineConfig(taxonomy=taxonomy, summarizer=settings.summarizer)
    files = errors = 0
    for path in iter_input_files(paths):
        files += 1
        try:
            data, file_time = read_file(path)
            articles = derive_document(path.name, data, config, file_time=file_time)
        except BadInput as exc:
            errors += 1
            print(f"error: {path}: {exc}", file=sys.stderr)
            continue
        for article in articles:
            record = {
                "title": article.title,
                "source": article.source,
                "byline": article.byline,
                "published": article.published.isoformat() if article.published else None,
                "language": article.language,
                "body": article.body,
                "summary": article.summary,
                "topics": [slug for slug, _ in article.topics],
                "source_file": str(path),
            }
            if fmt == "jsonl":
                print(json.dumps(record, ensure_ascii=False))
            else:
                topics = ", ".join(record["topics"]) or "-"  # type: ignore[arg-type]
                print(f"{path.name}: {article.title} [{article.source or '?'}] ({topics})")
    return 1 if files and errors == files else 0
