"""Writes for source documents, articles, stories, topics and trending terms."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.columns import utcnow
from storage.links import set_keys
from storage.models import (
    Article,
    ArticleTopic,
    SourceDocument,
    Story,
    Topic,
    TrendingTerm,
)
from storage.topic_counts import note_article


@dataclass(frozen=True)
class NewArticle:
    """Everything the pipeline derived for one article, ready to store.

    Attributes mirror :class:`storage.models.Article`; ``topics`` are (slug, score).
    """

    uid: str
    content_hash: str
    title: str
    body: str
    source: str | None
    byline: str | None
    published: datetime | None
    dateline: str | None
    url: str | None
    summary: list[str]
    keyphrases: list[str]
    language: str | None
    minhash: bytes | None
    topics: list[tuple[str, float]] = field(default_factory=list)
    # how ingest finds it again (briefings.stories.linking.link_keys; storage.links)
    link_keys: list[int] = field(default_factory=list)


def document_by_hash(session: Session, content_hash: str) -> SourceDocument | None:
    """Return the stored document with this content hash, if any."""
    return session.scalar(select(SourceDocument).where(SourceDocument.content_hash == content_hash))


def upsert_document(
    session: Session,
    *,
    content_hash: str,
    path: str,
    raw: bytes | None,
    file_time: datetime | None,
) -> SourceDocument:
    """Return the document for ``content_hash``, creating it (or refreshing its path).

    Args:
        session: an open session (the caller's transaction).
        content_hash: sha256 of the raw bytes (or of the path for unreadable files).
        path: where the bytes were read from.
        raw: the raw bytes, stored once.
        file_time: the file's modification time, used to resolve relative dates.
    """
    document = document_by_hash(session, content_hash)
    if document is None:
        document = SourceDocument(
            content_hash=content_hash,
            path=path,
            raw=raw,
            size=len(raw or b""),
            file_time=file_time,
            status="pending",
            article_count=0,
        )
        session.add(document)
        session.flush()
    else:
        document.path = path
        if raw is not None:
            document.raw = raw
    return document


def mark_document(
    session: Session, document: SourceDocument, *, status: str, error: str | None = None
) -> None:
    """Record a document's ingest outcome ("ingested", "error", "empty")."""
    document.status = status
    document.error = error
    document.ingested_at = utcnow()


def stored_documents(session: Session) -> list[tuple[int, str, str]]:
    """(id, path, content hash) of every document whose raw bytes are kept, oldest first."""
    rows = session.execute(
        select(SourceDocument.id, SourceDocument.path, SourceDocument.content_hash)
        .where(SourceDocument.raw.is_not(None))
        .order_by(SourceDocument.id)
    )
    return [(doc_id, path, digest) for doc_id, path, digest in rows]


def document_by_id(session: Session, document_id: int) -> SourceDocument | None:
    """Return the stored document ``document_id``, if any."""
    return session.get(SourceDocument, document_id)


def delete_article(session: Session, article: Article) -> None:
    """Delete an article that its document no longer yields (in the caller's transaction)."""
    note_article(session, article)  # its hour and story are recounted at commit
    session.delete(article)


def known_hashes(session: Session, hashes: Iterable[str]) -> set[str]:
    """Return those of ``hashes`` that a stored article has as its content hash."""
    wanted = list(set(hashes))
    if not wanted:
        return set()
    query = select(Article.content_hash).where(Article.content_hash.in_(wanted))
    return set(session.scalars(query))


def known_uids(session: Session, uids: Iterable[str]) -> set[str]:
    """Return those of ``uids`` that a stored article has as its stable uid."""
    wanted = list(set(uids))
    if not wanted:
        return set()
    return set(session.scalars(select(Article.uid).where(Article.uid.in_(wanted))))


def document_articles(
    session: Session, document_id: int, *, uids: Iterable[str], hashes: Iterable[str]
) -> list[tuple[int, str, str]]:
    """(id, uid, content hash) of the document's articles with one of ``uids`` or ``hashes``."""
    wanted_uids, wanted_hashes = list(set(uids)), list(set(hashes))
    rows = session.execute(
        select(Article.id, Article.uid, Article.content_hash).where(
            Article.document_id == document_id,
            Article.uid.in_(wanted_uids) | Article.content_hash.in_(wanted_hashes),
        )
    )
    return [(int(i), uid, digest) for i, uid, digest in rows]


def new_story(session: Session) -> Story:
    """Create and flush an empty story."""
    story = Story()
    session.add(story)
    session.flush()
    return story


def _fit(text: str, limit: int | None = None) -> str:
    """Text as both engines store it: no NUL characters (PostgreSQL refuses them), at most
    ``limit`` characters (PostgreSQL refuses longer values; SQLite would keep them)."""
    text = text.replace("\x00", "")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _fit_column(text: str | None, column: str) -> str | None:
    """``text`` fitted to the length of the articles table's ``column``."""
    if text is None:
        return None
    length = getattr(Article.__table__.c[column].type, "length", None)
    return _fit(text, length) or None


def store_article(
    session: Session,
    document: SourceDocument,
    new: NewArticle,
    *,
    position: int,
    story_id: int,
    existing: Article | None = None,
) -> Article:
    """Insert ``new`` (or update ``existing`` in place, keeping its id) with its topics.

    Args:
        session: the caller's transaction.
        document: the source document it came from.
        new: the derived article.
        position: index of the article within its document.
        story_id: the story it belongs to.
        existing: an article to overwrite (re-ingest keeps ids stable).
    """
    if existing is not None:
        note_article(session, existing)  # the old hour and story are recounted at commit
    article = existing or Article(uid=new.uid)
    article.document = document
    article.position = position
    article.story_id = story_id
    article.title = _fit(new.title)
    article.body = _fit(new.body)
    article.source = _fit_column(new.source, "source")
    article.byline = _fit_column(new.byline, "byline")
    article.published = new.published
    article.dateline = _fit_column(new.dateline, "dateline")
    article.url = _fit(new.url) if new.url is not None else None
    article.summary = [_fit(sentence) for sentence in new.summary]
    article.keyphrases = [_fit(phrase) for phrase in new.keyphrases]
    article.language = new.language
    article.content_hash = new.content_hash
    article.minhash = new.minhash
    article.sort_time = new.published or (existing.sort_time if existing else utcnow())
    if existing is None:
        session.add(article)
    session.flush()
    if existing is not None:
        session.execute(delete(ArticleTopic).where(ArticleTopic.article_id == article.id))
    session.add_all(
        ArticleTopic(article_id=article.id, topic_slug=slug, score=score)
        for slug, score in new.topics
    )
    set_keys(session, article.id, article.sort_time, new.link_keys, new=existing is None)
    note_article(session, article)
    return article


def sync_topics(session: Session, topics: Sequence[tuple[str, str]]) -> None:
    """Make the ``topics`` table match the taxonomy's (slug, label) pairs."""
    stored = {topic.slug: topic for topic in session.scalars(select(Topic))}
    wanted = dict(topics)
    for slug, topic in stored.items():
        if slug not in wanted:
            session.delete(topic)
    for slug, label in wanted.items():
        if slug in stored:
            stored[slug].label = label
        else:
            session.add(Topic(slug=slug, label=label))


def replace_trending(session: Session, terms: Sequence[tuple[str, int]]) -> None:
    """Replace the stored trending terms with ``terms`` (term, story count), best first."""
    session.execute(delete(TrendingTerm))
    now = utcnow()
    session.add_all(
        TrendingTerm(term=term, stories=count, rank=rank, computed_at=now)
        for rank, (term, count) in enumerate(terms)
    )
