"""Start-up mistakes: one line on stderr naming the setting, exit status 2, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from clirun import assert_refused, briefbot, clean_env
from conftest import SEEDS

from bot.cli import main


def pg_url(database: str, port: int = 5432) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/{database}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "setting", "says"),
    [
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL", "not a database URL"),
        ({"DATABASE_URL": "mysql://u:secret@localhost/db"}, "DATABASE_URL", "mysql is not"),
        ({"DATABASE_URL": pg_url("test", port=1)}, "DATABASE_URL", "Connection refused"),
        ({"DATABASE_URL": "sqlite:////typo/dir/x.db"}, "DATABASE_URL", "does not exist"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", "WARNING"),
        ({"SUMMARIZER": "gpt4"}, "SUMMARIZER", "lexrank"),
    ],
    ids=["nonsense", "mysql", "pg-unreachable", "sqlite-typo-folder", "log-level", "summarizer"],
)
def test_run_refuses_a_bad_setting_in_one_line(
    tmp_path: Path, env: dict[str, str], setting: str, says: str
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}", "SEEDS_DIR": str(SEEDS), **env}
    line = assert_refused(briefbot(tmp_path, "run", **env), setting)
    assert says in line
    assert "secret" not in line
    assert not Path("/typo").exists()  # only the default ./data folder is ever created
    assert not (tmp_path / "s.sqlite3").exists()  # refused before the store was touched


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.usefixtures("postgres_url")  # the server is up: only the database is missing
def test_run_refuses_a_postgres_database_that_does_not_exist(tmp_path: Path) -> None:
    line = assert_refused(
        briefbot(tmp_path, "run", DATABASE_URL=pg_url("briefbot_no_such_db")), "DATABASE_URL"
    )
    assert "'briefbot_no_such_db' does not exist" in line and "createdb" in line


def read_only_prefix(folder: Path) -> tuple[str, ...]:
    """A command prefix under which ``folder`` is read-only, even for root."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return ()
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "false", "-m", "true"], capture_output=True, check=False)
    if unshare is None or probe.returncode != 0:
        pytest.skip("running as root without mount namespaces: cannot make a read-only folder")
    script = f'mount --bind -o ro "{folder}" "{folder}" && exec "$0" "$@"'
    return (unshare, "-m", "sh", "-c", script)


@pytest.mark.slow
def test_run_refuses_a_read_only_data_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    prefix = read_only_prefix(folder)
    url = f"sqlite:///{folder / 'store.sqlite3'}"
    result = briefbot(tmp_path, "run", prefix=prefix, DATABASE_URL=url, SEEDS_DIR=str(SEEDS))
    assert "not writable" in assert_refused(result, "DATABASE_URL")


@pytest.mark.slow
def test_run_from_another_folder_reports_the_missing_seeds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    result = briefbot(tmp_path, "run", DATABASE_URL=url)  # no SEEDS_DIR, no ./seeds here
    line = assert_refused(result, "SEEDS_DIR")
    assert str(tmp_path / "seeds") in line
    assert result.stdout == ""


@pytest.mark.slow
def test_an_empty_seeds_folder_starts_empty_on_purpose(tmp_path: Path) -> None:
    (tmp_path / "none").mkdir()
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    result = briefbot(tmp_path, "chat", stdin="/topics\n", DATABASE_URL=url, SEEDS_DIR="none")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No topics yet")


@pytest.mark.slow
def test_the_default_data_folder_is_created(tmp_path: Path) -> None:
    result = briefbot(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "briefbot.sqlite3").is_file()


STORE_COMMANDS = [
    ["run"],
    ["chat"],
    ["ingest", str(SEEDS)],
    ["reingest"],
    ["search", "greenland"],
    ["topics"],
    ["brief"],
    ["stats"],
    ["deliveries"],
    ["db", "upgrade"],
    ["db", "current"],
]


@pytest.mark.parametrize("argv", STORE_COMMANDS, ids=" ".join)
def test_every_command_that_opens_the_store_checks_the_url(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in clean_env(DATABASE_URL="nonsense").items():
        monkeypatch.setenv(key, value)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("briefbot: DATABASE_URL: ")


@pytest.mark.slow
def test_the_unreachable_url_hides_the_password(tmp_path: Path) -> None:
    url = "postgresql://postgres:hunter2@127.0.0.1:1/test"
    line = assert_refused(briefbot(tmp_path, "stats", DATABASE_URL=url), "DATABASE_URL")
    assert "hunter2" not in line and "127.0.0.1:1" in line


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"SUMMARIZER": "gpt4"}, "SUMMARIZER"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"DATABASE_URL": pg_url("test", port=1)}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:////typo/dir/x.db"}, "DATABASE_URL"),
    ],
)
def test_bad_settings_are_refused_in_process(
    env: dict[str, str],
    setting: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in clean_env(**env).items():
        monkeypatch.setenv(key, value)
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and setting in err[0]
    assert not Path("/typo").exists()
