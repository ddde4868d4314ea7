"""``briefbot ingest``: reports, exit codes, dry run, and bad input that never loses data."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS, make_settings
from sqlalchemy import func, select

from bot.app import build_context
from bot.cli import main
from briefings.errors import BadInput
from briefings.ingest import read_file
from storage.models import Article, SourceDocument


def _env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)


def _count(url: str) -> int:
    ctx = build_context(make_settings(url))
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count(Article.id))) or 0)


def test_ingest_twice_keeps_the_same_articles(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    _env(monkeypatch, sqlite_url)
    assert main(["ingest", str(SEEDS)]) == 0
    first = capsys.readouterr().out
    assert "2 files read, 8 articles stored" in first
    assert main(["ingest", str(SEEDS)]) == 0
    assert "0 articles stored" in capsys.readouterr().out
    assert _count(sqlite_url) == 8


def test_corrupt_file_is_reported_by_name(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    _env(monkeypatch, sqlite_url)
    corrupt = tmp_path / "corrupt.bin"
    corrupt.write_bytes(os.urandom(4096))
    assert main(["ingest", str(corrupt), *map(str, sorted(SEEDS.iterdir()))]) == 0
    out = capsys.readouterr().out
    assert f"error: {corrupt}:" in out
    assert _count(sqlite_url) == 8


def test_exit_code_is_nonzero_only_when_nothing_ingested(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path
) -> None:
    _env(monkeypatch, sqlite_url)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert main(["ingest", str(empty)]) == 1
    assert main(["ingest", str(tmp_path / "missing.txt")]) == 1


def test_dry_run_jsonl_prints_articles_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sqlite_url: str
) -> None:
    _env(monkeypatch, sqlite_url)
    assert main(["ingest", "--dry-run", "--format", "jsonl", str(SEEDS)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == 8
    keys = {
        "title",
        "source",
        "byline",
        "published",
        "language",
        "body",
        "summary",
        "topics",
        "source_file",
    }
    assert all(set(record) == keys for record in records)
    assert all(record["summary"] for record in records)
    assert _count(sqlite_url) == 0


def test_file_changing_while_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.txt"
    path.write_text("Headline\n\nSome text.")
    real_stat = Path.stat
    calls = {"n": 0}

    def stat(self: Path, **kw: object):  # type: ignore[no-untyped-def]
        result = real_stat(self)
        calls["n"] += 1
        if calls["n"] == 2:  # the file grows between the two looks
            path.write_text("Headline\n\nSome text. And more text appended meanwhile.")
            return real_stat(self)
        return result

    monkeypatch.setattr(Path, "stat", stat)
    with pytest.raises(BadInput, match="changed while being read"):
        read_file(path)


def test_failed_store_leaves_no_half_written_rows(seeded_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with seeded_ctx.sessions() as session:
        before = session.scalar(select(func.count(Article.id)))
    dump = tmp_path / "two.jsonl"
    lines = [
        {"title": "First story about zebras", "text": "Zebras crossed the river today. " * 20},
        {"title": "Second story about lions", "text": "Lions slept all afternoon. " * 20},
    ]
    dump.write_text("\n".join(json.dumps(line) for line in lines))
    calls = {"n": 0}
    real = seeded_ctx.ingestor.linker.story_for

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    seeded_ctx.ingestor.linker.story_for = explode
    result = seeded_ctx.ingestor.ingest_file(dump)
    assert result.status == "error" and "disk full" in (result.error or "")
    with seeded_ctx.sessions() as session:
        assert session.scalar(select(func.count(Article.id))) == before
        status = session.scalar(
            select(SourceDocument.status).where(SourceDocument.path == str(dump))
        )
        assert status == "error"
    seeded_ctx.ingestor.linker.story_for = real
    assert seeded_ctx.ingestor.ingest_file(dump).stored == 2  # retried later, it lands


@pytest.mark.slow
def test_unreadable_path_is_reported(tmp_path: Path) -> None:
    """A file we may not read is reported; the others still land (run without DAC override)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("Title\n\nBody text that nobody may read.")
    secret.chmod(0o000)
    readable = tmp_path / "ok.jsonl"
    readable.write_text(json.dumps({"title": "Readable", "text": "A readable story. " * 10}))
    command = [sys.executable, "-m", "bot", "ingest", str(secret), str(readable)]
    if os.geteuid() == 0:  # root reads anything: drop the capabilities that allow it
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot make a file unreadable")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert f"error: {secret}: permission denied" in result.stdout
    assert "1 articles stored" in result.stdout
