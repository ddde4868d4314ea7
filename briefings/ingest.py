"""Ingest worker: files in, stored articles out, document by document (briefings/storing.py)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from briefings.errors import BadInput, IngestBusy, one_line
from briefings.inputs import (
    FileResult,
    IngestReport,
    iter_input_files,
    read_file,
    storable_path,
)
from briefings.linker import backfill_keys, find_story
from briefings.pipeline import PipelineConfig, derive_document
from briefings.storing import DocumentStore
from briefings.topics.trending import idf_rarity, trending_terms
from storage import documents as docs
from storage import recent
from storage.ingest_queue import DocumentWrites, IngestClaims, document_writes, ingest_transaction
from storage.models import Article
from storage.rehearsal import rehearsal

log = logging.getLogger(__name__)

TRENDING_WINDOW = timedelta(days=2)
TRENDING_MAX_ARTICLES = 5000
# how long a claim on a document lasts unless renewed (a killed worker's file is taken over
# this long after it stopped renewing)
DEFAULT_LEASE = timedelta(seconds=60)


class Ingestor:
    """Runs the pipeline over files and stores the results.

    Args:
        session_factory: opens sessions on the store.
        config: pipeline settings (taxonomy, summariser).
        dry_run: the real ingest, store-side checks and duplicates across files included,
            in a rehearsal of the store (storage/rehearsal.py) that is thrown away:
            nothing is written, and each result lists the articles a real ingest would
            store. A dry run claims nothing and takes no lock: it writes nothing to share.
        lease: how long this worker's claim on a document lasts unless renewed.

    Several workers (processes, replicas) may ingest into one store at once: each claims a
    document before deriving it and stores it under the store's ingest lock
    (storage/ingest_queue.py), so no document is derived twice at once or lost, and story
    linking sees every earlier document whichever worker stored it.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        config: PipelineConfig,
        *,
        dry_run: bool = False,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.session_factory = session_factory
        self.config = config
        self.dry_run = dry_run
        # a new article is linked to stories stored up to this far from its time
        self.story_window = timedelta(days=config.story_window_days)
        self._keyed = False  # the store's older articles have their link keys (backfill)
        self.claims = None if dry_run else IngestClaims(session_factory, lease)
        # one ingest at a time: one worker's writes, not interleaved between threads
        self._lock = threading.RLock()
        self._depth = 0  # nesting of exclusive(): the outermost one opens a dry run's rehearsal

    @contextmanager
    def exclusive(self, *, wait: bool = True) -> Iterator[None]:
        """Hold the worker for one ingest; every public method runs inside this.

        Args:
            wait: block until a running ingest is done; else raise at once.

        Raises:
            IngestBusy: ``wait`` is false and another thread is ingesting.
        """
        if not self._lock.acquire(blocking=wait):
            raise IngestBusy("an ingest is already running; try again when it is done")
        self._depth += 1
        try:
            if self.dry_run and self._depth == 1:
                with self._rehearsing():
                    yield
            else:
                yield
        finally:
            self._depth -= 1
            self._lock.release()

    @contextmanager
    def _rehearsing(self) -> Iterator[None]:
        store = self.session_factory
        with rehearsal(store.kw["bind"]) as sessions:
            self.session_factory = sessions
            try:
                yield
            finally:
                self.session_factory = store
                self._keyed = False  # a backfill in the rehearsal did not reach the store

    @property
    def busy(self) -> bool:
        """True while another thread is ingesting (a hint; :meth:`exclusive` decides)."""
        if not self._lock.acquire(blocking=False):
            return True
        self._lock.release()
        return False

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """One transaction under the store's ingest lock, committed (in a dry run, to the
        rehearsal, without the lock)."""
        if self.dry_run:
            with self.session_factory() as session, session.begin():
                yield session
        else:
            with ingest_transaction(self.session_factory) as session:
                yield session

    def ingest_paths(
        self,
        paths: Iterable[Path],
        *,
        force: bool = False,
        progress: Callable[[FileResult], None] | None = None,
    ) -> IngestReport:
        """Ingest every file under ``paths``; a bad file never stops the others."""
        with self.exclusive():
            return self._ingest_paths(paths, force=force, progress=progress)

    def _ingest_paths(
        self,
        paths: Iterable[Path],
        *,
        force: bool,
        progress: Callable[[FileResult], None] | None,
    ) -> IngestReport:
        report = IngestReport()
        claimed: list[tuple[int, Path]] = []  # being ingested by another worker
        for path in iter_input_files(paths):
            result = self._file_result(path, force, wait=False)
            if result is None:  # come back to it once the others are done
                claimed.append((len(report.files), path))
                result = FileResult(storable_path(path), "claimed")
            else:
                self._progress(progress, result)
            report.files.append(result)
        for position, path in claimed:  # the other worker finishes it, or its lease runs out
            waited = self._file_result(path, force, wait=True)
            assert waited is not None  # waiting never gives up
            report.files[position] = waited
            self._progress(progress, waited)
        if report.stored and not self.dry_run:
            self.refresh_trending()
        log.info("%s finished: %s", "dry run" if self.dry_run else "ingest", report.summary_line())
        return report

    @staticmethod
    def _progress(progress: Callable[[FileResult], None] | None, result: FileResult) -> None:
        if progress:
            progress(result)

    def _file_result(self, path: Path, force: bool, *, wait: bool) -> FileResult | None:
        try:
            return self._ingest_file(path, force, wait=wait)
        except Exception as exc:  # even recording the failure failed: report, go on
            log.debug("ingesting %s failed", path, exc_info=True)
            return FileResult(storable_path(path), "error", error=one_line(exc))

    def ingest_file(self, path: Path, *, force: bool = False) -> FileResult:
        """Ingest one file; errors are recorded on its document and returned, not raised."""
        result = self._ingest_file(path, force, wait=True)
        assert result is not None
        return result

    def _ingest_file(self, path: Path, force: bool, *, wait: bool) -> FileResult | None:
        name = storable_path(path)
        try:
            data, file_time = read_file(path)
        except BadInput as exc:
            with self.exclusive():
                return self._record_error(name, None, str(exc), None)
        digest = hashlib.sha256(data).hexdigest()
        with self.exclusive():
            return self._ingest_bytes(name, data, digest, file_time, force, wait=wait)

    def ingest_bytes(
        self, name: str, data: bytes, *, file_time: datetime | None = None, force: bool = False
    ) -> FileResult:
        """Ingest one document given as bytes (files, uploads from chat)."""
        digest = hashlib.sha256(data).hexdigest()
        with self.exclusive():
            result = self._ingest_bytes(name, data, digest, file_time, force, wait=True)
        assert result is not None
        return result

    def _ingest_bytes(
        self,
        name: str,
        data: bytes,
        digest: str,
        file_time: datetime | None,
        force: bool,
        *,
        wait: bool,
    ) -> FileResult | None:
        """Claim the document, derive and store it; None when another worker holds it and
        ``wait`` is false."""
        if not force and self._ingested(digest):
            return FileResult(name, "unchanged")
        if self.claims is None:
            return self._derive_and_store(name, data, digest, file_time)
        while not self.claims.claim(digest):
            if not wait:
                return None
            time.sleep(min(1.0, self.claims.lease.total_seconds() / 10))
            if not force and self._ingested(digest):  # the other worker stored it
                return FileResult(name, "unchanged")
        with self.claims.holding(digest):
            if not force and self._ingested(digest):  # stored by a worker that just let go
                return FileResult(name, "unchanged")
            return self._derive_and_store(name, data, digest, file_time)

    def _ingested(self, digest: str) -> bool:
        with self.session_factory() as session:
            known = docs.document_by_hash(session, digest)
            return known is not None and known.status == "ingested"

    def reingest(self, progress: Callable[[FileResult], None] | None = None) -> IngestReport:
        """Re-derive every stored document's articles with the current pipeline, in place.

        Article ids stay stable where the article is still derived; a document that now
        fails keeps its previous articles.
        """
        with self.exclusive():
            return self._reingest(progress)

    def _reingest(self, progress: Callable[[FileResult], None] | None) -> IngestReport:
        with self.session_factory() as session:
            rows = docs.stored_documents(session)
        report = IngestReport()
        for document_id, path, digest in rows:
            with self.session_factory() as session:
                document = docs.document_by_id(session, document_id)
                if document is None or document.raw is None:
                    continue
                data, file_time = document.raw, document.file_time
            result = self._derive_and_store(path, data, digest, file_time)
            report.files.append(result)
            if progress:
                progress(result)
        self.refresh_trending()
        log.info("re-ingest finished: %s", report.summary_line())
        return report

    def _derive_and_store(
        self, name: str, data: bytes, digest: str, file_time: datetime | None
    ) -> FileResult:
        try:
            derived = derive_document(Path(name).name, data, self.config, file_time=file_time)
        except BadInput as exc:
            return self._record_error(name, data, str(exc), file_time)
        except Exception as exc:  # a pipeline bug must not abort the other files
            log.debug("pipeline failed on %s", name, exc_info=True)
            return self._record_error(name, data, f"internal error: {one_line(exc)}", file_time)
        try:
            return self._store(name, data, digest, file_time, derived)
        except Exception as exc:
            log.debug("storing %s failed", name, exc_info=True)
            return self._record_error(name, data, f"could not store: {one_line(exc)}", file_time)

    def _store(
        self,
        name: str,
        data: bytes,
        digest: str,
        file_time: datetime | None,
        derived: list[docs.NewArticle],
    ) -> FileResult:
        """Store a document's articles under the ingest lock, in short transactions
        (briefings/storing.py), updating earlier ones in place."""
        if not self._keyed:
            backfilled = backfill_keys(self._transaction)
            if backfilled:
                log.info("gave %d earlier articles their story link keys", backfilled)
            self._keyed = True
        with self._document_writes() as writes:
            store = DocumentStore(
                writes, name, data, digest, file_time, derived, self._story_for,
                dry_run=self.dry_run,
            )  # fmt: skip
            return store.run()

    @contextmanager
    def _document_writes(self) -> Iterator[DocumentWrites]:
        """Where one document's transactions go: under the store's ingest lock (in a dry
        run, to the rehearsal, without the lock)."""
        if self.dry_run:
            yield DocumentWrites(self.session_factory)
        else:
            with document_writes(self.session_factory) as writes:
                yield writes

    def _story_for(self, session: Session, new: docs.NewArticle, existing: Article | None) -> int:
        if existing is not None and existing.story_id is not None:
            return existing.story_id
        when = new.published or (existing.sort_time if existing else datetime.now(UTC))
        own = existing.id if existing is not None else None
        story_id = find_story(session, new, when, self.story_window, exclude=own)
        return story_id if story_id is not None else docs.new_story(session).id

    def _record_error(
        self, name: str, data: bytes | None, reason: str, file_time: datetime | None
    ) -> FileResult:
        log.warning("cannot ingest %s: %s", name, reason)
        digest = hashlib.sha256(
            data if data is not None else f"unreadable:{name}".encode()
        ).hexdigest()
        with self._transaction() as session:
            document = docs.upsert_document(
                session, content_hash=digest, path=name, raw=data, file_time=file_time
            )
            if document.status != "ingested":
                docs.mark_document(session, document, status="error", error=reason)
        return FileResult(name, "error", error=reason)

    def refresh_trending(self, now: datetime | None = None) -> None:
        """Recompute trending terms over the articles of the last two days.

        Every article counts (not one per story): a term that several outlets or
        follow-ups carry is exactly what is trending. Bounded to the newest articles.
        """
        since = (now or datetime.now(UTC)) - TRENDING_WINDOW
        with self.exclusive(), self._transaction() as session:
            rows = recent.texts_since(session, since, limit=TRENDING_MAX_ARTICLES)
            model = self.config.taxonomy.model
            rarity = idf_rarity(model.idf) if model is not None else None
            terms = trending_terms(((t, b) for t, b in rows), rarity=rarity)
            docs.replace_trending(session, terms)
