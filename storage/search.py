"""Ranked full-text search behind one function, on SQLite FTS5 and PostgreSQL tsvector.

User text never reaches FTS syntax raw: :func:`query_terms` reduces it to plain word
tokens, and each engine's query is built from those tokens only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from storage.models import UTCDateTime

# Snippet highlight markers: private-use characters that survive HTML escaping, so the
# presentation layer can turn them into tags after escaping the snippet.
MARK_START = "\ue000"
MARK_END = "\ue001"

MAX_TERMS = 16
MAX_TERM_LENGTH = 40
_WORD = re.compile(r"\w+", re.UNICODE)
# Words too common to justify an any-word fallback match on their own.
FALLBACK_STOP = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "he",
        "her", "his", "in", "is", "it", "its", "near", "not", "of", "on", "or", "she", "that",
        "the", "their", "they", "this", "to", "was", "were", "what", "when", "where", "which",
        "who", "will", "with",
    }
)


def query_terms(user_text: str) -> list[str]:
    """Reduce arbitrary user text to at most ``MAX_TERMS`` lower-case word tokens.

    Operators, quotes, parentheses, ``*``, ``NEAR(``, column filters and emoji are
    dropped; duplicates are removed; order is kept.

    Args:
        user_text: anything a user typed.
    """
    seen: dict[str, None] = {}
    for match in _WORD.finditer(user_text[:2000].casefold()):
        token = match.group(0).strip("_")[:MAX_TERM_LENGTH]
        if token and token not in seen:
            seen[token] = None
        if len(seen) >= MAX_TERMS:
            break
    return list(seen)


def fts5_match(terms: list[str], *, any_term: bool = False) -> str:
    """Build an FTS5 MATCH expression where every term is a quoted string literal.

    Args:
        terms: tokens from :func:`query_terms` (re-quoted defensively anyway).
        any_term: OR the terms instead of AND-ing them.
    """
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    return (" OR " if any_term else " ").join(quoted)


def tsquery(terms: list[str], *, any_term: bool = False) -> str:
    """Build a ``to_tsquery`` expression of quoted lexemes joined by ``&`` or ``|``.

    Args:
        terms: tokens from :func:`query_terms`.
        any_term: OR the terms instead of AND-ing them.
    """
    quoted = ["'" + term.replace("'", "''").replace("\\", "") + "'" for term in terms]
    return (" | " if any_term else " & ").join(quoted)


@dataclass(frozen=True)
class SearchFilters:
    """Optional restrictions on a search.

    Attributes:
        topic: only articles tagged with this topic slug.
        source: only articles whose outlet contains this text (case-insensitive).
        since: only articles whose sort time is at or after this instant.
    """

    topic: str | None = None
    source: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class SearchHit:
    """One search result: the article id, its rank score, and a marked-up snippet."""

    article_id: int
    score: float
    snippet: str


def search_articles(
    session: Session,
    user_text: str,
    *,
    filters: SearchFilters | None = None,
    limit: int = 5,
    offset: int = 0,
) -> list[SearchHit]:
    """Return ranked articles matching ``user_text`` (all words; else any word).

    Results are ordered by relevance, then newest, then id, so pages are stable.

    Args:
        session: an open session.
        user_text: raw user input; it is sanitised here.
        filters: topic/source/date restrictions.
        limit: page size.
        offset: rows to skip (page × size).
    """
    terms = query_terms(user_text)
    if not terms:
        return []
    filters = filters or SearchFilters()
    search = _search_postgres if session.get_bind().dialect.name == "postgresql" else _search_sqlite
    hits = search(session, terms, False, filters, limit, offset)
    if hits or len(terms) == 1:
        return hits
    if offset and search(session, terms, False, filters, 1, 0):
        return []  # past the last page of an all-words search: don't switch modes mid-way
    # no article has every word: rank those having any of the meaningful ones
    meaningful = [term for term in terms if term not in FALLBACK_STOP and len(term) > 1]
    if not meaningful:
        return []
    return search(session, meaningful, True, filters, limit, offset)


def _filter_sql(filters: SearchFilters, params: dict[str, object]) -> str:
    clauses = []
    if filters.topic:
        clauses.append(
            "EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = a.id "
            "AND t.topic_slug = :topic)"
        )
        params["topic"] = filters.topic
    if filters.source:
        clauses.append("lower(a.source) LIKE :source ESCAPE '\\'")
        escaped = filters.source.lower().replace("\\", "\\\\").replace("%", "\\%")
        params["source"] = "%" + escaped.replace("_", "\\_") + "%"
    if filters.since:
        clauses.append("a.sort_time >= :since")
        params["since"] = filters.since
    return "".join(" AND " + clause for clause in clauses)


def _search_sqlite(
    session: Session,
    terms: list[str],
    any_term: bool,
    filters: SearchFilters,
    limit: int,
    offset: int,
) -> list[SearchHit]:
    params: dict[str, object] = {
        "q": fts5_match(terms, any_term=any_term),
        "limit": limit,
        "offset": offset,
    }
    where = _filter_sql(filters, params)
    sql = text(
        "SELECT a.id, bm25(article_fts, 10.0, 1.0) AS rank, "
        f"snippet(article_fts, 1, '{MARK_START}', '{MARK_END}', '…', 24) AS snip "
        "FROM article_fts JOIN articles a ON a.id = article_fts.rowid "
        f"WHERE article_fts MATCH :q{where} "
        "ORDER BY rank, a.sort_time DESC, a.id DESC LIMIT :limit OFFSET :offset"
    )
    if filters.since:
        sql = sql.bindparams(bindparam("since", type_=UTCDateTime()))
    rows = session.execute(sql, params).all()
    return [SearchHit(int(row[0]), -float(row[1]), str(row[2] or "")) for row in rows]


def _search_postgres(
    session: Session,
    terms: list[str],
    any_term: bool,
    filters: SearchFilters,
    limit: int,
    offset: int,
) -> list[SearchHit]:
    params: dict[str, object] = {
        "q": tsquery(terms, any_term=any_term),
        "limit": limit,
        "offset": offset,
    }
    where = _filter_sql(filters, params)
    options = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=35, MinWords=15"
    sql = text(
        "WITH q AS (SELECT to_tsquery('english', :q) AS query), "
        "ranked AS (SELECT a.id, a.body, a.sort_time, "
        "ts_rank_cd(a.search_vector, q.query, 1) AS rank "
        f"FROM articles a, q WHERE a.search_vector @@ q.query{where} "
        "ORDER BY rank DESC, a.sort_time DESC, a.id DESC LIMIT :limit OFFSET :offset) "
        f"SELECT r.id, r.rank, ts_headline('english', r.body, q.query, '{options}') "
        "FROM ranked r, q ORDER BY r.rank DESC, r.sort_time DESC, r.id DESC"
    )
    if filters.since:
        sql = sql.bindparams(bindparam("since", type_=UTCDateTime()))
    rows = session.execute(sql, params).all()
    return [SearchHit(int(row[0]), float(row[1]), str(row[2] or "")) for row in rows]
