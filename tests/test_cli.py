"""Every ``briefbot`` subcommand through ``bot.cli.main``: exit status, output, no stray writes.

``run`` is covered as a subprocess by test_startup.py and test_locks.py; ``ingest`` in depth
by test_ingest_cli.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from clirun import SETTINGS
from conftest import SEEDS

from bot.cli import main
from bot.context import AppContext

READ_ONLY = [
    (["search", "Greenland"], "Trump: US has to have Greenland"),
    (["search", "zzqqxx"], "Nothing found."),
    (["topics"], "Topics"),
    (["stats"], '"articles"'),
    (["brief", "--since", "1w"], ""),
    (["deliveries", "--date", "2026-05-04"], "sent 0"),
    (["db", "current"], "schema revision: "),
]


@pytest.fixture
def use_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Point the CLI at nothing but what a test sets (no token: terminal mode)."""
    for key in SETTINGS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    yield monkeypatch


@pytest.fixture
def seeded_file(seeded_ctx: AppContext, use_env: pytest.MonkeyPatch) -> Path:
    """The path of a seeded SQLite store, closed, that DATABASE_URL points at."""
    seeded_ctx.sessions.kw["bind"].dispose()
    url = seeded_ctx.settings.database_url
    use_env.setenv("DATABASE_URL", url)
    return Path(url.removeprefix("sqlite:///"))


def snapshot(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


IDS = [" ".join(argv) for argv, _ in READ_ONLY]


@pytest.mark.parametrize(("argv", "expected"), READ_ONLY, ids=IDS)
def test_read_only_commands_answer_and_write_nothing(
    argv: list[str], expected: str, seeded_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(seeded_file) as connection:  # a topic the taxonomy would rewrite
        connection.execute("UPDATE topics SET label = 'stale' WHERE slug = 'politics'")
    connection.close()
    watcher = sqlite3.connect(seeded_file)  # sees any other connection's commit
    version = watcher.execute("PRAGMA data_version").fetchone()
    before, mtime = snapshot(seeded_file), seeded_file.stat().st_mtime_ns
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert expected in out
    assert watcher.execute("PRAGMA data_version").fetchone() == version
    assert snapshot(seeded_file) == before and seeded_file.stat().st_mtime_ns == mtime
    assert watcher.execute("SELECT label FROM topics WHERE slug = 'politics'").fetchone() == (
        "stale",
    )
    wal = seeded_file.with_name(seeded_file.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    watcher.close()


def test_cli_search_and_stats_report_the_seeds(
    seeded_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["articles"] > 0
    assert main(["search", "Greenland"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("[") and " — " in line for line in lines)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["brief", "--since", "yesterday-ish"], "--since"),
        (["brief", "--topics", "bogus"], "unknown topic 'bogus'"),
        (["deliveries", "--date", "May 4"], "--date"),
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], says: str, seeded_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]


@pytest.mark.parametrize(("argv", "_"), READ_ONLY[:-1], ids=IDS[:-1])
def test_read_only_commands_refuse_an_unmigrated_store(
    argv: list[str],
    _: str,
    database_url: str,
    use_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if database_url.startswith("sqlite"):
        sqlite3.connect(database_url.removeprefix("sqlite:///")).close()  # an empty file
    use_env.setenv("DATABASE_URL", database_url)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "briefbot db upgrade" in err[0] and "DATABASE_URL" in err[0]
    engine = sa.create_engine(database_url)
    assert sa.inspect(engine).get_table_names() == []  # nothing was created
    engine.dispose()


def test_read_only_commands_do_not_create_a_missing_store(
    tmp_path: Path, use_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'nothing.sqlite3'}")
    assert main(["stats"]) == 2
    assert "no store at" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_db_upgrade_then_current(
    sqlite_url: str, use_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_env.setenv("DATABASE_URL", sqlite_url)
    assert main(["db", "upgrade"]) == 0
    upgraded = capsys.readouterr().out.strip()
    revision = upgraded.split()[2]
    assert upgraded == f"schema revision: {revision} (newest: {revision})"
    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.strip() == upgraded
    assert main(["stats"]) == 0  # now the read-only commands work
    assert json.loads(capsys.readouterr().out)["articles"] == 0


def test_reingest_rederives_the_stored_documents(
    seeded_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = _articles(seeded_file)
    assert main(["reingest"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(" 0 errors") and "  error:" not in out
    assert _articles(seeded_file) == articles  # stable identity


def _articles(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT id, title FROM articles ORDER BY id").fetchall()


def test_chat_reads_commands_from_stdin(
    seeded_file: Path, use_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_env.setattr(sys, "stdin", io.StringIO("/search Greenland\n/quit\n/help\n"))
    assert main(["chat"]) == 0
    captured = capsys.readouterr()
    assert "Results for “Greenland”" in captured.out
    assert "/subscribe" not in captured.out  # /quit ended the chat before /help
    assert captured.err == ""


def test_ingest_then_search_through_main(
    sqlite_url: str, use_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_env.setenv("DATABASE_URL", sqlite_url)
    assert main(["ingest", str(SEEDS)]) == 0
    assert "articles stored" in capsys.readouterr().out
    assert main(["search", "Greenland"]) == 0
    assert "Greenland" in capsys.readouterr().out
