"""Read queries the services need; every function takes an open session."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from storage.heartbeats import JobHealth, job_health
from storage.models import (
    Article,
    ArticleTopic,
    Chat,
    SourceDocument,
    Story,
    Subscription,
    Topic,
    TrendingTerm,
)
from storage.search import like_pattern
from storage.topic_counts import is_story_lead, stored_counts, topics_with_counts
from storage.topic_counts import story_lead_id as story_lead_id  # re-exported

# /latest for a topic either walks the time index and checks each row's topic (cheap when
# the topic is common), or reads the topic's articles and sorts them (cheap when it is
# rare). PostgreSQL's planner knows the topic's frequency; SQLite's does not (no STAT4),
# so we count the topic's rows up to the break-even point and write the query in the shape
# SQLite then plans well. Measured at 100k articles: reading and sorting one tagged row
# costs about 15 steps of the index walk.
_SORT_COST = 15


def _topic_is_common(session: Session, topic: str, rows_wanted: int) -> bool:
    total = int(session.scalar(select(func.max(Article.id))) or 0)
    # walking costs about rows_wanted * total / tagged steps, sorting tagged * _SORT_COST
    break_even = math.isqrt(rows_wanted * total // _SORT_COST) + 1
    sample = (
        select(ArticleTopic.article_id)
        .where(ArticleTopic.topic_slug == topic)
        .limit(break_even)
        .subquery()
    )
    tagged = int(session.scalar(select(func.count()).select_from(sample)) or 0)
    return tagged >= break_even


def _latest_query(
    session: Session, topic: str | None, limit: int, offset: int, since: datetime | None
) -> Select[tuple[int]]:
    query = select(Article.id).where(is_story_lead())
    if topic:
        sqlite = session.get_bind().dialect.name == "sqlite"
        if sqlite and not _topic_is_common(session, topic, limit + offset):
            query = query.join(ArticleTopic, ArticleTopic.article_id == Article.id).where(
                ArticleTopic.topic_slug == topic
            )
        else:
            query = query.where(
                select(ArticleTopic.article_id)
                .where(ArticleTopic.article_id == Article.id, ArticleTopic.topic_slug == topic)
                .exists()
            )
    if since:
        query = query.where(Article.sort_time >= since)
    return query.order_by(Article.sort_time.desc(), Article.id.desc()).limit(limit).offset(offset)


def latest_ids(
    session: Session,
    *,
    topic: str | None = None,
    limit: int = 5,
    offset: int = 0,
    since: datetime | None = None,
) -> list[int]:
    """Return the ids of the newest story leads, newest first (index-only on both engines).

    Args:
        session: an open session.
        topic: a topic slug, or None for all topics.
        limit: page size.
        offset: rows to skip.
        since: only articles at or after this instant.
    """
    query = _latest_query(session, topic, limit, offset, since)
    return [int(article_id) for article_id in session.scalars(query)]


def latest_articles(
    session: Session,
    *,
    topic: str | None = None,
    limit: int = 5,
    offset: int = 0,
    since: datetime | None = None,
) -> list[Article]:
    """Return the newest story leads (with their topics loaded); arguments as :func:`latest_ids`."""
    page = _latest_query(session, topic, limit, offset, since).subquery()
    rows = session.scalars(
        select(Article)
        .where(Article.id.in_(select(page.c.id)))
        .options(selectinload(Article.topics))
    )
    return sorted(rows, key=lambda article: (article.sort_time, article.id), reverse=True)


def count_latest(session: Session, *, topic: str | None = None) -> int:
    """Return how many story leads :func:`latest_articles` can page through."""
    query = select(func.count(Article.id)).where(is_story_lead())
    if topic:
        query = query.join(ArticleTopic, ArticleTopic.article_id == Article.id).where(
            ArticleTopic.topic_slug == topic
        )
    return int(session.scalar(query) or 0)


def article(session: Session, article_id: int) -> Article | None:
    """Return the article ``article_id``, if stored."""
    return session.get(Article, article_id)


def articles_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Article]:
    """Load articles (with their topics) by id in one query."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(Article).where(Article.id.in_(wanted)).options(selectinload(Article.topics))
    )
    return {article.id: article for article in rows}


def story_outlets(session: Session, story_ids: Iterable[int]) -> dict[int, list[str]]:
    """Return, per story, the distinct outlets of its articles in first-seen order."""
    wanted = list({sid for sid in story_ids if sid is not None})
    if not wanted:
        return {}
    rows = session.execute(
        select(Article.story_id, Article.source)
        .where(Article.story_id.in_(wanted))
        .order_by(Article.story_id, Article.id)
    )
    outlets: dict[int, list[str]] = defaultdict(list)
    for story_id, source in rows:
        if story_id is not None and source and source not in outlets[story_id]:
            outlets[story_id].append(source)
    return dict(outlets)


def story_articles(
    session: Session, story_ids: Iterable[int]
) -> dict[int, list[tuple[int, str | None]]]:
    """Return, per story, its articles as (article id, outlet) in id order."""
    wanted = list({sid for sid in story_ids if sid is not None})
    if not wanted:
        return {}
    rows = session.execute(
        select(Article.story_id, Article.id, Article.source)
        .where(Article.story_id.in_(wanted))
        .order_by(Article.story_id, Article.id)
    )
    found: dict[int, list[tuple[int, str | None]]] = defaultdict(list)
    for story_id, article_id, source in rows:
        if story_id is not None:
            found[story_id].append((article_id, source or None))
    return dict(found)


def topic_counts(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """Return the number of story leads per topic slug (optionally since an instant).

    Read from the counts kept at write time (:mod:`storage.topic_counts`): a row per
    topic and hour in the window, plus the articles of the window's first part-hour.

    Args:
        session: an open session.
        since: only articles whose sort time is at or after this instant.
    """
    return stored_counts(session, since=since)


def topics_with_leads(session: Session) -> set[str]:
    """Return the slugs of synced topics that have at least one story lead (a probe each).

    Args:
        session: an open session.
    """
    return topics_with_counts(session)


def topics(session: Session) -> list[Topic]:
    """Return the synced taxonomy topics ordered by slug."""
    return list(session.scalars(select(Topic).order_by(Topic.slug)))


def trending_terms(session: Session, limit: int = 10) -> list[TrendingTerm]:
    """Return the stored trending terms in their computed order (most notable first)."""
    return list(
        session.scalars(
            select(TrendingTerm).order_by(TrendingTerm.rank, TrendingTerm.term).limit(limit)
        )
    )


def outlet_exists(session: Session, text: str) -> bool:
    """True when some article's outlet contains ``text`` (case-insensitive), as search filters."""
    pattern = like_pattern(text.lower())
    found = session.scalar(
        select(Article.id).where(func.lower(Article.source).like(pattern, escape="\\")).limit(1)
    )
    return found is not None


def source_counts(session: Session) -> list[tuple[str | None, int]]:
    """Return (outlet, article count) pairs, largest first; None counts articles without one."""
    rows = session.execute(
        select(Article.source, func.count(Article.id))
        .group_by(Article.source)
        .order_by(func.count(Article.id).desc(), Article.source)
    )
    return [(source or None, int(count)) for source, count in rows]


@dataclass(frozen=True)
class StoreStats:
    """Counts an admin wants to see at a glance."""

    documents: int
    documents_failed: int
    articles: int
    stories: int
    topics: int
    chats: int
    subscribers: int
    last_ingest: datetime | None
    last_errors: list[tuple[str, str]]
    scheduler: list[JobHealth]  # each scheduled job's last run (the heartbeat)


def store_stats(session: Session, now: datetime | None = None) -> StoreStats:
    """Return document, article, story, topic and subscriber counts, recent errors and the
    scheduler's heartbeat.

    Args:
        session: the caller's transaction.
        now: the instant to judge overdue jobs at (default: the current time).
    """

    def count(query: Any) -> int:
        return int(session.scalar(query) or 0)

    errors = session.execute(
        select(SourceDocument.path, SourceDocument.error)
        .where(SourceDocument.status == "error")
        .order_by(SourceDocument.created_at.desc())
        .limit(5)
    ).all()
    return StoreStats(
        documents=count(select(func.count(SourceDocument.id))),
        documents_failed=count(
            select(func.count(SourceDocument.id)).where(SourceDocument.status == "error")
        ),
        articles=count(select(func.count(Article.id))),
        stories=count(select(func.count(Story.id))),
        topics=count(select(func.count(Topic.slug))),
        chats=count(select(func.count(Chat.id))),
        subscribers=count(
            select(func.count(func.distinct(Subscription.chat_id)))
            .join(Chat, Chat.id == Subscription.chat_id)
            .where(Chat.active.is_(True))
        ),
        last_ingest=session.scalar(select(func.max(SourceDocument.ingested_at))),
        last_errors=[(path, error or "") for path, error in errors],
        scheduler=job_health(session, now or datetime.now(UTC)),
    )
