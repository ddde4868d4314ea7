"""The newest stored articles, as trending terms read them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article


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
