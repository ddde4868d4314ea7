"""Unranked full-text matching for keyword follows: which recent articles hold every word.

Briefings need the set of matching recent articles, not a ranked page with snippets, so
this skips BM25/``ts_rank_cd`` and snippets entirely. It uses the same index
and the same sanitising (:func:`storage.search.query_terms`) as search.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, text
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
            common word, better checked on a few candidates with :func:`articles_holding`).
    """
    if session.get_bind().dialect.name == "postgresql":
        sql = (
            "SELECT id FROM articles WHERE id > :after AND id <= :up_to AND "
            "search_vector @@ to_tsquery('english', :q)"
        )
        build = tsquery
    else:
        sql = (
            "SELECT rowid FROM article_fts WHERE article_fts MATCH :q "
            "AND rowid > :after AND rowid <= :up_to"
        )
        build = fts5_match
    statement = text(sql if limit is None else sql + f" LIMIT {int(limit) + 1}")
    out: dict[str, list[int]] = {}
    for term in dict.fromkeys(terms):
        query = build([term])
        if not query:
            continue
        params = {"q": query, "after": after_id, "up_to": up_to}
        ids = [int(row[0]) for row in session.execute(statement, params)]
        if ids:
            out[term] = ids
    return out


def articles_holding(session: Session, term: str, article_ids: Iterable[int]) -> set[int]:
    """Which of ``article_ids`` hold ``term`` (the index, looked up by id: cheap for a few).

    Args:
        session: an open session.
        term: one token (from :func:`storage.search.query_terms`).
        article_ids: the candidates.
    """
    wanted = sorted(set(article_ids))
    if session.get_bind().dialect.name == "postgresql":
        sql = (
            "SELECT id FROM articles WHERE id IN :ids "
            "AND search_vector @@ to_tsquery('english', :q)"
        )
        query = tsquery([term])
    else:
        sql = "SELECT rowid FROM article_fts WHERE article_fts MATCH :q AND rowid IN :ids"
        query = fts5_match([term])
    statement = text(sql).bindparams(bindparam("ids", expanding=True))
    found: set[int] = set()
    for start in range(0, len(wanted) if query else 0, 500):
        ids = wanted[start : start + 500]
        found.update(int(row[0]) for row in session.execute(statement, {"q": query, "ids": ids}))
    return found
