"""Read queries the services need; every function takes an open session."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session, aliased, selectinload

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


def story_lead_id() -> ScalarSelect[int]:
    """Return a correlated subquery: the lead (first) article id of ``Article``'s story."""
    inner = aliased(Article)
    return select(func.min(inner.id)).where(inner.story_id == Article.story_id).scalar_subquery()


def latest_articles(
    session: Session,
    *,
    topic: str | None = None,
    limit: int = 5,
    offset: int = 0,
    since: datetime | None = None,
) -> list[Article]:
    """Return the newest story leads, optionally within one topic.

    Args:
        session: an open session.
        topic: a topic slug, or None for all topics.
        limit: page size.
        offset: rows to skip.
        since: only articles at or after this instant.
    """
    query = select(Article).where(Article.id == story_lead_id())
    if topic:
        query = query.join(ArticleTopic, ArticleTopic.article_id == Article.id).where(
            ArticleTopic.topic_slug == topic
        )
    if since:
        query = query.where(Article.sort_time >= since)
    query = (
        query.order_by(Article.sort_time.desc(), Article.id.desc())
        .limit(limit)
        .offset(offset)
        .options(selectinload(Article.topics))
    )
    return list(session.scalars(query))


def count_latest(session: Session, *, topic: str | None = None) -> int:
    """Return how many story leads :func:`latest_articles` can page through."""
    query = select(func.count(Article.id)).where(Article.id == story_lead_id())
    if topic:
        query = query.join(ArticleTopic, ArticleTopic.article_id == Article.id).where(
            ArticleTopic.topic_slug == topic
        )
    return int(session.scalar(query) or 0)


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
        name = source or "unknown outlet"
        if story_id is not None and name not in outlets[story_id]:
            outlets[story_id].append(name)
    return dict(outlets)


def story_sizes(session: Session, story_ids: Iterable[int]) -> dict[int, int]:
    """Return how many articles each story has."""
    wanted = list({sid for sid in story_ids if sid is not None})
    if not wanted:
        return {}
    rows = session.execute(
        select(Article.story_id, func.count(Article.id))
        .where(Article.story_id.in_(wanted))
        .group_by(Article.story_id)
    )
    return {int(story_id): int(count) for story_id, count in rows}


def topic_counts(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """Return the number of story leads per topic slug (optionally since an instant)."""
    query = (
        select(ArticleTopic.topic_slug, func.count(ArticleTopic.article_id))
        .join(Article, Article.id == ArticleTopic.article_id)
        .where(Article.id == story_lead_id())
        .group_by(ArticleTopic.topic_slug)
    )
    if since:
        query = query.where(Article.sort_time >= since)
    return {slug: int(count) for slug, count in session.execute(query)}


def topics(session: Session) -> list[Topic]:
    """Return the synced taxonomy topics ordered by slug."""
    return list(session.scalars(select(Topic).order_by(Topic.slug)))


def trending_terms(session: Session, limit: int = 10) -> list[TrendingTerm]:
    """Return the stored trending terms, most shared first."""
    return list(
        session.scalars(
            select(TrendingTerm)
            .order_by(TrendingTerm.stories.desc(), TrendingTerm.term)
            .limit(limit)
        )
    )


def source_counts(session: Session) -> list[tuple[str, int]]:
    """Return (outlet, article count) pairs, largest first."""
    rows = session.execute(
        select(Article.source, func.count(Article.id))
        .group_by(Article.source)
        .order_by(func.count(Article.id).desc(), Article.source)
    )
    return [(source or "unknown outlet", int(count)) for source, count in rows]


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


def store_stats(session: Session) -> StoreStats:
    """Return document, article, story, topic and subscriber counts plus recent errors."""

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
    )
