"""Unranked full-text matching for keyword follows: which recent articles hold every word.

Briefings need the set of matching recent articles, not a ranked page with snippets, so
this skips BM25/``ts_rank_cd`` and snippets entirely. It uses the same index
and the same sanitising (:func:`storage.search.query_terms`) as search.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from storage.search import fts5_match, query_terms, tsquery


def matching_article_ids(session: Session, user_text: str, *, min_id: int = 0) -> list[int]:
    """Return ids (at least ``min_id``) of articles containing every word of ``user_text``.

    Only the full-text index is read (no article rows, no ranking), so it stays fast on a
    large store; callers narrow the ids to a time window themselves (ids grow with time,
    so ``min_id`` = the smallest id of the window's articles bounds the work).

    Args:
        session: an open session.
        user_text: raw words (sanitised here, like a search).
        min_id: smallest article id of interest.
    """
    terms = query_terms(user_text)
    if not terms:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sql = text(
            "SELECT id FROM articles WHERE search_vector @@ to_tsquery('english', :q) "
            "AND id >= :min_id ORDER BY id"
        )
        query = tsquery(terms)
    else:
        sql = text(
            "SELECT rowid FROM article_fts WHERE article_fts MATCH :q AND rowid >= :min_id "
            "ORDER BY rowid"
        )
        query = fts5_match(terms)
    return [int(row[0]) for row in session.execute(sql, {"q": query, "min_id": min_id})]


def _driver_sql(session: Session, sqlite_sql: str) -> tuple[Any, str, Callable[..., str]]:
    """A DB-API cursor on the session's connection, the SQL in its paramstyle, and the
    engine's query builder: thousands of tiny index reads skip SQLAlchemy's per-call cost."""
    cursor = session.connection().connection.cursor()
    if session.get_bind().dialect.name == "postgresql":
        sql = re.sub(r":(\w+)", r"%(\1)s", sqlite_sql)
        sql = sql.replace("rowid", "id").replace(
            "FROM article_fts WHERE article_fts MATCH %(q)s",
            "FROM articles WHERE search_vector @@ to_tsquery('english', %(q)s)",
        )
        return cursor, sql, tsquery
    return cursor, sqlite_sql, fts5_match


def term_postings(
    session: Session,
    terms: Iterable[str],
    *,
    after_id: int,
    up_to: int,
    limit: int | None = None,
) -> dict[str, list[int]]:
    """Per term, the ids of articles after ``after_id`` that hold it: one index read per term.

    The same index, tokens and stemming as :func:`matching_article_ids`, so an instant
    follow matches what the same daily follow matches; the id range keeps each read to
    the newest articles' postings.

    Args:
        session: an open session.
        terms: single tokens (from :func:`storage.search.query_terms`).
        after_id: the matching cursor: only articles with a larger id count …
        up_to: … and at most this id (what the run read as the newest article).
        limit: read at most ``limit + 1`` ids per term (more than ``limit`` = truncated: a
            common word, better checked with :func:`articles_holding`).
    """
    sql = (
        "SELECT rowid FROM article_fts WHERE article_fts MATCH :q "
        "AND rowid > :after AND rowid <= :up_to"
    )
    cursor, sql, build = _driver_sql(
        session, sql + ("" if limit is None else f" LIMIT {limit + 1}")
    )
    out: dict[str, list[int]] = {}
    try:
        for term in dict.fromkeys(terms):
            query = build([term])
            if not query:
                continue
            cursor.execute(sql, {"q": query, "after": after_id, "up_to": up_to})
            ids = [int(row[0]) for row in cursor.fetchall()]
            if ids:
                out[term] = ids
    finally:
        cursor.close()
    return out


def articles_holding(
    session: Session, term: str, any_of: Iterable[str], *, after_id: int, up_to: int
) -> set[int]:
    """Ids of articles in (``after_id``, ``up_to``] holding ``term`` and one of ``any_of``.

    The index intersects a common word's postings with a few rare words' ones (skipping
    through the long list), so checking a common word costs what the rare words cost.

    Args:
        session: an open session.
        term: one token (from :func:`storage.search.query_terms`).
        any_of: tokens of which at least one must occur too (the candidates' rare words).
        after_id: as for :func:`term_postings`.
        up_to: as for :func:`term_postings`.
    """
    sql = (
        "SELECT rowid FROM article_fts WHERE article_fts MATCH :q "
        "AND rowid > :after AND rowid <= :up_to"
    )
    cursor, sql, build = _driver_sql(session, sql)
    anchors, head = list(dict.fromkeys(any_of)), build([term])
    found: set[int] = set()
    try:
        for start in range(0, len(anchors) if head else 0, 200):
            either = build(anchors[start : start + 200], any_term=True)
            if not either:
                continue
            joined = f"{head} & ({either})" if build is tsquery else f"{head} AND ({either})"
            cursor.execute(sql, {"q": joined, "after": after_id, "up_to": up_to})
            found.update(int(row[0]) for row in cursor.fetchall())
    finally:
        cursor.close()
    return found
