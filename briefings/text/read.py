"""Entry point of the text side of ingest: one input file (bytes) → its articles."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import PurePath

from briefings.errors import BadInput
from briefings.text.article import ParsedArticle
from briefings.text.decode import decode, gunzip
from briefings.text.formats import read_feed, read_html, read_json
from briefings.text.meta import as_utc
from briefings.text.split import split_dump

# A web page, even with all its menus, is well under these sizes; bigger inputs are
# not pages and would only stall the worker.
MAX_PAGE_BYTES = 20 * 1024 * 1024
MAX_RECORDS_BYTES = 200 * 1024 * 1024

_HTML_EXT = {".html", ".htm", ".xhtml", ".shtml"}
_JSON_EXT = {".json"}
_JSONL_EXT = {".jsonl", ".ndjson"}
_FEED_EXT = {".xml", ".rss", ".atom", ".rdf"}


def _sniff(head: str) -> str | None:
    """Guess the format from the first characters of the decoded text."""
    start = head.lstrip()[:2048].lower()
    if start.startswith(("{", "[")):
        first = start.split("\n", 1)[0].rstrip()
        return (
            "jsonl" if start.startswith("{") and first.endswith("}") and "\n{" in start else "json"
        )
    if start.startswith("<?xml") or start.startswith(("<rss", "<feed", "<rdf")):
        if "<rss" in start or "<feed" in start or "<rdf:rdf" in start:
            return "feed"
        return "html" if "<html" in start else "feed"
    if start.startswith(("<!doctype html", "<html", "<head", "<body", "<!--")):
        return "html"
    return None


def parse_document(
    name: str,
    data: bytes,
    *,
    file_time: datetime | None = None,
    boilerplate_lines: frozenset[str] = frozenset(),
) -> list[ParsedArticle]:
    """Read one input document and return the articles it contains.

    The format comes from the gzip magic number, the file extension and the content:
    HTML → trafilatura; JSON / JSON Lines → one article per record; RSS/Atom → one per
    item; anything else that decodes as text → the plain-text dump splitter. Every
    publication time is an aware UTC datetime (a zone-less one is read as UTC).

    Args:
        name: file name (only its extensions are used; ``.gz`` is looked through).
        data: the raw bytes of the file.
        file_time: when the file was saved (mtime); resolves relative times such as
            "an hour ago" in text dumps; never used as a publication date by itself.
        boilerplate_lines: keys of lines known to repeat across many dumps (see
            :mod:`briefings.text.corpus`); dropped from text dumps.

    Returns:
        At least one article.

    Raises:
        BadInput: with a one-line reason (empty, binary, undecodable, oversized, malformed
            JSON, feed without items, HTML without article, nothing article-like).
    """
    articles = _read_any(name, data, file_time=file_time, boilerplate_lines=boilerplate_lines)
    return [replace(article, published=as_utc(article.published)) for article in articles]


def _read_any(
    name: str,
    data: bytes,
    *,
    file_time: datetime | None = None,
    boilerplate_lines: frozenset[str] = frozenset(),
) -> list[ParsedArticle]:
    """Dispatch to the reader for the document's format (see :func:`parse_document`)."""
    if not data.strip():
        raise BadInput("empty file")
    path = PurePath(name.lower())
    suffixes = path.suffixes
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data)
        if suffixes and suffixes[-1] in {".gz", ".gzip"}:
            suffixes = suffixes[:-1]
        if not data.strip():
            raise BadInput("empty file (inside gzip)")
    ext = suffixes[-1] if suffixes else ""
    text = decode(data)
    if not text.strip():
        raise BadInput("empty file (only whitespace)")
    kind = _sniff(text[:4096])
    if ext in _HTML_EXT:
        kind = "html" if kind != "feed" else kind
    elif ext in _JSONL_EXT:
        kind = "jsonl"
    elif ext in _JSON_EXT:
        kind = "json" if kind != "jsonl" else kind
    elif ext in _FEED_EXT and kind != "html":
        kind = "feed"
    limit = MAX_RECORDS_BYTES if kind in {"json", "jsonl", "feed"} else MAX_PAGE_BYTES
    if len(data) > limit:
        raise BadInput(
            f"file too large for a {kind or 'text'} document "
            f"({len(data) / 2**20:.0f} MB > {limit // 2**20} MB)"
        )
    if kind == "html":
        return read_html(text)
    if kind in {"json", "jsonl"}:
        try:
            return read_json(text, lines=kind == "jsonl", file_time=file_time)
        except BadInput:
            if ext in _JSON_EXT | _JSONL_EXT:
                raise
            # Only sniffed: a text dump may well start with "[" or "{".
    if kind == "feed":
        return read_feed(data)
    if len(data) > MAX_PAGE_BYTES:
        raise BadInput(f"file too large for a text dump ({len(data) / 2**20:.0f} MB)")
    articles = split_dump(text, file_time=file_time, boilerplate_lines=boilerplate_lines)
    if not articles:
        raise BadInput("no article-like text found (no run of sentences)")
    return articles
