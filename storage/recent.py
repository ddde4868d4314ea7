"""The newest stored articles, as ingest's caches and trending terms read them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article


def signatures(
    session: Session, limit: int, *, after: int = 0
) -> list[tuple[int, int | None, bytes]]:
    """(article id, story id, MinHash signature) of the newest ``limit`` signed articles.

    Args:
        session: an open session.
        limit: how many articles (newest ids first).
        after: only articles with a higher id (those stored since an earlier read).
    """
    rows = session.execute(
        select(Article.id, Article.story_id, Article.minhash)
        .where(Article.minhash.is_not(None), Article.id > after)
        .order_by(Article.id.desc())
        .limit(limit)
    )
    return [(article_id, story_id, sig) for article_id, story_id, sig in rows if sig is not None]


def event_rows(
    session: Session, limit: int, *, after: int = 0
) -> list[tuple[int, str, Sequence[str], datetime]]:
    """(story id, title, keyphrases, sort time) of the newest ``limit`` articles, oldest first.

    Args:
        session: an open session.
        limit: how many articles (newest ids) to return.
        after: only articles with a higher id (those stored since an earlier read).
    """
    rows = session.execute(
        select(Article.story_id, Article.title, Article.keyphrases, Article.sort_time)
        .where(Article.story_id.is_not(None), Article.id > after)
        .order_by(Article.id.desc())
        .limit(limit)
    ).all()
    return [(int(sid), title, phrases or [], when) for sid, title, phrases, when in reversed(rows)]


def newest_article_id(session: Session) -> int:
    """The highest article id in the store (0 when it has none)."""
    return int(session.scalar(select(func.max(Article.id))) or 0)


def texts_since(
    session: Session, since: datetime, *, limit: int, prefix: int = 3000
) -> list[tuple[str, str]]:
    """(title, first ``prefix`` characters of the body) of articles since ``since``, newest first.

    Args:
        session: an open session.
        since: the oldest sort time.
        limit: most articles.
        prefix: body characters kept.
    """
    rows = session.execute(
        select(Article.title, func.substr(Article.body, 1, prefix))
        .where(Article.sort_time >= since)
        .order_by(Article.sort_time.desc(), Article.id.desc())
        .limit(limit)
    ).all()
    return [(title, body) for title, body in rows]
