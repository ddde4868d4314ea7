"""Several ``briefbot ingest`` workers on one PostgreSQL store: no double work, nothing lost.

Workers claim each file (storage/ingest_queue.py) before deriving it and store under the
store's ingest lock, so two of them over the same folder store every article once, each
file is derived by one of them, stories link across workers, and a killed worker's file is
taken over once its lease runs out.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from clirun import BRIEFBOT, clean_env
from conftest import SEEDS, make_settings
from sqlalchemy import func, select

from bot.app import build_context
from bot.cli import main
from storage.models import Article, IngestClaim, SourceDocument, Story

CNNDM = Path(__file__).resolve().parent / "data" / "cnndm_relevance.jsonl"


def _cnn_records() -> list[dict[str, str]]:
    rows = [json.loads(line) for line in CNNDM.read_text().splitlines() if line.strip()]
    return [
        {"title": row["highlights"].split("\n")[0].strip(), "text": row["article"], "source": "CNN"}
        for row in rows
    ]


def _write(path: Path, records: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))


def _corpus(folder: Path) -> Path:
    """The seeds, ten dumps of four CNN articles, a byte-identical copy of one dump, a dump
    repeating an article of another, and a broken file."""
    folder.mkdir()
    for seed in SEEDS.iterdir():
        shutil.copy(seed, folder / seed.name)
    records = _cnn_records()
    for k in range(10):
        _write(folder / f"cnn_{k:02d}.jsonl", records[4 * k : 4 * k + 4])
    shutil.copy(folder / "cnn_03.jsonl", folder / "cnn_03_copy.jsonl")
    _write(folder / "cnn_mixed.jsonl", [records[0], records[39]])  # both stored elsewhere
    (folder / "broken.jsonl").write_text('{"title": "never closed", "text": ')
    return folder


def _start(url: str, cwd: Path, *paths: Path, lease: int = 60) -> subprocess.Popen[str]:
    env = clean_env(DATABASE_URL=url, SEEDS_DIR=str(SEEDS), INGEST_LEASE_SECONDS=str(lease))
    return subprocess.Popen(
        [BRIEFBOT, "ingest", "--format", "jsonl", *map(str, paths)],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _main(monkeypatch: pytest.MonkeyPatch, url: str, *argv: str) -> int:
    """``briefbot ARGV`` in this process, on the store at ``url``."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return main(list(argv))


def _results(worker: subprocess.Popen[str]) -> dict[str, dict[str, object]]:
    out, err = worker.communicate(timeout=300)
    assert worker.returncode == 0, err[-2000:]
    return {Path(str(r["path"])).name: r for r in map(json.loads, out.splitlines())}


def _store(url: str) -> dict[str, object]:
    with build_context(make_settings(url)).sessions() as session:
        hashes = session.scalars(select(Article.content_hash)).all()
        titles = dict(session.execute(select(Article.title, Article.story_id)).all())
        return {
            "articles": len(hashes),
            "distinct": len(set(hashes)),
            "hashes": set(hashes),
            "documents": dict(
                session.execute(select(SourceDocument.path, SourceDocument.status)).all()
            ),
            "greenland": {sid for title, sid in titles.items() if "Greenland" in title},
            "stories": session.scalar(select(func.count(Story.id))),
            "claims": session.scalar(select(func.count()).select_from(IngestClaim)),
        }


@pytest.mark.slow
def test_two_workers_over_one_folder_store_every_article_once(
    postgres_url: str, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _corpus(tmp_path / "dumps")
    workers = [_start(postgres_url, tmp_path, folder) for _ in range(2)]  # an empty store
    reports = [_results(worker) for worker in workers]

    assert _main(monkeypatch, sqlite_url, "ingest", str(folder)) == 0  # one worker alone
    alone, both = _store(sqlite_url), _store(postgres_url)
    assert both["articles"] == both["distinct"] == alone["articles"] == 48
    assert both["hashes"] == alone["hashes"]  # none lost, none twice
    files = sorted(path.name for path in folder.iterdir())
    for name in files:  # each file derived by one worker; the other found it done
        statuses = sorted(str(report[name]["status"]) for report in reports)
        if name == "broken.jsonl":  # reported by both, never aborting the others
            assert statuses == ["error", "error"]
        elif name == "cnn_03_copy.jsonl":  # the same bytes as cnn_03: one document
            assert statuses == ["unchanged", "unchanged"]
        else:
            assert statuses == ["ingested", "unchanged"], (name, statuses)
    assert sum(int(str(report[n]["stored"])) for report in reports for n in files) == 48
    documents = both["documents"]
    assert isinstance(documents, dict) and len(documents) == len(files) - 1
    assert sorted(documents.values()).count("ingested") == len(files) - 2
    assert len(both["greenland"]) == 1  # the two seed pieces: still one story
    assert both["stories"] == alone["stories"]
    assert both["claims"] == 0  # every claim given back


@pytest.mark.slow
def test_a_killed_workers_file_is_taken_over(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "dumps"
    folder.mkdir()
    _write(folder / "big.jsonl", _cnn_records())  # several seconds to derive
    shutil.copy(SEEDS / sorted(os.listdir(SEEDS))[0], folder / "seed.txt")
    assert _main(monkeypatch, postgres_url, "db", "upgrade") == 0
    doomed = _start(postgres_url, tmp_path, folder / "big.jsonl", lease=2)
    deadline = time.monotonic() + 120
    while _store(postgres_url)["claims"] == 0:  # it has read the file and is deriving it
        assert doomed.poll() is None and time.monotonic() < deadline, doomed.communicate()
        time.sleep(0.05)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    left = _store(postgres_url)
    assert left["claims"] == 1 and left["articles"] == 0  # killed mid-file, its claim stays

    started = time.monotonic()
    report = _results(_start(postgres_url, tmp_path, folder, lease=2))
    assert report["big.jsonl"]["status"] == "ingested"
    assert report["big.jsonl"]["stored"] == 40
    assert report["seed.txt"]["status"] == "ingested"  # done while the claim ran out
    assert time.monotonic() - started < 60
    after = _store(postgres_url)
    assert after["articles"] == after["distinct"] == 40 + int(str(report["seed.txt"]["stored"]))
    assert after["claims"] == 0
