"""Every input format and many languages through ``briefbot ingest``, read back from the store.

Runs on SQLite and PostgreSQL: the store is where naive dates, NUL bytes, overlong values
and other store-side rules bite, so the dry run must run the same code up to the commit.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SEEDS, make_settings
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from bot.app import build_context
from bot.cli import main
from storage import documents
from storage.models import Article, SourceDocument

DATA = ROOT / "tests" / "data"
LANGUAGE_DUMPS = Path(__file__).resolve().parent / "data" / "languages"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty input folder."""
    path = tmp_path / "in"
    path.mkdir()
    return path


def _env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)


def _story(topic: str) -> str:
    """A distinct two-paragraph story about ``topic``."""
    return (
        f"The council voted on Tuesday to go ahead with the {topic}, after a debate that "
        f"lasted most of the afternoon and drew a large crowd to the town hall.\n\n"
        f"Supporters of the {topic} said it was long overdue, while opponents questioned "
        f"whether the city could afford it and asked for an independent review first."
    )


def _text_dump(title: str, date_line: str, topic: str) -> bytes:
    return f"{title}\n\nBy Jane Doe\n\n{date_line}\n\n{_story(topic)}\n".encode()


def _html(title: str, published: str, topic: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in _story(topic).split("\n\n"))
    return f"""<!DOCTYPE html><html><head><title>{title}</title>
<meta property="og:site_name" content="Town Times">
<meta property="article:published_time" content="{published}"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>{title}</h1>{paragraphs}</article><footer>© Town Times</footer></body></html>
""".encode()


def write_every_format(folder: Path) -> dict[str, datetime]:
    """Write one file per supported format; return each article's title -> UTC date."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, datetime] = {}

    def when(*args: int) -> datetime:
        return datetime(*args, tzinfo=UTC)  # type: ignore[misc]

    (folder / "dump.txt").write_bytes(
        _text_dump("Bus network grows by four routes", "Nov. 19, 2019 8:03 am ET", "bus plan")
    )
    expected["Bus network grows by four routes"] = when(2019, 11, 19, 13, 3)
    (folder / "zoneless.txt").write_bytes(
        _text_dump("Library opens a new reading room", "March 5, 2024", "reading room")
    )
    expected["Library opens a new reading room"] = when(2024, 3, 5)
    # trafilatura reports the page's date without a time: it keeps its day
    (folder / "page.html").write_bytes(
        _html("Council expands the tram line", "2024-03-05T09:30:00Z", "tram line")
    )
    expected["Council expands the tram line"] = when(2024, 3, 5)
    (folder / "page.htm.gz").write_bytes(
        gzip.compress(_html("Harbour gets a new ferry pier", "2023-07-01", "ferry pier"))
    )
    expected["Harbour gets a new ferry pier"] = when(2023, 7, 1)
    shutil.copy(DATA / "page.html.gz", folder / "wsj.html.gz")
    expected["Google Stadia, Microsoft xCloud, Apple Arcade: So Many Ways to Play…and Pay"] = when(
        2019, 11, 19
    )
    records = [("ISO with zone", "2024-03-05T09:30:00+02:00", when(2024, 3, 5, 7, 30))]
    (folder / "records.json").write_text(
        json.dumps([{"title": t, "text": _story(t), "published": p} for t, p, _ in records])
    )
    lines = [
        ("Date only", "2026-11-14", when(2026, 11, 14)),
        ("ISO without zone", "2026-11-14T08:30:00", when(2026, 11, 14, 8, 30)),
        ("ISO with Z", "2026-11-14T08:30:00Z", when(2026, 11, 14, 8, 30)),
        ("RFC 822", "Fri, 14 Nov 2025 08:30:00 -0500", when(2025, 11, 14, 13, 30)),
        ("Epoch seconds", 1763109000, datetime.fromtimestamp(1763109000, UTC)),
        ("Epoch milliseconds", "1763109000000", datetime.fromtimestamp(1763109000, UTC)),
    ]
    (folder / "records.jsonl").write_text(
        "\n".join(json.dumps({"title": t, "text": _story(t), "published": p}) for t, p, _ in lines)
    )
    for title, _, date in records + lines:
        expected[title] = date
    (folder / "feed.rss").write_text(
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Town Times</title>
<item><title>RSS item</title><link>https://example.org/rss</link>
<pubDate>Tue, 05 Mar 2024 09:30:00 +0100</pubDate>
<description><![CDATA[{_story("rss item")}]]></description></item></channel></rss>"""
    )
    expected["RSS item"] = when(2024, 3, 5, 8, 30)
    (folder / "feed.atom").write_text(
        f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Town Times</title><entry><title>Atom entry</title><link href="https://example.org/a"/>
<updated>2024-03-05T09:30:00+01:00</updated><content type="text">{_story("atom entry")}</content>
</entry></feed>"""
    )
    expected["Atom entry"] = when(2024, 3, 5, 8, 30)
    return expected


def _stored(url: str) -> dict[str, Article]:
    ctx = build_context(make_settings(url))
    with ctx.sessions() as session:
        return {article.title: article for article in session.scalars(select(Article))}


def _documents(url: str) -> int:
    ctx = build_context(make_settings(url))
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count(SourceDocument.id))) or 0)


@pytest.mark.slow
def test_every_format_is_stored_with_aware_utc_dates(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    tmp_path: Path,
) -> None:
    expected = write_every_format(tmp_path / "in")
    _env(monkeypatch, database_url)
    assert main(["ingest", str(tmp_path / "in")]) == 0
    out = capsys.readouterr().out
    assert "9 files read, 14 articles stored" in out and " 0 errors" in out, out
    stored = _stored(database_url)
    assert set(stored) == set(expected)
    for title, date in expected.items():
        published = stored[title].published
        assert published is not None and published.utcoffset() == timedelta(0), title
        assert published == date, title
        assert stored[title].sort_time == date, title


@pytest.mark.slow
def test_dry_run_prints_what_a_real_ingest_stores_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    tmp_path: Path,
) -> None:
    write_every_format(tmp_path / "in")
    _env(monkeypatch, database_url)
    assert main(["ingest", "--dry-run", "--format", "jsonl", str(tmp_path / "in")]) == 0
    preview = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert _stored(database_url) == {} and _documents(database_url) == 0
    assert main(["ingest", str(tmp_path / "in")]) == 0
    stored = _stored(database_url)
    assert {r["title"]: r["published"] for r in preview} == {
        title: article.published.isoformat() if article.published else None
        for title, article in stored.items()
    }
    assert {(r["title"], r["language"], tuple(r["summary"])) for r in preview} == {
        (a.title, a.language, tuple(a.summary)) for a in stored.values()
    }


@pytest.mark.slow
def test_a_dry_run_sees_earlier_files_of_the_same_run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    folder: Path,
) -> None:
    """The same story in two files, and one file twice: the dry run reports what the real
    run does (each file alone rolled back would have counted the story twice)."""
    story = _text_dump("Ferry line reopens", "March 5, 2024", "ferry line")
    (folder / "a.txt").write_bytes(story)
    (folder / "b.txt").write_bytes(story.replace(b"Jane Doe", b"John Roe"))  # same body
    (folder / "c").mkdir()
    (folder / "c" / "a-again.txt").write_bytes(story)  # the same bytes as a.txt
    _env(monkeypatch, database_url)
    assert main(["ingest", "--dry-run", str(folder)]) == 0
    dry = capsys.readouterr().out
    assert _stored(database_url) == {} and _documents(database_url) == 0
    assert main(["ingest", str(folder)]) == 0
    real = capsys.readouterr().out
    totals = "3 files read, 1 articles stored, 1 duplicate, 1 unchanged, 0 errors"
    assert real.splitlines()[-1] == totals and dry.splitlines()[-1] == totals
    assert set(_stored(database_url)) == {"Ferry line reopens"}


def _awkward_dump(folder: Path) -> Path:
    """Two records, the second with a NUL byte and an outlet and byline far too long."""
    path = folder / "awkward.jsonl"
    records = [
        {"title": "Zebras cross the river", "text": _story("zebra crossing")},
        {
            "title": "Lions sleep\u0000 all day",
            "text": _story("lion\u0000 enclosure"),
            "source": "The Lion Gazette " * 40,
            "author": "Jane Doe and " * 60,
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in records))
    return path


def test_nul_characters_and_overlong_fields_are_stored_on_both_engines(
    monkeypatch: pytest.MonkeyPatch, database_url: str, folder: Path
) -> None:
    """PostgreSQL refuses NUL and values longer than a column; the store fits them first."""
    _awkward_dump(folder)
    _env(monkeypatch, database_url)
    assert main(["ingest", str(folder)]) == 0
    stored = _stored(database_url)
    assert set(stored) == {"Zebras cross the river", "Lions sleep all day"}
    lion = stored["Lions sleep all day"]
    assert "\x00" not in lion.body and "lion enclosure" in lion.body
    assert lion.source is not None and lion.source.startswith("The Lion Gazette")
    assert len(lion.source) <= 200 and lion.source.endswith("…")
    assert lion.byline is not None and len(lion.byline) <= 300


@pytest.mark.slow
def test_a_file_failing_on_store_fails_the_dry_run_too(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    folder: Path,
) -> None:
    bad = _awkward_dump(folder)
    (folder / "good.txt").write_bytes(_text_dump("Good story", "March 5, 2024", "good plan"))
    store_article = documents.store_article

    def failing(session: Any, document: Any, new: Any, **kw: Any) -> Any:
        if new.title.startswith("Lions"):  # as a constraint the database enforces would
            raise DataError("INSERT INTO articles", {}, ValueError("value refused by the store"))
        return store_article(session, document, new, **kw)

    monkeypatch.setattr(documents, "store_article", failing)
    _env(monkeypatch, database_url)
    assert main(["ingest", "--dry-run", str(folder)]) == 0
    dry = capsys.readouterr().out
    assert _stored(database_url) == {} and _documents(database_url) == 0
    assert main(["ingest", str(folder)]) == 0
    real = capsys.readouterr().out
    errors = [line for line in real.splitlines() if line.startswith("  error: ")]
    assert errors == [f"  error: {bad}: could not store: ValueError: value refused by the store"]
    assert errors == [line for line in dry.splitlines() if line.startswith("  error: ")]
    assert real.splitlines()[-2] in dry  # the same totals line
    # no half-written rows: the good record of the failed file is not stored either
    assert set(_stored(database_url)) == {"Good story"}


@pytest.mark.slow
def test_each_failed_file_is_one_line_without_traceback(
    database_url: str, folder: Path, tmp_path: Path
) -> None:
    """Bad files are one line each on stdout; nothing else fails and no traceback shows."""
    (folder / "corrupt.bin").write_bytes(os.urandom(4096))
    (folder / "broken.json").write_text('{"title": "Half a record",')
    shutil.copy(LANGUAGE_DUMPS / "pl.txt", folder / "pl.txt")
    bad = [folder / "broken.json", folder / "corrupt.bin"]
    env = {**os.environ, "DATABASE_URL": database_url, "SEEDS_DIR": str(SEEDS)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    for dry in (["--dry-run"], []):  # the dry run first: it must not make the file "unchanged"
        result = subprocess.run(
            [sys.executable, "-m", "bot", "ingest", *dry, str(folder)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        errors = [line for line in result.stdout.splitlines() if "error: " in line]
        assert [line.split(": ", 2)[1] for line in errors] == [str(path) for path in bad]
        assert f"{len(bad) + 1} files read, 1 articles stored" in result.stdout
    assert set(_stored(database_url)) == {"Rada miasta rozbudowuje sieć autobusową"}


LANGUAGES = {"pl": "Polish", "zh": "Chinese", "ja": "Japanese", "ar": "Arabic", "ru": "Russian"}


@pytest.mark.slow
def test_non_english_dumps_are_stored_with_summaries(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
) -> None:
    _env(monkeypatch, database_url)
    assert main(["ingest", "--dry-run", str(LANGUAGE_DUMPS)]) == 0
    assert " 0 errors" in capsys.readouterr().out
    assert main(["ingest", str(LANGUAGE_DUMPS)]) == 0
    out = capsys.readouterr().out
    assert f"{len(LANGUAGES)} files read, {len(LANGUAGES)} articles stored" in out, out
    assert " 0 errors" in out
    stored = _stored(database_url).values()
    assert sorted(a.language or "" for a in stored) == sorted(LANGUAGES)
    for article in stored:
        assert article.summary and all(s in article.body for s in article.summary)


def test_undecodable_file_name_neither_aborts_the_run_nor_loses_the_file(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    folder: Path,
) -> None:
    odd = os.fsdecode(bytes(folder) + b"/caf\xe9.txt")  # Latin-1 bytes in a UTF-8 system
    Path(odd).write_bytes(_text_dump("Cafe opens on the square", "March 5, 2024", "cafe"))
    (folder / "good.txt").write_bytes(_text_dump("Good story", "March 5, 2024", "good plan"))
    _env(monkeypatch, database_url)
    assert main(["ingest", str(folder)]) == 0
    assert "2 files read, 2 articles stored" in capsys.readouterr().out
    stored = _stored(database_url)
    assert set(stored) == {"Cafe opens on the square", "Good story"}
    ctx = build_context(make_settings(database_url))
    with ctx.sessions() as session:
        paths = set(session.scalars(select(SourceDocument.path)))
    assert paths == {f"{folder}/caf\ufffd.txt", str(folder / "good.txt")}
