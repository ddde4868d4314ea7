"""Ranked full-text search behind one function, on SQLite FTS5 and PostgreSQL tsvector.

User text never reaches FTS syntax raw: :func:`query_terms` reduces it to plain word
tokens, and each engine's query is built from those tokens only, every token a quoted
literal (:func:`fts5_match`, :func:`tsquery`).

Ranking: SQLite uses BM25 with the title weighted 10× the body; PostgreSQL uses
``ts_rank_cd`` over a generated ``search_vector`` (title weight A, body weight B). Ties are
broken by article id (newest ingested first), so a result list has one total order and
pages never overlap. Snippets are computed for the returned page only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from storage.columns import UTCDateTime

# Snippet highlight markers: private-use characters that survive HTML escaping, so the
# presentation layer can turn them into tags after escaping the snippet.
MARK_START = "\ue000"
MARK_END = "\ue001"

MAX_INPUT = 2000
MAX_TERMS = 16
MAX_TERM_LENGTH = 40
TITLE_WEIGHT = 10.0
BODY_WEIGHT = 1.0
SNIPPET_TOKENS = 24
# Ranking cost grows with the number of matches: beyond this many, only the newest are
# ranked (a one-word query for a very common word still answers in milliseconds).
MAX_RANKED = 1000
# a term more articles than this hold is matched but left out of SQLite's BM25 (see
# _common_terms); the newest SAMPLE_DOCS articles estimate how many hold it
COMMON_DOCS = 20_000
SAMPLE_DOCS = 2_000
TITLE_BONUS = 1000.0  # above any BM25 score: ranks titles holding every word first
# ts_rank_cd weights for labels {D, C, B, A}: the title (A) counts as much as in bm25 here
_PG_WEIGHTS = "{0.0, 0.0, %s, 1.0}" % (BODY_WEIGHT / TITLE_WEIGHT)
_WORD = re.compile(r"\w+", re.UNICODE)


def query_terms(user_text: str) -> list[str]:
    """Reduce arbitrary user text to at most ``MAX_TERMS`` lower-case word tokens.

    The text is NFKC-normalised (so a letter plus a combining accent is one letter) and
    case-folded; only runs of word characters survive, so operators, quotes, parentheses,
    ``*``, ``^``, ``NEAR(``, ``column:`` filters, control characters and emoji are dropped.
    Duplicates are removed, order is kept; each token is at most ``MAX_TERM_LENGTH`` long.

    Args:
        user_text: anything a user typed.
    """
    normalised = unicodedata.normalize("NFKC", user_text[:MAX_INPUT]).casefold()
    seen: dict[str, None] = {}
    for match in _WORD.finditer(normalised):
        token = match.group(0).strip("_")[:MAX_TERM_LENGTH]
        if token and token not in seen:
            seen[token] = None
        if len(seen) >= MAX_TERMS:
            break
    return list(seen)


def fts5_match(terms: list[str], *, any_term: bool = False) -> str:
    """Build an FTS5 MATCH expression where every term is a quoted string literal.

    Inside FTS5 double quotes nothing is an operator (``AND``, ``NEAR``, ``*``, ``^``,
    ``col:``); a double quote is escaped by doubling it.

    Args:
        terms: tokens from :func:`query_terms` (re-quoted defensively anyway).
        any_term: OR the terms instead of AND-ing them.
    """
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    return (" OR " if any_term else " AND ").join(quoted)


def tsquery(terms: list[str], *, any_term: bool = False) -> str:
    """Build a ``to_tsquery`` expression of quoted lexemes joined by ``&`` or ``|``.

    Each term is a single-quoted literal (quotes doubled, backslashes and NULs removed),
    so ``!``, ``&``, ``|``, ``<->``, ``:*`` and parentheses are plain text.

    Args:
        terms: tokens from :func:`query_terms`.
        any_term: OR the terms instead of AND-ing them.
    """
    quoted = []
    for term in terms:
        clean = term.replace("\\", "").replace("\x00", "").replace("'", "''")
        if clean:
            quoted.append("'" + clean + "'")
    return (" | " if any_term else " & ").join(quoted)


def like_pattern(fragment: str) -> str:
    """Return a ``LIKE … ESCAPE '\\'`` pattern matching ``fragment`` anywhere, literally.

    Args:
        fragment: user text; ``%``, ``_`` and ``\\`` in it lose their LIKE meaning.
    """
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%" + escaped + "%"


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
    stop_words: frozenset[str] = frozenset(),
) -> list[SearchHit]:
    """Return ranked articles matching ``user_text`` (all words; else any word).

    Stop words (``stop_words``) are left out of both the match and the ranking when the
    query has other words: "yet-to-be-named city" searches "yet named city". The cost of
    an all-words match grows with the doclists of its words, and "to" and "be" are in
    nearly every article, while BM25 gives them almost no weight. A query of stop words
    only is searched as typed.

    Results are ordered by relevance (higher ``score`` first), then by id, newest
    first, so consecutive pages never overlap and together cover every ranked match.
    When more than ``MAX_RANKED`` articles match, only the newest ``MAX_RANKED`` of them
    (by id, i.e. most recently stored) are ranked: a one-word query for a very common
    word stays fast on a large archive.

    Args:
        session: an open session.
        user_text: raw user input; it is sanitised here.
        filters: topic/source/date restrictions.
        limit: page size.
        offset: rows to skip (page × size).
        stop_words: lower-case words too common to search for next to other words
            (``briefings.text.words.SEARCH_STOP_WORDS``); none by default.
    """
    terms = query_terms(user_text)
    if not terms or limit <= 0:
        return []
    terms = [term for term in terms if term not in stop_words] or terms
    filters = filters or SearchFilters()
    search = _search_postgres if session.get_bind().dialect.name == "postgresql" else _search_sqlite
    hits = search(session, terms, False, filters, limit, max(offset, 0))
    if hits or len(terms) == 1:
        return hits
    if offset > 0 and search(session, terms, False, filters, 1, 0):
        return []  # past the last page of an all-words search: don't switch modes mid-way
    # no article has every word: rank those having any of the meaningful ones
    meaningful = [term for term in terms if term not in stop_words and len(term) > 1]
    if not meaningful:
        return []
    return search(session, meaningful, True, filters, limit, max(offset, 0))


def _filter_sql(filters: SearchFilters, params: dict[str, Any], id_column: str) -> str:
    clauses = []
    if filters.topic:
        clauses.append(
            "EXISTS (SELECT 1 FROM article_topics t "
            f"WHERE t.article_id = {id_column} AND t.topic_slug = :topic)"
        )
        params["topic"] = filters.topic
    if filters.source:
        clauses.append(  # a probe per matching article, never a scan of every outlet
            f"EXISTS (SELECT 1 FROM articles s WHERE s.id = {id_column} "
            "AND lower(s.source) LIKE :source ESCAPE '\\')"
        )
        params["source"] = like_pattern(filters.source.lower())
    if filters.since:
        # the sort_time index covers (sort_time, id): no article row is read for this
        clauses.append(f"{id_column} IN (SELECT d.id FROM articles d WHERE d.sort_time >= :since)")
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
    params: dict[str, Any] = {
        "q": fts5_match(terms, any_term=any_term),
        "limit": limit,
        "offset": offset,
    }
    where = _filter_sql(filters, params, "article_fts.rowid")
    # a query matching more than MAX_RANKED articles ranks the newest MAX_RANKED of them:
    # FTS5 walks its rowid-ordered doclists without scoring to find them
    # (the store's newest id rides along: computed once, it sizes the archive for free)
    newest_sql = text(
        "SELECT rowid, (SELECT max(id) FROM articles) FROM article_fts "
        f"WHERE article_fts MATCH :q{where} ORDER BY rowid DESC LIMIT :cap"
    )
    if filters.since:
        newest_sql = newest_sql.bindparams(bindparam("since", type_=UTCDateTime()))
    rows = session.execute(newest_sql, {**params, "cap": MAX_RANKED}).all()
    if not rows:
        return []
    newest, top = [int(row[0]) for row in rows], int(rows[0][1] or 0)
    if len(newest) == MAX_RANKED:
        where += " AND article_fts.rowid >= :floor"
        params["floor"] = newest[-1]
    common = set() if any_term else _common_terms(session, terms, top)
    if common:
        ranked = _rank_without_common(session, terms, common, newest, params)
    else:
        # rank first, without touching article rows (they hold the body); snippets for the page
        sql = text(
            f"SELECT rowid, bm25(article_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) AS score "
            f"FROM article_fts WHERE article_fts MATCH :q{where} "
            "ORDER BY score, rowid DESC LIMIT :limit OFFSET :offset"
        )
        if filters.since:
            sql = sql.bindparams(bindparam("since", type_=UTCDateTime()))
        ranked = [(int(row[0]), -float(row[1])) for row in session.execute(sql, params)]
    if not ranked:
        return []
    snippets = _sqlite_snippets(session, params["q"], [article_id for article_id, _ in ranked])
    return [SearchHit(aid, score, snippets.get(aid, "")) for aid, score in ranked]


def _common_terms(session: Session, terms: list[str], top: int) -> set[str]:
    """Terms an estimated more than ``COMMON_DOCS`` articles hold (never on small stores).

    FTS5's ``bm25()`` first counts, for every term of the query, the articles holding it,
    walking the term's whole doclist: 100 ms for "one" at 1M articles, whatever rows are
    ranked. The share of the newest ``SAMPLE_DOCS`` articles holding a term estimates how
    many do, at a cost bounded by the sample.
    """
    if top <= COMMON_DOCS:  # top: the newest article id, about the archive's size
        return set()
    sample = text(
        "SELECT count(*) FROM article_fts WHERE article_fts MATCH :q "
        "AND rowid BETWEEN :low AND :top"
    )
    common = set()
    for term in terms:
        held = int(
            session.scalar(sample, {"q": fts5_match([term]), "low": top - SAMPLE_DOCS, "top": top})
            or 0
        )
        if held * top > COMMON_DOCS * SAMPLE_DOCS:
            common.add(term)
    return common


def _rank_without_common(
    session: Session,
    terms: list[str],
    common: set[str],
    candidates: list[int],
    params: dict[str, Any],
) -> list[tuple[int, float]]:
    """Rank ``candidates`` (the newest ``MAX_RANKED`` matches) by BM25 over the rare terms.

    A term in tens of thousands of articles adds little to BM25 (its IDF is near its
    floor) but costs the walk of its doclist; it still has to match. What it adds through
    the title weight is kept coarsely: matches whose title holds every term come first,
    then BM25 over the rare terms (newest first when none is left).
    """
    rare = [term for term in terms if term not in common]
    # a rowid range, not ``rowid IN (…)``: FTS5 runs an IN list as one query per id
    bounds = {"low": min(candidates), "high": max(candidates)}
    titled_sql = text(
        "SELECT rowid FROM article_fts WHERE article_fts MATCH :title "
        "AND rowid BETWEEN :low AND :high"
    )
    titled = set(session.scalars(titled_sql, {**bounds, "title": f"title : ({params['q']})"}))
    scores = dict.fromkeys(candidates, 0.0)
    if rare:
        sql = text(
            f"SELECT rowid, bm25(article_fts, {TITLE_WEIGHT}, {BODY_WEIGHT}) FROM article_fts "
            "WHERE article_fts MATCH :rare AND rowid BETWEEN :low AND :high"
        )
        for row in session.execute(sql, {**bounds, "rare": fts5_match(rare)}):
            if int(row[0]) in scores:
                scores[int(row[0])] = -float(row[1])
    # the common words' part of the title weight: a title holding every word comes first
    scored = [
        (aid, score + (TITLE_BONUS if aid in titled else 0.0)) for aid, score in scores.items()
    ]
    scored.sort(key=lambda hit: (-hit[1], -hit[0]))
    return scored[params["offset"] : params["offset"] + params["limit"]]


def _sqlite_snippets(session: Session, match: str, ids: list[int]) -> dict[int, str]:
    sql = text(
        "SELECT rowid, snippet(article_fts, 1, :start, :end, '…', :tokens) FROM article_fts "
        "WHERE article_fts MATCH :q AND rowid IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    rows = session.execute(
        sql,
        {"q": match, "ids": ids, "start": MARK_START, "end": MARK_END, "tokens": SNIPPET_TOKENS},
    )
    return {int(row[0]): str(row[1] or "") for row in rows}


def _search_postgres(
    session: Session,
    terms: list[str],
    any_term: bool,
    filters: SearchFilters,
    limit: int,
    offset: int,
) -> list[SearchHit]:
    query = tsquery(terms, any_term=any_term)
    if not query:
        return []
    params: dict[str, Any] = {"q": query, "limit": limit, "offset": offset}
    where = _filter_sql(filters, params, "a.id")
    floor = _postgres_floor(session, where, params, filters)
    if floor is not None:  # as on SQLite: rank the newest MAX_RANKED matches only
        where += " AND a.id >= :floor"
        params["floor"] = int(floor)
    options = f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=35, MinWords=15"
    # the query must be a constant expression in WHERE for the GIN index to be used
    sql = text(
        "SELECT r.id, r.rank, "
        f"ts_headline('english', a.body, to_tsquery('english', :q), '{options}') FROM ("
        f"SELECT a.id, ts_rank_cd('{_PG_WEIGHTS}', a.search_vector, to_tsquery('english', :q), 1)"
        " AS rank FROM articles a "
        f"WHERE a.search_vector @@ to_tsquery('english', :q){where} "
        "ORDER BY rank DESC, a.id DESC LIMIT :limit OFFSET :offset) r "
        "JOIN articles a ON a.id = r.id ORDER BY r.rank DESC, r.id DESC"
    )
    if filters.since:
        sql = sql.bindparams(bindparam("since", type_=UTCDateTime()))
    rows = session.execute(sql, params).all()
    return [SearchHit(int(row[0]), float(row[1]), str(row[2] or "")) for row in rows]


def _postgres_floor(
    session: Session, where: str, params: dict[str, Any], filters: SearchFilters
) -> int | None:
    """Return the id of the ``MAX_RANKED``-th newest match (None when there are fewer).

    Walking ids newest first and testing each row is cheapest when most articles match;
    collecting every match from the GIN index is cheapest otherwise. The planner's row
    estimate (from the tsvector statistics) picks the walk when its expected length,
    MAX_RANKED × total / matches, is below about twice the matches (measured at 100k).
    """
    matches = f"FROM articles a WHERE a.search_vector @@ to_tsquery('english', :q){where}"

    def run(sql: str) -> Any:
        statement = text(sql)
        if filters.since:
            statement = statement.bindparams(bindparam("since", type_=UTCDateTime()))
        return session.scalar(statement, {**params, "skip": MAX_RANKED - 1})

    # one planning round trip estimates both the matches and the table's size
    plan = run(f"EXPLAIN (FORMAT JSON) SELECT a.id {matches} UNION ALL SELECT b.id FROM articles b")
    parts = plan[0]["Plan"].get("Plans") or [plan[0]["Plan"]] * 2
    estimated, total = float(parts[0]["Plan Rows"]), float(parts[-1]["Plan Rows"])
    if 2 * estimated * estimated > MAX_RANKED * max(total, 1.0):
        floor = run(f"SELECT a.id {matches} ORDER BY a.id DESC LIMIT 1 OFFSET :skip")
    else:  # OFFSET 0 fences the subquery: the planner cannot walk the primary key instead
        floor = run(
            f"SELECT m.id FROM (SELECT a.id {matches} OFFSET 0) m "
            "ORDER BY m.id DESC LIMIT 1 OFFSET :skip"
        )
    return None if floor is None else int(floor)
