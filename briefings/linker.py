"""Which stored story a new article belongs to, looked up in the store within a window.

The pure parts (keys, scores) are :mod:`briefings.stories`; the lookups are
:mod:`storage.links`. A new article is compared, exactly as before, only with the
articles that share one of its link keys within ``window`` of its time:

1. near-duplicates: articles sharing a MinHash band (any time in the window);
2. else the same event reported elsewhere: articles sharing an uncommon headline word,
   within the event window (:data:`~briefings.stories.events.EVENT_WINDOW`, or ``window``
   when that is shorter).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from briefings.stories.events import (
    COMMON_MIN,
    EVENT_WINDOW,
    MIN_SHARED_TITLE_TERMS,
    best_event,
    common_limit,
    event_key,
)
from briefings.stories.linking import band_keys, best_near, link_keys, term_keys
from storage import links
from storage.documents import NewArticle

BACKFILL_BATCH = 2_000


def find_story(
    session: Session,
    new: NewArticle,
    when: datetime,
    window: timedelta,
    *,
    exclude: int | None = None,
) -> int | None:
    """The story of the earlier article ``new`` repeats or reports the same event as.

    Args:
        session: the ingest's transaction (articles stored earlier in it count).
        new: the derived article.
        when: its sort time.
        window: how far apart in time a linked article may be.
        exclude: its own id, when an existing article is re-stored.
    """
    if new.minhash:
        rows = links.near_candidates(
            session, band_keys(new.minhash), when - window, when + window, exclude=exclude
        )
        story = best_near(new.minhash, rows)
        if story is not None:
            return story
    return _same_event(session, new, when, min(window, EVENT_WINDOW), exclude)


def _same_event(
    session: Session, new: NewArticle, when: datetime, window: timedelta, exclude: int | None
) -> int | None:
    key = event_key(new.title, new.keyphrases, when)
    terms = term_keys(key.title)
    if len(terms) < MIN_SHARED_TITLE_TERMS:
        return None
    since, until = when - window, when + window
    counts = links.key_counts(session, terms.values(), since, until)
    common: frozenset[str] = frozenset()
    if any(count > COMMON_MIN for count in counts.values()):
        # as EventIndex: a word in more than ~2% of the window's headlines is common
        limit = common_limit(links.articles_between(session, since, until))
        common = frozenset(t for t, k in terms.items() if counts.get(k, 0) > limit)
    rare = [k for t, k in terms.items() if t not in common and counts.get(k)]
    rows = links.event_candidates(session, rare, since, until, exclude=exclude)
    candidates = ((event_key(title, phrases, at), story) for story, title, phrases, at in rows)
    return best_event(key, candidates, common=common, window=window)


def backfill_keys(
    transaction: Callable[[], AbstractContextManager[Session]], batch: int = BACKFILL_BATCH
) -> int:
    """Give the articles stored before link keys existed their keys; return how many.

    Newest first, a transaction per batch (an interrupted backfill resumes where it
    stopped). A no-op once done.

    Args:
        transaction: opens one committed transaction (the ingest's: under the store's
            ingest lock, so that two workers never key the same articles at once).
        batch: articles per transaction.
    """
    done = 0
    while True:
        with transaction() as session:
            rows = links.unkeyed_articles(session, batch)
            for article_id, title, signature, at in rows:
                keys = link_keys(title, signature)
                links.set_keys(session, article_id, at, keys, new=False)
            links.mark_keyed(session, rows[-1][0] if len(rows) == batch else 1)
        done += len(rows)
        if len(rows) < batch:
            return done
