"""One ingest at a time is the ingest worker's own property: admins, inbox and threads alike."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import SEEDS
from factories import ADMIN, App, running_app, say
from fakebot import FakeTelegram

from bot.context import AppContext
from bot.jobs import inbox_job
from briefings.errors import IngestBusy
from storage.models import Article, SourceDocument


@contextmanager
def held(ctx: AppContext) -> Iterator[None]:
    """Another thread holds the ingest worker (a long ingest) for the duration."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with ctx.ingestor.exclusive():
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(10)
    try:
        yield
    finally:
        release.set()
        thread.join(10)


@pytest.fixture
async def app(fake_api: FakeTelegram, ctx: AppContext, tmp_path: Path) -> AsyncIterator[App]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    async with running_app(ctx, fake_api, inbox_dir=inbox) as application:
        yield application


def _counts(ctx: AppContext) -> tuple[int, int]:
    with ctx.sessions() as session:
        return session.query(SourceDocument).count(), session.query(Article).count()


def test_a_second_ingest_waits_or_is_refused(ctx: AppContext) -> None:
    with held(ctx):
        assert ctx.ingestor.busy
        with pytest.raises(IngestBusy), ctx.ingestor.exclusive(wait=False):
            pass
    assert not ctx.ingestor.busy
    with ctx.ingestor.exclusive(wait=False):  # re-entrant for the thread that holds it
        assert ctx.ingestor.ingest_paths([SEEDS]).stored == 8


def test_concurrent_ingests_of_the_same_dumps_store_each_article_once(ctx: AppContext) -> None:
    reports = []
    threads = [
        threading.Thread(target=lambda: reports.append(ctx.ingestor.ingest_paths([SEEDS])))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r.stored for r in reports) == [0, 0, 8]
    assert _counts(ctx) == (2, 8)


async def test_admin_ingests_and_the_inbox_respect_a_running_ingest(
    app: App, fake_api: FakeTelegram, ctx: AppContext
) -> None:
    inbox = Path(ctx.settings.inbox_dir)
    for seed in SEEDS.iterdir():
        shutil.copy(seed, inbox / seed.name)
        os.utime(inbox / seed.name, (time.time() - 600, time.time() - 600))  # settled
    with held(ctx):
        [reingest] = await say(app, fake_api, "/reingest", chat_id=ADMIN)
        assert reingest["plain"] == "An ingest is already running; try again when it is done."
        await inbox_job(app)
        assert _counts(ctx) == (0, 0)  # the inbox waits for the next round
    await inbox_job(app)
    assert _counts(ctx) == (2, 8)


def test_the_terminal_chat_reports_a_running_ingest(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    from bot.cli import _terminal

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"/ingest {SEEDS}\n"))
    ctx.settings = replace(ctx.settings, telegram_bot_token=None)
    with held(ctx):
        assert _terminal(ctx.settings, ctx) == 0
    assert "An ingest is already running" in capsys.readouterr().out
    assert _counts(ctx) == (0, 0)
