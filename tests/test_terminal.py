"""The terminal chat: the same handlers, piped stdin in, readable text out."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import briefbot
from conftest import ROOT, SEEDS


def run_chat(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.sqlite3'}",
        "SEEDS_DIR": str(SEEDS),
        "TELEGRAM_BOT_TOKEN": "",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_piped_chat_answers_with_seed_content(tmp_path: Path) -> None:
    result = run_chat(tmp_path, "/latest\n/search Greenland\n/topics\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Latest in all topics" in out
    assert "Trump: US has to have Greenland" in out
    assert "Results for “Greenland”" in out
    assert "<b>" not in out and "&amp;" not in out  # readable text, not HTML
    assert "[1] Read 1" in out  # buttons become numbered choices


@pytest.mark.slow
def test_typing_a_number_presses_a_button(tmp_path: Path) -> None:
    result = run_chat(tmp_path, "/search coder village\n1\n")
    assert result.returncode == 0, result.stderr
    assert "It was a sunny Saturday afternoon" in result.stdout


@pytest.mark.slow
def test_run_without_token_falls_back_to_terminal(tmp_path: Path) -> None:
    result = run_chat(tmp_path, "/help\n")
    assert result.returncode == 0
    env_run = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        input="/topics\n",
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'chat.sqlite3'}",
            "SEEDS_DIR": str(SEEDS),
            "TELEGRAM_BOT_TOKEN": "",
        },
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert env_run.returncode == 0, env_run.stderr
    assert "Topics" in env_run.stdout


LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


@pytest.mark.slow
def test_piped_chat_prints_replies_only_and_logs_to_stderr(tmp_path: Path) -> None:
    script = "/latest\n/search Greenland\n/nonsense\n"
    seeds = str(SEEDS)
    quiet = briefbot(
        tmp_path,
        "chat",
        stdin=script,
        DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}",
        SEEDS_DIR=seeds,
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""  # the first start ingests the seeds: INFO, not shown by default
    assert "Latest in all topics" in quiet.stdout and "I don't know that command" in quiet.stdout
    for line in quiet.stdout.splitlines():
        assert not LOG_LINE.match(line) and "Traceback" not in line, line

    loud = briefbot(
        tmp_path,
        "chat",
        stdin=script,
        DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}",
        LOG_LEVEL="info",
        SEEDS_DIR=seeds,
    )
    assert loud.returncode == 0, loud.stderr
    assert "INFO bot.app: empty store: ingesting seeds" in loud.stderr  # LOG_LEVEL overrides
    assert loud.stdout == quiet.stdout  # the log level never changes what the chat shows
