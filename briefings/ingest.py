"""Ingest worker: files in, stored articles out, one transaction per source document."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
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
from briefings.pipeline import PipelineConfig, derive_document
from briefings.stories.duplicates import NearDuplicateIndex
from briefings.stories.events import EventIndex, event_index, event_key
from briefings.topics.trending import idf_rarity, trending_terms
from storage import documents as docs
from storage import recent
from storage.models import Article
from storage.rehearsal import rehearsal

log = logging.getLogger(__name__)

TRENDING_WINDOW = timedelta(days=2)
TRENDING_MAX_ARTICLES = 5000
# newest articles compared with a new one for near-duplicates and same events: the
# in-memory indexes cost ~20 MB per 1,000 articles, so this bounds the worker's memory
RECENT_ARTICLES = 2_000


class Ingestor:
    """Runs the pipeline over files and stores the results.

    Args:
        session_factory: opens sessions on the store.
        config: pipeline settings (taxonomy, summariser).
        dry_run: the real ingest, store-side checks and duplicates across files included,
            in a rehearsal of the store (storage/rehearsal.py) that is thrown away:
            nothing is written, and each result lists the articles a real ingest would
            store.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        config: PipelineConfig,
        *,
        dry_run: bool = False,
    ) -> None:
        self.session_factory = session_factory
        self.config = config
        self.dry_run = dry_run
        self._near: NearDuplicateIndex | None = None
        self._events: EventIndex | None = None
        # one ingest at a time: the caches above are the worker's, not shared between threads
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
                self._near = None  # the caches hold ids that were never committed
                self._events = None

    @property
    def busy(self) -> bool:
        """True while another thread is ingesting (a hint; :meth:`exclusive` decides)."""
        if not self._lock.acquire(blocking=False):
            return True
        self._lock.release()
        return False

    def forget_indexes(self) -> None:
        """Drop the in-memory duplicate and event indexes (another process stored articles
        they do not hold); the next ingest rebuilds them from the store."""
        with self._lock:
            self._near = None
            self._events = None

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """One transaction, committed (in a dry run, to the rehearsal)."""
        with self.session_factory() as session, session.begin():
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
        for path in iter_input_files(paths):
            try:
                result = self.ingest_file(path, force=force)
            except Exception as exc:  # even recording the failure failed: report, go on
                log.debug("ingesting %s failed", path, exc_info=True)
                result = FileResult(storable_path(path), "error", error=one_line(exc))
            report.files.append(result)
            if progress:
                progress(result)
        if report.stored and not self.dry_run:
            self.refresh_trending()
        log.info("%s finished: %s", "dry run" if self.dry_run else "ingest", report.summary_line())
        return report

    def ingest_file(self, path: Path, *, force: bool = False) -> FileResult:
        """Ingest one file; errors are recorded on its document and returned, not raised."""
        name = storable_path(path)
        try:
            data, file_time = read_file(path)
        except BadInput as exc:
            with self.exclusive():
                return self._record_error(name, None, str(exc), None)
        return self.ingest_bytes(name, data, file_time=file_time, force=force)

    def ingest_bytes(
        self, name: str, data: bytes, *, file_time: datetime | None = None, force: bool = False
    ) -> FileResult:
        """Ingest one document given as bytes (files, uploads from chat)."""
        digest = hashlib.sha256(data).hexdigest()
        with self.exclusive():
            return self._ingest_bytes(name, data, digest, file_time, force)

    def _ingest_bytes(
        self, name: str, data: bytes, digest: str, file_time: datetime | None, force: bool
    ) -> FileResult:
        with self.session_factory() as session:
            known = docs.document_by_hash(session, digest)
            if known is not None and known.status == "ingested" and not force:
                return FileResult(name, "unchanged")
        return self._derive_and_store(name, data, digest, file_time)

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
        """Store a document's articles in one transaction, updating earlier ones in place."""
        result = FileResult(name, "ingested")
        with self._transaction() as session:
            document = docs.upsert_document(
                session, content_hash=digest, path=name, raw=data, file_time=file_time
            )
            previous = {article.uid: article for article in document.articles}
            previous_by_hash = {article.content_hash: article for article in document.articles}
            elsewhere = docs.existing_hashes(session, (a.content_hash for a in derived))
            taken_uids = docs.articles_by_uid(session, (a.uid for a in derived))
            near = self._near_index(session)
            kept: set[int] = set()
            used: set[str] = set()  # uids given out in this dump
            seen: set[str] = set()  # content hashes stored from this dump
            for position, new in enumerate(derived):
                base = new.uid
                if base in used:  # same outlet and title twice in one dump: distinct articles
                    base = _suffixed(base, f"{digest}:{position}")
                other_version = _suffixed(base, digest)
                existing = (
                    previous_by_hash.get(new.content_hash)
                    or previous.get(base)
                    or previous.get(other_version)
                )
                if new.content_hash in seen or (existing is not None and existing.id in kept):
                    result.duplicates += 1  # twice in one dump
                    continue
                if existing is None and new.content_hash in elsewhere:
                    result.duplicates += 1  # already stored from another document
                    continue
                if existing is not None:
                    uid = existing.uid
                elif base in taken_uids:
                    uid = other_version  # same outlet and title in another dump: own uid
                else:
                    uid = base
                used.update((new.uid, uid))
                seen.add(new.content_hash)
                new = replace(new, uid=uid)
                story_id = self._story_for(session, near, new, existing)
                stored = docs.store_article(
                    session, document, new, position=position, story_id=story_id, existing=existing
                )
                kept.add(stored.id)
                if self.dry_run:
                    result.articles.append(new)
                if new.minhash:
                    near.add((stored.id, story_id), new.minhash)
                result.stored += 1
            for article in list(document.articles):
                if article.id not in kept:
                    docs.delete_article(session, article)  # no longer derived from it
            document.article_count = len(kept)
            result.status = "ingested" if derived else "empty"
            docs.mark_document(session, document, status=result.status)
        return result

    def _story_for(
        self,
        session: Session,
        near: NearDuplicateIndex,
        new: docs.NewArticle,
        existing: Article | None,
    ) -> int:
        if existing is not None and existing.story_id is not None:
            return existing.story_id
        if self._events is None:
            self._events = event_index(recent.event_rows(session, RECENT_ARTICLES))
        key = event_key(new.title, new.keyphrases, new.published or datetime.now(UTC))
        story_id: int | None = None
        if new.minhash:
            matches = near.query(new.minhash)  # keys are (article id, story id), best first
            if matches:
                story_id = int(matches[0][1])  # type: ignore[index]
        if story_id is None:
            story_id = self._events.match(key)  # the same event reported elsewhere
        if story_id is None:
            story_id = docs.new_story(session).id
        self._events.add(key, story_id)
        return story_id

    def _near_index(self, session: Session) -> NearDuplicateIndex:
        # bounded memory: the LSH index forgets its oldest entries; the event index (no
        # removal) is rebuilt from the newest articles once it holds 1.5× the window
        if self._near is not None:
            self._near.evict_oldest(RECENT_ARTICLES)
        if self._events is not None and len(self._events) > RECENT_ARTICLES * 3 // 2:
            self._events = None
        if self._near is None:
            index = NearDuplicateIndex()
            for article_id, story_id, signature in recent.signatures(session, RECENT_ARTICLES):
                if story_id is not None:
                    index.add((article_id, story_id), signature)
            self._near = index
        return self._near

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
        self._near = None  # the failed transaction may have left the cache ahead of the store
        self._events = None
        return FileResult(name, "error", error=reason)

    def refresh_trending(self, now: datetime | None = None) -> None:
        """Recompute trending terms over the articles of the last two days.

        Every article counts (not one per story): a term that several outlets or
        follow-ups carry is exactly what is trending. Bounded to the newest articles.
        """
        since = (now or datetime.now(UTC)) - TRENDING_WINDOW
        with self.exclusive(), self.session_factory() as session, session.begin():
            rows = recent.texts_since(session, since, limit=TRENDING_MAX_ARTICLES)
            model = self.config.taxonomy.model
            rarity = idf_rarity(model.idf) if model is not None else None
            terms = trending_terms(((t, b) for t, b in rows), rarity=rarity)
            docs.replace_trending(session, terms)


def _suffixed(uid: str, salt: str) -> str:
    """A uid variant for a distinct article that shares outlet and title with another."""
    return uid[:24] + hashlib.sha256(salt.encode()).hexdigest()[:8]
