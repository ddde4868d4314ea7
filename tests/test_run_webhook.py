"""`briefbot run` on a webhook, as an operator starts it: secret required, URL path served."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS
from fakebot import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
USER = 5151


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(fake: FakeTelegram, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        TELEGRAM_FILE_BASE_URL=fake.base_file_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
        SEEDS_DIR=str(SEEDS),
        INBOX_DIR=str(tmp_path / "inbox"),
        **extra,
    )
    return env


@pytest.mark.slow
def test_a_webhook_without_a_secret_refuses_to_start(
    fake_api: FakeTelegram, tmp_path: Path
) -> None:
    env = _env(fake_api, tmp_path, WEBHOOK_URL="https://bot.example.org/tg")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "WEBHOOK_SECRET" in done.stderr
    assert not fake_api.requests  # refused before talking to Telegram


@pytest.mark.slow
async def test_run_serves_the_webhook_path_and_never_logs_the_token(
    fake_api: FakeTelegram, tmp_path: Path
) -> None:
    pytest.importorskip("tornado")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    env = _env(
        fake_api,
        tmp_path,
        WEBHOOK_URL=url,
        WEBHOOK_SECRET="s3cret-Token_1",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        LOG_LEVEL="DEBUG",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], env=env, cwd=ROOT, stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        await fake_api.wait_until(
            lambda: fake_api.calls("setWebhook"), timeout=60, what="setWebhook"
        )
        await fake_api.wait_until(lambda: fake_api.calls("setMyCommands"), timeout=10)
        fake_api.send_text(USER, "/search Hangzhou")
        [reply] = await fake_api.wait_for(1, chat_id=USER, timeout=20)
        assert "Hangzhou" in reply["plain"]
        assert fake_api.webhook_deliveries[-1]["status"] == 200
        assert fake_api.calls("setWebhook")[-1]["params"]["url"] == url
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "DEBUG" in stderr  # the debug log really ran
    assert fake_api.token not in stderr
    assert fake_api.token.split(":")[1] not in stderr
