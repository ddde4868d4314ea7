"""Run the ``briefbot`` console script as a subprocess, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BRIEFBOT = str(Path(sys.executable).with_name("briefbot"))
SETTINGS = frozenset(  # every variable bot/settings.py reads
    {
        "ADMIN_USER_IDS",
        "CATCHUP_GRACE_MINUTES",
        "DATABASE_URL",
        "DB_AUTO_UPGRADE",
        "DEFAULT_BRIEFING_TIME",
        "DEFAULT_TIMEZONE",
        "DELIVERY_LEASE_SECONDS",
        "INBOX_DIR",
        "INGEST_LEASE_SECONDS",
        "INBOX_INTERVAL_SECONDS",
        "LOG_LEVEL",
        "MAX_UPLOAD_BYTES",
        "QUIET_HOURS",
        "RETENTION_DAYS",
        "SEEDS_DIR",
        "SEND_RATE_PER_SECOND",
        "SUMMARIZER",
        "TELEGRAM_API_BASE_URL",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_FILE_BASE_URL",
        "TOPICS_FILE",
        "WEBHOOK_LISTEN",
        "WEBHOOK_PORT",
        "WEBHOOK_SECRET",
        "WEBHOOK_URL",
    }
)


def clean_env(**overrides: str) -> dict[str, str]:
    """The test's environment without any briefbot setting, plus ``overrides``."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    return {**env, "TELEGRAM_BOT_TOKEN": "", **overrides}


def briefbot(
    cwd: Path, *args: str, stdin: str = "", prefix: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the ``briefbot`` console script as an operator would."""
    return subprocess.run(
        [*prefix, BRIEFBOT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=clean_env(**env),
        cwd=cwd,
        timeout=120,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess[str], setting: str) -> str:
    """Exit status 2 and exactly one line on stderr that names ``setting``."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert setting in lines[0] and "Traceback" not in lines[0]
    assert lines[0].startswith("briefbot: ")
    return lines[0]
