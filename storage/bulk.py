"""Bulk loading of many articles into a migrated store (benchmarks, archive imports).

:func:`bulk_insert` writes the same rows :mod:`storage.documents` writes (documents,
stories, articles, topics, link keys) into the schema the migrations built, only faster:
secondary indexes and the FTS5 triggers are dropped for the load and recreated once afterwards
(their DDL is read back from the database, so the store ends with exactly the schema it
started with), rows go in with ``executemany`` on SQLite and ``COPY`` on PostgreSQL,
and the full-text index is built once at the end (FTS5 ``rebuild``; GIN ``CREATE
INDEX``). The topic counts (:mod:`storage.topic_counts`) are rebuilt afterwards too.

It is not the ingest path: no deduplication, no story linking (the articles' given
``link_keys`` are stored, so later ingests link to them), and a transaction per
batch of articles, not per document (a failed load leaves the batches before it, with
the indexes restored). Ids are assigned here, above the store's current maximum: one
loader at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text

from storage.documents import NewArticle
from storage.models import Article, ArticleTopic, LinkKey, SourceDocument, Story
from storage.topic_counts import rebuild_topic_counts

_TABLES = ("articles", "article_topics", "link_keys")
BATCH = 20_000  # articles per executemany / COPY round


@dataclass(frozen=True)
class BulkDocument:
    """One source document and its articles.

    Attributes:
        content_hash: sha256 of ``raw``.
        path: where it was read from.
        raw: the raw bytes (None keeps no copy, as for an unreadable file).
        articles: (article, story number) pairs. Articles with the same story number
            share one story; a number not seen before must be larger than every number
            given before it (numbers are local to one :func:`bulk_insert` call).
    """

    content_hash: str
    path: str
    raw: bytes | None
    articles: list[tuple[NewArticle, int]]


def bulk_insert(engine: Engine, documents: Iterable[BulkDocument], *, batch: int = BATCH) -> int:
    """Insert every document's articles with their stories and topics; return the count.

    Args:
        engine: a store at the current schema revision.
        documents: the documents to store, in order (ids grow in this order).
        batch: articles per insert round (memory is proportional to it).
    """
    with engine.begin() as connection:
        deferred = _drop_deferred(connection)
    stored = 0
    try:
        ids = _Ids(engine)
        for rows in _batches(documents, ids, batch):
            # a transaction per batch: SQLite's WAL stays small and is checkpointed as it goes
            with engine.begin() as connection:
                if connection.dialect.name == "sqlite":
                    connection.exec_driver_sql("PRAGMA synchronous=OFF")
                else:  # the ids are fresh and consistent: skip the per-row foreign-key triggers
                    connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                _write(connection, rows)
            stored += len(rows["articles"])
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                for table in ("source_documents", "stories", "articles"):
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                        )
                    )
    finally:
        with engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA synchronous=NORMAL")  # engine.py's setting
            else:  # index builds sort in memory rather than in many temporary files
                connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
            _restore_deferred(connection, deferred)
    with engine.begin() as connection:
        rebuild_topic_counts(connection)
    return stored


class _Ids:
    """Next ids per table, above what the store holds."""

    def __init__(self, engine: Engine) -> None:
        def top(column: Any) -> int:
            with engine.connect() as connection:
                return int(connection.scalar(select(func.max(column))) or 0)

        self.document = top(SourceDocument.id)
        self.article = top(Article.id)
        self.story_base = top(Story.id) + 1
        self.stories_made = 0  # story numbers 0 .. stories_made - 1 have rows


def _batches(
    documents: Iterable[BulkDocument], ids: _Ids, size: int
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    now = datetime.now(UTC)
    rows: dict[str, list[dict[str, Any]]] = _empty()
    for document in documents:
        ids.document += 1
        rows["source_documents"].append(
            {
                "id": ids.document,
                "content_hash": document.content_hash,
                "path": document.path,
                "size": len(document.raw or b""),
                "raw": document.raw,
                "status": "ingested",
                "error": None,
                "article_count": len(document.articles),
                "file_time": None,
                "created_at": now,
                "ingested_at": now,
            }
        )
        for position, (new, story) in enumerate(document.articles):
            while ids.stories_made <= story:
                rows["stories"].append({"id": ids.story_base + ids.stories_made, "created_at": now})
                ids.stories_made += 1
            ids.article += 1
            rows["articles"].append(
                _article_row(new, ids.article, ids.document, ids.story_base + story, position, now)
            )
            rows["article_topics"].extend(
                {"article_id": ids.article, "topic_slug": slug, "score": score}
                for slug, score in new.topics
            )
            sort_time = rows["articles"][-1]["sort_time"]
            rows["link_keys"].extend(
                {"article_id": ids.article, "key": key, "sort_time": sort_time}
                for key in new.link_keys
            )
        if len(rows["articles"]) >= size:
            yield rows
            rows = _empty()
    if rows["source_documents"]:
        yield rows


def _empty() -> dict[str, list[dict[str, Any]]]:
    return {
        "source_documents": [],
        "stories": [],
        "articles": [],
        "article_topics": [],
        "link_keys": [],
    }


def _article_row(
    new: NewArticle, article_id: int, document_id: int, story_id: int, position: int, now: datetime
) -> dict[str, Any]:
    return {
        "id": article_id,
        "uid": new.uid,
        "document_id": document_id,
        "story_id": story_id,
        "position": position,
        "title": new.title,
        "source": new.source,
        "byline": new.byline,
        "published": new.published,
        "dateline": new.dateline,
        "url": new.url,
        "body": new.body,
        "summary": list(new.summary),
        "keyphrases": list(new.keyphrases),
        "language": new.language,
        "content_hash": new.content_hash,
        "minhash": new.minhash,
        "created_at": now,
        "sort_time": new.published or now,
    }


_MODELS = {
    "source_documents": SourceDocument,
    "stories": Story,
    "articles": Article,
    "article_topics": ArticleTopic,
    "link_keys": LinkKey,
}


def _write(connection: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    for table, batch in rows.items():
        if not batch:
            continue
        if connection.dialect.name == "postgresql":
            _copy(connection, table, batch)
        else:  # executemany through the column types (UTC datetimes, JSON)
            connection.execute(insert(_MODELS[table].__table__), batch)  # type: ignore[arg-type]


def _copy(connection: Connection, table: str, batch: list[dict[str, Any]]) -> None:
    columns = list(batch[0])
    json_columns = {"summary", "keyphrases"}
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in batch:
            copy.write_row([json.dumps(row[c]) if c in json_columns else row[c] for c in columns])


def _drop_deferred(connection: Connection) -> list[str]:
    """Drop the secondary indexes and triggers of the bulk tables; return their DDL."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text(
                "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                f"AND tbl_name IN {_TABLES!r} AND sql IS NOT NULL "
                "ORDER BY type, name"
            )
        ).all()
        for kind, name, _ in rows:
            connection.exec_driver_sql(f'DROP {kind.upper()} "{name}"')
        # indexes first, triggers last (ORDER BY type puts 'index' before 'trigger')
        return [str(sql) for _, _, sql in rows]
    rows = connection.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            f"WHERE i.schemaname = current_schema() AND i.tablename IN {_TABLES!r} "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname) ORDER BY i.indexname"
        )
    ).all()
    for name, _ in rows:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    return [str(ddl) for _, ddl in rows]


def _restore_deferred(connection: Connection, ddl: list[str]) -> None:
    """Recreate what :func:`_drop_deferred` dropped; rebuild the FTS5 index once."""
    sqlite = connection.dialect.name == "sqlite"
    for statement in ddl:
        if sqlite and statement.upper().startswith("CREATE TRIGGER"):
            continue
        connection.exec_driver_sql(statement)
    if sqlite:
        connection.exec_driver_sql("INSERT INTO article_fts(article_fts) VALUES ('rebuild')")
        for statement in ddl:
            if statement.upper().startswith("CREATE TRIGGER"):
                connection.exec_driver_sql(statement)
