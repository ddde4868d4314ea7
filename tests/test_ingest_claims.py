"""Claims on documents (storage/ingest_queue.py) on SQLite and PostgreSQL, and an ingest
that finds one of its files claimed by a worker that died."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
from conftest import SEEDS, make_settings
from sqlalchemy import func, select

from bot.app import build_context
from storage.ingest_queue import IngestClaims
from storage.models import Article, IngestClaim, SourceDocument


def test_a_claim_is_one_workers_until_released_or_its_lease_ends(database_url: str) -> None:
    sessions = build_context(make_settings(database_url)).sessions
    first = IngestClaims(sessions, timedelta(seconds=60), worker="first")
    second = IngestClaims(sessions, timedelta(seconds=60), worker="second")
    assert first.claim("a" * 64)
    assert not second.claim("a" * 64)  # held: the other worker leaves it
    assert first.claim("a" * 64)  # a worker may claim again what it holds
    first.release("a" * 64)
    assert second.claim("a" * 64)  # released: anyone takes it
    assert not first.renew("a" * 64) and second.renew("a" * 64)
    brief = IngestClaims(sessions, timedelta(seconds=-1), worker="killed")  # lease already over
    assert brief.claim("b" * 64)
    assert first.claim("b" * 64)  # taken over
    first.release("b" * 64)
    second.release("a" * 64)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(IngestClaim)) == 0


@pytest.mark.slow
def test_ingest_takes_over_the_file_of_a_worker_whose_lease_ran_out(database_url: str) -> None:
    ctx = build_context(make_settings(database_url))
    seeds = sorted(SEEDS.iterdir())
    digest = hashlib.sha256(seeds[0].read_bytes()).hexdigest()
    assert IngestClaims(ctx.sessions, timedelta(seconds=1.5), worker="killed").claim(digest)
    started = time.monotonic()
    report = ctx.ingestor.ingest_paths([SEEDS])
    assert time.monotonic() - started >= 1  # it waited for the lease to run out
    assert [r.path for r in report.files] == [str(path) for path in seeds]  # in order
    assert [r.status for r in report.files] == ["ingested", "ingested"]
    assert report.stored == 8 and not report.errors
    with ctx.sessions() as session:
        assert session.scalar(select(func.count(Article.id))) == 8
        assert session.scalar(select(func.count(SourceDocument.id))) == 2
        assert session.scalar(select(func.count()).select_from(IngestClaim)) == 0
