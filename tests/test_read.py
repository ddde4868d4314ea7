"""Format detection and bad-input handling of ``parse_document``."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest

from briefings.errors import BadInput
from briefings.text.read import parse_document

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

STORY = (
    "The council voted on Tuesday to expand the bus network, adding four routes that will "
    "connect the northern suburbs with the hospital and the university campus.\n\n"
    "Supporters said the change was long overdue, while opponents questioned whether the "
    "city could afford the drivers it would need to run the extra services.\n"
)
HTML = f"""<!DOCTYPE html><html><head><title>Council expands bus network</title>
<meta name="author" content="Jane Doe"><meta property="og:site_name" content="Town Times">
<meta property="article:published_time" content="2024-03-05T09:30:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Council expands bus network</h1>
{"".join(f"<p>{p}</p>" for p in STORY.split(chr(10) * 2))}
<p>The first of the new routes is expected to open in the spring, the council said, after
drivers have been recruited and trained over the winter months.</p></article>
<footer>© 2024 Town Times</footer></body></html>"""


def read(tmp_path: Path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return parse_document(path.name, path.read_bytes())


def test_seed_text_dumps():
    for seed in sorted(SEEDS.glob("*.txt")):
        articles = parse_document(seed.name, seed.read_bytes())
        assert len(articles) == 4


def test_plain_text_story(tmp_path):
    (article,) = read(tmp_path, "story.txt", ("Council expands bus network\n\n" + STORY).encode())
    assert article.title == "Council expands bus network"
    assert article.body == STORY.strip()


def test_html_with_metadata(tmp_path):
    (article,) = read(tmp_path, "page.html", HTML.encode())
    assert article.title == "Council expands bus network"
    assert article.byline == "Jane Doe"
    assert article.source == "Town Times"
    assert article.published is not None and article.published.year == 2024
    assert "Home" not in article.body and "©" not in article.body
    assert article.body.count("\n\n") == 2


def test_gzip_is_looked_through(tmp_path):
    (a,) = read(tmp_path, "page.html.gz", gzip.compress(HTML.encode()))
    assert a.title == "Council expands bus network"
    (b,) = read(tmp_path, "dump.bin", gzip.compress(("Buses\n\n" + STORY).encode()))
    assert b.body == STORY.strip()


def test_html_sniffed_without_extension(tmp_path):
    (article,) = read(tmp_path, "download", HTML.encode())
    assert article.byline == "Jane Doe"


def test_json_object_list_and_lines(tmp_path):
    rec = {
        "title": "Buses",
        "text": STORY,
        "source": "Town Times",
        "url": "https://example.org/b",
        "published": "2024-03-05T09:30:00+00:00",
    }
    (one,) = read(tmp_path, "a.json", json.dumps(rec).encode())
    assert one.source == "Town Times" and one.url == "https://example.org/b"
    assert one.published is not None and one.published.day == 5
    assert one.body == STORY.strip()
    many = read(tmp_path, "b.json", json.dumps([rec, {**rec, "title": "Two"}]).encode())
    assert [a.title for a in many] == ["Buses", "Two"]
    lines = "\n".join(json.dumps({"title": f"T{i}", "body": STORY}) for i in range(3))
    assert [a.title for a in read(tmp_path, "c.jsonl", lines.encode())] == ["T0", "T1", "T2"]


def test_rss_feed(tmp_path):
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Town Times</title>
<item><title>Buses</title><link>https://example.org/b</link>
<pubDate>Tue, 05 Mar 2024 09:30:00 GMT</pubDate>
<description><![CDATA[<p>{STORY.split(chr(10))[0]}</p><p>Second paragraph.</p>]]></description>
</item></channel></rss>"""
    (item,) = read(tmp_path, "feed.xml", feed.encode())
    assert item.title == "Buses" and item.source == "Town Times"
    assert item.url == "https://example.org/b" and item.published.hour == 9
    assert item.body.endswith("\n\nSecond paragraph.")


def test_atom_feed_sniffed(tmp_path):
    feed = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Town Times</title><entry><title>Buses</title><link href="https://example.org/b"/>
<updated>2024-03-05T09:30:00Z</updated><content type="html">&lt;p&gt;More buses.&lt;/p&gt;</content>
</entry></feed>"""
    (item,) = read(tmp_path, "feed", feed.encode())
    assert item.body == "More buses."


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8-sig", b""), ("cp1252", b""), ("latin-1", b""), ("utf-16", b"")],
)
def test_other_encodings_work(tmp_path, encoding, prefix):
    text = "Café society\n\n" + STORY.replace(
        "council",
        "conseil “municipal”" if encoding in {"cp1252", "utf-16", "utf-8-sig"} else "conseil",
    )
    (article,) = read(tmp_path, "story.txt", prefix + text.encode(encoding))
    assert article.title == "Café society"
    assert "conseil" in article.body


def test_mojibake_is_repaired(tmp_path):
    text = "Caf\u00c3\u00a9 society\n\n" + STORY.replace("council", "council\u00e2\u20ac\u2122s")
    (article,) = read(tmp_path, "story.txt", text.encode("utf-8"))
    assert article.title == "Café society"
    assert "council’s" in article.body


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\n\t ", "empty"),
        ("nul.txt", b"hello\x00world" * 20, "binary"),
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
        ("random.txt", bytes(range(1, 256)) * 40, "binary"),
        ("page.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "HTML"),
        ("a.json", b'{"title": "x",\n "text": }', "line 2"),
        ("a.jsonl", b'{"title": "x", "text": "y"}\n{"title": \n', "line 2"),
        ("a.json", b'[{"foo": 1}]', "no article"),
        (
            "feed.xml",
            b"<?xml version='1.0'?><rss><channel><title>T</title></channel></rss>",
            "no items",
        ),
        ("menu.txt", b"Home\nNews\nSport\nSign in\n", "no article"),
        ("broken.gz", b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
)
def test_bad_inputs_have_a_reason(tmp_path, name, data, reason):
    with pytest.raises(BadInput, match=reason):
        read(tmp_path, name, data)


def test_bad_input_reason_is_one_line(tmp_path):
    with pytest.raises(BadInput) as info:
        read(tmp_path, "a.json", b"{oops")
    assert "\n" not in str(info.value)


def test_invalid_utf8_falls_back_instead_of_failing(tmp_path):
    data = ("Buses\n\n" + STORY).encode() + b"\xff\xfe\xfa stray bytes at the end."
    (article,) = read(tmp_path, "story.txt", data)
    assert article.title == "Buses"


@pytest.mark.slow
def test_50_mb_file_is_rejected_quickly(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        chunk = (STORY * 200).encode()
        while fh.tell() < 50 * 2**20:
            fh.write(chunk)
    start = time.perf_counter()
    with pytest.raises(BadInput, match="too large"):
        parse_document(path.name, path.read_bytes())
    assert time.perf_counter() - start < 5


@pytest.mark.slow
def test_single_1mb_line_does_not_hang(tmp_path):
    line = ("word " * 200_000).encode()
    start = time.perf_counter()
    with pytest.raises(BadInput):
        read(tmp_path, "line.txt", line)
    prose = (STORY.replace("\n", " ") * 3000)[: 2**20].encode()
    articles = read(tmp_path, "prose.txt", prose)
    assert len(articles) == 1
    noise = os.urandom(2**19).hex().encode()
    with pytest.raises(BadInput):
        read(tmp_path, "hex.txt", noise)
    assert time.perf_counter() - start < 10


def test_real_gzipped_html_page_reads():
    # the first HTML page of the cleaning dev set (scrapinghub article-extraction-benchmark)
    page = Path(__file__).parent / "data" / "page.html.gz"
    (article,) = parse_document(page.name, page.read_bytes())
    assert len(article.body) > 200 and article.title


LEGACY = {
    "cp1251": (
        "Автобусы",
        [
            "Городской совет во вторник проголосовал за расширение автобусной сети города.",
            "Сторонники решения говорят, что перемены давно назрели и нужны жителям окраин.",
            "Первые новые маршруты должны открыться весной, после закупки новых автобусов.",
        ],
    ),
    "shift_jis": (
        "バス路線",
        [
            "東京都は火曜日、バス路線網を拡大し、北部の郊外と病院を結ぶ新しい路線を追加すると発表した。",
            "支持者はこの変更は遅すぎたと述べたが、反対派は運転手を確保できるかどうか疑問を呈した。",
            "最初の新路線は春に開業する予定で、新しい車両の納入と車庫の拡張を待っている。",
        ],
    ),
}


@pytest.mark.parametrize("encoding", sorted(LEGACY))
def test_legacy_non_western_encodings_work(tmp_path, encoding):
    title, paras = LEGACY[encoding]
    text = title + "\n\n" + "\n\n".join(paras)
    (article,) = read(tmp_path, "story.txt", text.encode(encoding))
    assert article.title == title
    assert article.body.split("\n\n") == paras


EVAL_CLEANING = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "cleaning"


@pytest.mark.parametrize("page", ["engadget", "royal-road", "webmd-1"])
def test_html_page_keeps_its_article_not_just_the_site_header(page: str) -> None:
    """With trafilatura's fallbacks on, these pages no longer collapse to a header line."""
    folder = EVAL_CLEANING / "readability"
    if not (folder / "gold.jsonl").is_file():
        pytest.skip(f"eval data not present at {folder}")
    gold = {
        record["id"]: record["body"]
        for record in map(json.loads, (folder / "gold.jsonl").read_text("utf-8").splitlines())
    }
    path = folder / f"{page}.html.gz"
    (article, *_) = parse_document(path.name, path.read_bytes())
    words, expected = article.body.split(), gold[page].split()
    assert len(words) >= 0.9 * len(expected)
    assert len(set(words) & set(expected)) >= 0.9 * len(set(expected))
