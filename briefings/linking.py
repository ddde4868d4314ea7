"""Story linking for the ingest worker: which story a new article joins.

Two in-memory indexes over the newest stored articles: near-duplicates (MinHash LSH) and
reports of the same event (headline and keyphrase overlap). They cost ~20 MB per 1,000
articles, so they cover the newest :data:`RECENT_ARTICLES` only. Other workers may store
articles into the same store (concurrent ingest), so before each document the indexes
catch up with what was stored since they last looked, under the store's ingest lock
(:func:`storage.ingest_queue.ingest_transaction`): a document stored after another always
sees that one's articles.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from briefings.stories.duplicates import NearDuplicateIndex
from briefings.stories.events import EventIndex, event_index, event_key
from storage import documents as docs
from storage import recent
from storage.models import Article

# newest articles compared with a new one for near-duplicates and same events: the
# in-memory indexes cost ~20 MB per 1,000 articles, so this bounds the worker's memory
RECENT_ARTICLES = 2_000


class StoryLinker:
    """The near-duplicate and same-event indexes of one ingest worker.

    Args:
        window: how many of the newest articles the indexes cover.
    """

    def __init__(self, window: int = RECENT_ARTICLES) -> None:
        self.window = window
        self._near: NearDuplicateIndex | None = None
        self._events: EventIndex | None = None
        self._seen = 0  # the highest article id the indexes have taken in

    def forget(self) -> None:
        """Drop the indexes (they may hold ids of a rolled-back transaction); rebuilt on use."""
        self._near = None
        self._events = None

    def catch_up(self, session: Session) -> None:
        """Bring the indexes up to the store, in the storing transaction under the ingest lock.

        Builds them from the newest articles, or adds the articles stored since they last
        looked (by other workers: this one adds its own as it stores them). Bounded memory:
        the LSH index forgets its oldest entries; the event index (no removal) is rebuilt
        once it holds 1.5× the window.
        """
        if self._events is not None and len(self._events) > self.window * 3 // 2:
            self.forget()
        if self._near is None or self._events is None:
            self._seen = recent.newest_article_id(session)
            self._near = NearDuplicateIndex()
            self._add_signatures(recent.signatures(session, self.window, after=0))
            self._events = event_index(recent.event_rows(session, self.window))
            return
        self._near.evict_oldest(self.window)
        newest = recent.newest_article_id(session)
        if newest <= self._seen:
            return
        self._add_signatures(recent.signatures(session, self.window, after=self._seen))
        for story_id, title, keyphrases, when in recent.event_rows(
            session, self.window, after=self._seen
        ):
            self._events.add(event_key(title, keyphrases, when), story_id)
        self._seen = newest

    def _add_signatures(self, rows: list[tuple[int, int | None, bytes]]) -> None:
        assert self._near is not None
        for article_id, story_id, signature in reversed(rows):  # oldest first: evicted first
            if story_id is not None:
                self._near.add((article_id, story_id), signature)

    def story_for(self, session: Session, new: docs.NewArticle, existing: Article | None) -> int:
        """The story ``new`` joins: its previous version's, a near-duplicate's, the same
        event's, or a new one (created in ``session``). Call :meth:`catch_up` first."""
        assert self._near is not None and self._events is not None, "catch_up() first"
        if existing is not None and existing.story_id is not None:
            return existing.story_id
        key = event_key(new.title, new.keyphrases, new.published or datetime.now(UTC))
        story_id: int | None = None
        if new.minhash:
            matches = self._near.query(new.minhash)  # keys are (article id, story id), best first
            if matches:
                story_id = int(matches[0][1])  # type: ignore[index]
        if story_id is None:
            story_id = self._events.match(key)  # the same event reported elsewhere
        if story_id is None:
            story_id = docs.new_story(session).id
        self._events.add(key, story_id)
        return story_id

    def stored(self, article_id: int, story_id: int, minhash: bytes | None) -> None:
        """Take in an article this worker just stored (its event key was added by
        :meth:`story_for`)."""
        assert self._near is not None
        if minhash:
            self._near.add((article_id, story_id), minhash)
        self._seen = max(self._seen, article_id)
