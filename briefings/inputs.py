"""Ingest inputs and outcomes: finding and reading dump files, and what happened to each.

The I/O edge of the ingest worker (:mod:`briefings.ingest`): it walks folders, reads files
with a size limit, and reports per file. It touches no store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from briefings.errors import BadInput

if TYPE_CHECKING:
    from storage.documents import NewArticle

MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass
class FileResult:
    """What happened to one input file."""

    path: str
    status: str  # ingested | unchanged | error | empty | dry-run
    stored: int = 0
    duplicates: int = 0
    error: str | None = None
    # what was (or, in a dry run, would have been) stored; kept only in dry runs
    articles: list[NewArticle] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, object]:
        """The result without its articles, for JSON reports."""
        return {key: value for key, value in vars(self).items() if key != "articles"}


@dataclass
class IngestReport:
    """Totals of an ingest run, plus each file's result."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def stored(self) -> int:
        """Articles stored (new or updated)."""
        return sum(result.stored for result in self.files)

    @property
    def duplicates(self) -> int:
        """Articles dropped as exact duplicates of stored ones."""
        return sum(result.duplicates for result in self.files)

    @property
    def errors(self) -> list[FileResult]:
        """Files that could not be ingested."""
        return [result for result in self.files if result.status == "error"]

    @property
    def skipped(self) -> int:
        """Files already ingested with the same bytes."""
        return sum(1 for result in self.files if result.status == "unchanged")

    def summary_line(self) -> str:
        """One line for logs and chat replies."""
        return (
            f"{_count(len(self.files), 'file')} read, {self.stored} articles stored, "
            f"{_count(self.duplicates, 'duplicate')}, {self.skipped} unchanged, "
            f"{_count(len(self.errors), 'error')}"
        )


def _count(n: int, noun: str) -> str:
    """The count and its noun, plural unless one ("1 file", "2 files")."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def iter_input_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield files under ``paths`` (folders recursively, sorted; hidden files skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(
                    p.startswith(".") for p in child.parts[len(path.parts) :]
                ):
                    yield child
        else:
            yield path


def storable_path(path: Path) -> str:
    """``path`` as text any database takes: bytes undecodable in a file name become U+FFFD."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[bytes, datetime]:
    """Read a whole file, refusing huge ones and ones that change while being read.

    Raises:
        BadInput: unreadable, too large, or modified during the read.
    """
    try:
        before = path.stat()
        if before.st_size > max_bytes:
            raise BadInput(f"file too large ({before.st_size} bytes; limit {max_bytes})")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
        after = path.stat()
    except FileNotFoundError:
        raise BadInput("file not found (it may have been moved or deleted)") from None
    except PermissionError:
        raise BadInput("permission denied") from None
    except IsADirectoryError:
        raise BadInput("is a directory") from None
    except OSError as exc:
        raise BadInput(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise BadInput(f"file too large (over {max_bytes} bytes)")
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise BadInput("file changed while being read; it will be retried next time")
    return data, datetime.fromtimestamp(after.st_mtime, UTC)
