"""Storing one derived document in short transactions, so no writer waits long for the store.

SQLite has one write lock. A 2,000-article document stored in one transaction held it for a
minute or more, and every other writer (delivery progress, the scheduler's job store, the
ingest claim's lease) waited or failed with ``database is locked``. So a document is stored
in chunks: each chunk is one transaction of whole articles (an article's row, topics, link
keys and search index entries commit together), closed after :data:`CHUNK_SECONDS` of work
or :data:`CHUNK_ARTICLES` articles; between two chunks the database is let go for a moment
(``DocumentWrites.breathe``: on SQLite half as long as the chunk held it, 30-100 ms) so
that waiting writers get in.

The store's ingest lock is held across all chunks (storage/ingest_queue.py), so no other
ingest interleaves: deduplication and story linking see the store as one transaction did,
and articles of earlier chunks count like flushed ones did. The document stays ``pending``
until its last chunk, which deletes the articles it no longer yields and marks it:

* a crash mid-document leaves it pending with its first chunks stored. A pending document is
  not "unchanged", so the next ingest of the file stores it again: its stored articles are
  found (by content hash, then uid) and updated in place, never stored twice;
* an error mid-document deletes the articles this ingest had inserted in earlier chunks, as
  a rollback of one transaction did; the caller records the document as failed. (Articles it
  had updated in place keep their new version: the next ingest of the file re-stores them.)

A dry run runs exactly this, in the rehearsal's sessions (storage/rehearsal.py).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from briefings.inputs import FileResult
from storage import documents as docs
from storage.ingest_queue import DocumentWrites
from storage.models import Article, SourceDocument

log = logging.getLogger(__name__)

# a chunk closes after this much work (the write lock is held about as long) ...
CHUNK_SECONDS = 0.1
# ... or this many articles, whichever comes first
CHUNK_ARTICLES = 200
LOOKUP_ARTICLES = 16  # what the store holds of the next articles is read this many at once


@dataclass
class _Known:
    """What the store holds of one chunk's articles, looked up once at its start."""

    own_by_hash: dict[str, int]  # the document's own articles: content hash -> id
    own_by_uid: dict[str, int]  # uid -> id
    elsewhere: set[str]  # content hashes stored (anywhere)
    taken: set[str]  # derived uids already given to a stored article


@dataclass
class DocumentStore:
    """Stores one document's derived articles (see the module docstring); call :meth:`run`.

    Args:
        writes: where the document's transactions go, under the ingest lock.
        name, data, digest, file_time: the document (path, raw bytes, sha256, mtime).
        derived: its articles, in order.
        story_for: the story of an article about to be stored (a new one if none fits):
            (session, article, the stored article it updates or None) -> story id.
        dry_run: list each stored article in the result.
    """

    writes: DocumentWrites
    name: str
    data: bytes
    digest: str
    file_time: datetime | None
    derived: list[docs.NewArticle]
    story_for: Callable[[Session, docs.NewArticle, Article | None], int]
    dry_run: bool = False
    result: FileResult = field(init=False)
    kept: set[int] = field(default_factory=set, init=False)  # article ids stored from it
    used: set[str] = field(default_factory=set, init=False)  # uids given out in this dump
    seen: set[str] = field(default_factory=set, init=False)  # content hashes stored from it
    inserted: list[int] = field(default_factory=list, init=False)  # new rows (undone on error)

    def __post_init__(self) -> None:
        self.result = FileResult(self.name, "ingested")

    def run(self) -> FileResult:
        """Store every article, chunk by chunk; returns the file's result.

        Raises:
            Exception: storing failed; the articles inserted by earlier chunks are deleted
                again (best effort) before it propagates.
        """
        position = 0
        try:
            while True:
                began = time.monotonic()
                with self.writes.transaction() as session:
                    document = self._document(session, first=position == 0)
                    position = self._chunk(session, document, position)
                    done = position >= len(self.derived)
                    if done:
                        self._finish(session, document)
                held = time.monotonic() - began
                log.debug("stored %s up to article %d in %.0f ms", self.name, position, held * 1e3)
                if done:
                    return self.result
                self.writes.breathe(held)
        except Exception:
            self._undo()
            raise

    def _document(self, session: Session, *, first: bool) -> SourceDocument:
        if first:
            document = docs.upsert_document(
                session, content_hash=self.digest, path=self.name, raw=self.data,
                file_time=self.file_time,
            )  # fmt: skip
            document.status = "pending"  # until the last chunk: a crash leaves it unfinished
            return document
        stored = docs.document_by_hash(session, self.digest)
        if stored is None:
            raise RuntimeError("the document vanished from the store while it was stored")
        return stored

    def _chunk(self, session: Session, document: SourceDocument, start: int) -> int:
        """Store articles from ``start`` on until the chunk is full; returns where it ended."""
        began = time.monotonic()
        end = min(len(self.derived), start + CHUNK_ARTICLES)
        position = looked_up = start
        while position < end:
            if position == looked_up:  # a few articles at a time: most chunks hold a few
                looked_up = min(end, position + LOOKUP_ARTICLES)
                known = self._known(session, document, position, looked_up)
            self._article(session, document, position, known)
            position += 1
            if time.monotonic() - began >= CHUNK_SECONDS:
                break
        return position

    def _candidates(self, position: int) -> tuple[str, ...]:
        """Every uid the article at ``position`` may have had in this document."""
        uid = self.derived[position].uid
        again = _suffixed(uid, f"{self.digest}:{position}")
        return uid, again, _suffixed(uid, self.digest), _suffixed(again, self.digest)

    def _known(self, session: Session, document: SourceDocument, start: int, end: int) -> _Known:
        chunk = self.derived[start:end]
        hashes = [new.content_hash for new in chunk]
        uids = [uid for position in range(start, end) for uid in self._candidates(position)]
        own = docs.document_articles(session, document.id, uids=uids, hashes=hashes)
        return _Known(
            own_by_hash={digest: article_id for article_id, _, digest in own},
            own_by_uid={uid: article_id for article_id, uid, _ in own},
            elsewhere=docs.known_hashes(session, hashes),
            taken=docs.known_uids(session, (new.uid for new in chunk)),
        )

    def _article(
        self, session: Session, document: SourceDocument, position: int, known: _Known
    ) -> None:
        new = self.derived[position]
        base = new.uid
        if base in self.used:  # same outlet and title twice in one dump: distinct articles
            base = _suffixed(base, f"{self.digest}:{position}")
        other_version = _suffixed(base, self.digest)
        existing_id = (
            known.own_by_hash.get(new.content_hash)
            or known.own_by_uid.get(base)
            or known.own_by_uid.get(other_version)
        )
        if new.content_hash in self.seen or existing_id in self.kept:
            self.result.duplicates += 1  # twice in one dump
            return
        if existing_id is None and new.content_hash in known.elsewhere:
            self.result.duplicates += 1  # already stored from another document
            return
        existing = session.get(Article, existing_id) if existing_id is not None else None
        if existing is not None:
            uid = existing.uid
        elif base in known.taken:
            uid = other_version  # same outlet and title in another dump: own uid
        else:
            uid = base
        self.used.update((new.uid, uid))
        self.seen.add(new.content_hash)
        new = replace(new, uid=uid)
        story_id = self.story_for(session, new, existing)
        stored = docs.store_article(
            session, document, new, position=position, story_id=story_id, existing=existing
        )
        self.kept.add(stored.id)
        if existing is None:
            self.inserted.append(stored.id)
        if self.dry_run:
            self.result.articles.append(new)
        self.result.stored += 1

    def _finish(self, session: Session, document: SourceDocument) -> None:
        """The last chunk: drop what the document no longer yields, mark it done."""
        for article in list(document.articles):
            if article.id not in self.kept:
                docs.delete_article(session, article)  # no longer derived from it
        document.article_count = len(self.kept)
        self.result.status = "ingested" if self.derived else "empty"
        docs.mark_document(session, document, status=self.result.status)

    def _undo(self) -> None:
        """After an error: delete the articles this ingest inserted, chunk by chunk."""
        left = list(self.inserted)
        try:
            while left:
                began = time.monotonic()
                with self.writes.transaction() as session:
                    while left and time.monotonic() - began < CHUNK_SECONDS:
                        article = session.get(Article, left.pop())
                        if article is not None:
                            docs.delete_article(session, article)
                if left:
                    self.writes.breathe(time.monotonic() - began)
        except Exception:  # the document stays unfinished: its next ingest completes it
            log.warning("could not take back %d articles of %s", len(left), self.name)


def _suffixed(uid: str, salt: str) -> str:
    """A uid variant for a distinct article that shares outlet and title with another."""
    return uid[:24] + hashlib.sha256(salt.encode()).hexdigest()[:8]
