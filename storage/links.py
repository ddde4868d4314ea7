"""Link keys: how ingest finds the earlier articles a new one may share a story with.

Each article has a few dozen integer keys (computed by ``briefings.stories.linking``:
its MinHash bands and headline terms) in ``link_keys``, indexed by (key, sort time). A
new article's candidates are the articles that share a key with it within a window of
its time: an index range per key, so the cost and the worker's memory depend on the
window, not on the size of the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import Article, LinkBackfill, LinkKey


def set_keys(
    session: Session, article_id: int, sort_time: datetime, keys: Iterable[int], *, new: bool
) -> None:
    """Store an article's link keys (replacing the ones it had unless ``new``).

    Args:
        session: the caller's transaction.
        article_id: the stored article.
        sort_time: its sort time (the window is on it).
        keys: its link keys (distinct).
        new: the article was just inserted and has no keys yet.
    """
    if not new:
        session.execute(delete(LinkKey).where(LinkKey.article_id == article_id))
    rows = [{"article_id": article_id, "key": key, "sort_time": sort_time} for key in keys]
    if rows:
        session.execute(insert(LinkKey), rows)


def _sharing(keys: Collection[int], since: datetime, until: datetime) -> Select[tuple[int]]:
    return (
        select(LinkKey.article_id)
        .where(LinkKey.key.in_(list(keys)), LinkKey.sort_time.between(since, until))
        .distinct()
    )


def near_candidates(
    session: Session,
    keys: Collection[int],
    since: datetime,
    until: datetime,
    *,
    exclude: int | None = None,
) -> list[tuple[int, bytes]]:
    """(story id, signature) of articles sharing one of ``keys`` in the window, oldest first.

    Args:
        session: an open session.
        keys: the new article's band keys.
        since: the window's start (sort time, inclusive).
        until: its end (inclusive).
        exclude: an article id to leave out (the article itself, when re-stored).
    """
    if not keys:
        return []
    query = (
        select(Article.story_id, Article.minhash)
        .where(
            Article.id.in_(_sharing(keys, since, until)),
            Article.story_id.is_not(None),
            Article.minhash.is_not(None),
        )
        .order_by(Article.id)
    )
    if exclude is not None:
        query = query.where(Article.id != exclude)
    return [(int(story), bytes(sig)) for story, sig in session.execute(query)]


def event_candidates(
    session: Session,
    keys: Collection[int],
    since: datetime,
    until: datetime,
    *,
    exclude: int | None = None,
) -> list[tuple[int, str, Sequence[str], datetime]]:
    """(story id, title, keyphrases, sort time) of articles sharing one of ``keys``.

    Args:
        session: an open session.
        keys: the new article's (uncommon) headline-term keys.
        since: the window's start (sort time, inclusive).
        until: its end (inclusive).
        exclude: an article id to leave out.
    """
    if not keys:
        return []
    query = (
        select(Article.story_id, Article.title, Article.keyphrases, Article.sort_time)
        .where(Article.id.in_(_sharing(keys, since, until)), Article.story_id.is_not(None))
        .order_by(Article.id)
    )
    if exclude is not None:
        query = query.where(Article.id != exclude)
    return [
        (int(story), title, phrases or [], when)
        for story, title, phrases, when in session.execute(query)
    ]


def key_counts(
    session: Session, keys: Collection[int], since: datetime, until: datetime
) -> dict[int, int]:
    """How many articles in the window carry each of ``keys`` (absent keys: none).

    Args:
        session: an open session.
        keys: link keys.
        since: the window's start (sort time, inclusive).
        until: its end (inclusive).
    """
    if not keys:
        return {}
    rows = session.execute(
        select(LinkKey.key, func.count())
        .where(LinkKey.key.in_(list(keys)), LinkKey.sort_time.between(since, until))
        .group_by(LinkKey.key)
    )
    return {int(key): int(count) for key, count in rows}


def articles_between(session: Session, since: datetime, until: datetime) -> int:
    """How many articles have their sort time in the window.

    Args:
        session: an open session.
        since: the window's start (inclusive).
        until: its end (inclusive).
    """
    query = select(func.count()).where(Article.sort_time.between(since, until))
    return int(session.scalar(query) or 0)


def unkeyed_articles(session: Session, limit: int) -> list[tuple[int, str, bytes | None, datetime]]:
    """The newest ``limit`` articles stored before link keys existed that still lack them.

    Returns (id, title, signature, sort time), newest first; empty when all have keys.
    Give them keys with :func:`set_keys`, then call :func:`mark_keyed`.

    Args:
        session: an open session.
        limit: batch size.
    """
    below = session.scalar(select(LinkBackfill.below).where(LinkBackfill.id == 1))
    if below is None or below <= 1:  # no row: the store was empty at migration 0008
        return []
    rows = session.execute(
        select(Article.id, Article.title, Article.minhash, Article.sort_time)
        .where(Article.id < below)
        .order_by(Article.id.desc())
        .limit(limit)
    )
    return [(int(i), title, sig, when) for i, title, sig, when in rows]


def mark_keyed(session: Session, below: int) -> None:
    """Record that every article with an id of at least ``below`` has its keys.

    Args:
        session: the transaction that stored the keys.
        below: the smallest id keyed so far (1 when all are).
    """
    session.execute(update(LinkBackfill).where(LinkBackfill.id == 1).values(below=below))
