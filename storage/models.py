"""Typed SQLAlchemy 2 ORM models: the store is the single source of truth."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.columns import UTCDateTime, utcnow


class Base(DeclarativeBase):
    """Declarative base of every model."""


class SourceDocument(Base):
    """One input file (a dump), stored once by content hash with its ingest status."""

    __tablename__ = "source_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # ingested|error|empty
    error: Mapped[str | None] = mapped_column(Text)
    article_count: Mapped[int] = mapped_column(Integer, default=0)
    file_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ingested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    articles: Mapped[list[Article]] = relationship(back_populates="document")

    def __repr__(self) -> str:
        return f"SourceDocument(id={self.id!r}, path={self.path!r}, status={self.status!r})"


class Story(Base):
    """A group of articles about the same event (near-duplicates, same story elsewhere)."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="story")

    def __repr__(self) -> str:
        return f"Story(id={self.id!r})"


class Article(Base):
    """A cleaned, summarised, tagged article; ``id`` is what ``/read_<id>`` shows."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_sort_time", "sort_time"),
        Index("ix_articles_source", "source"),
        Index("ix_articles_time_story", "sort_time", "id", "story_id"),  # issue 8: /latest
        Index("ix_articles_story_lead", "story_id", "id"),  # issue 8: story lead probe
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("source_documents.id", ondelete="CASCADE"))
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200))
    byline: Mapped[str | None] = mapped_column(String(300))
    published: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dateline: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[list[str]] = mapped_column(JSON, default=list)
    keyphrases: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # published when known, else when we first saw it: what "latest" sorts by
    sort_time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[SourceDocument] = relationship(back_populates="articles")
    story: Mapped[Story | None] = relationship(back_populates="articles")
    topics: Mapped[list[ArticleTopic]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"Article(id={self.id!r}, title={self.title!r})"


class Topic(Base):
    """A taxonomy topic as last synced from the taxonomy file."""

    __tablename__ = "topics"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"Topic(slug={self.slug!r})"


class ArticleTopic(Base):
    """An article's membership of a topic, with a score in 0..1."""

    __tablename__ = "article_topics"
    __table_args__ = (Index("ix_article_topics_topic", "topic_slug", "article_id"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    topic_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)

    article: Mapped[Article] = relationship(back_populates="topics")

    def __repr__(self) -> str:
        return f"ArticleTopic({self.article_id!r}, {self.topic_slug!r}, {self.score:.2f})"


class TopicCount(Base):
    """How many story leads tagged with a topic have their sort time in one UTC hour."""

    __tablename__ = "topic_counts"
    __table_args__ = (Index("ix_topic_counts_hour", "hour", "topic_slug", "leads"),)

    topic_slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    hour: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # hours since 1970 UTC
    leads: Mapped[int] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"TopicCount({self.topic_slug!r}, {self.hour!r}, {self.leads!r})"


class LinkKey(Base):
    """One link key of an article (an LSH band or a headline term), looked up by time window."""

    __tablename__ = "link_keys"
    __table_args__ = (
        Index("ix_link_keys_key_time", "key", "sort_time", "article_id"),
        {"sqlite_with_rowid": False},
    )

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    sort_time: Mapped[datetime] = mapped_column(UTCDateTime())  # the article's, for the window

    def __repr__(self) -> str:
        return f"LinkKey({self.article_id!r}, {self.key!r})"


class LinkBackfill(Base):
    """Articles stored before link keys existed (0008) and not yet given theirs."""

    __tablename__ = "link_backfill"

    id: Mapped[int] = mapped_column(primary_key=True)  # one row
    below: Mapped[int] = mapped_column(Integer)  # articles with a smaller id may lack keys

    def __repr__(self) -> str:
        return f"LinkBackfill(below={self.below!r})"


class TrendingTerm(Base):
    """A term many recent stories share, recomputed after each ingest."""

    __tablename__ = "trending_terms"

    term: Mapped[str] = mapped_column(String(200), primary_key=True)
    stories: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0 = first
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"TrendingTerm({self.term!r}, {self.stories!r})"


class Chat(Base):
    """A Telegram chat (private or group) or the terminal, with its delivery preferences."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16), default="private")
    title: Mapped[str | None] = mapped_column(String(300))
    timezone: Mapped[str | None] = mapped_column(String(64))
    briefing_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM" local
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # issue 14: a forum's default delivery thread (None = the General topic / no thread), and
    # the channel a private chat's settings commands apply to (None = the chat itself)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    managing_id: Mapped[int | None] = mapped_column(BigInteger)

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="chat", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"Chat(id={self.id!r}, kind={self.kind!r})"


class Subscription(Base):
    """A chat's subscription: a taxonomy topic, or a keyword follow (``query``)."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("chat_id", "kind", "key", name="uq_subscription"),
        Index("ix_subscriptions_chat_created", "chat_id", "created_at"),  # issue 8: schedules
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # "topic" | "follow"
    key: Mapped[str] = mapped_column(String(300))  # topic slug or the follow query
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # issue 14: "daily" (in the briefing) or "instant" (an alert as soon as a story matches)
    delivery: Mapped[str] = mapped_column(String(8), default="daily", server_default="daily")

    chat: Mapped[Chat] = relationship(back_populates="subscriptions")

    def __repr__(self) -> str:
        return f"Subscription(chat_id={self.chat_id!r}, {self.kind}={self.key!r})"


class Briefing(Base):
    """A composed briefing: what was (to be) sent to whom, and which stories it held."""

    __tablename__ = "briefings"
    __table_args__ = (Index("ix_briefings_chat_created", "chat_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    story_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    messages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # the subscriptions it was composed for ("topic:ai", "follow:chips"); None = unknown
    composed_for: Mapped[list[str] | None] = mapped_column(JSON)
    # issue 14: the forum thread of each message (None = no thread); None = all unthreaded
    threads: Mapped[list[int | None] | None] = mapped_column(JSON)
    # issue 14: "daily", or "alert" (a batch of instant alerts or a subscriber's backlog)
    kind: Mapped[str] = mapped_column(String(16), default="daily", server_default="daily")

    def __repr__(self) -> str:
        return f"Briefing(id={self.id!r}, chat_id={self.chat_id!r})"


class ChatRoute(Base):
    """A forum group's route: stories of one news topic go to one thread (issue 14)."""

    __tablename__ = "chat_routes"
    __table_args__ = (UniqueConstraint("chat_id", "topic_slug", name="uq_chat_route"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), index=True
    )
    topic_slug: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    # why Telegram refused the thread (closed, deleted) when the route was disabled
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"ChatRoute({self.chat_id!r}, {self.topic_slug!r} -> {self.thread_id!r})"


class BriefingStory(Base):
    """A story that went into a chat's briefing (so later briefings never repeat it)."""

    __tablename__ = "briefing_stories"

    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    briefing_id: Mapped[int] = mapped_column(ForeignKey("briefings.id", ondelete="CASCADE"))

    def __repr__(self) -> str:
        return f"BriefingStory({self.chat_id!r}, {self.story_id!r})"


class Delivery(Base):
    """One row per (chat, briefing slot): claimed before sending, marked after."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("chat_id", "slot", name="uq_delivery_slot"),
        Index("ix_deliveries_status_slot", "status", "slot"),
        Index("ix_deliveries_slot", "slot"),  # issue 8: stats and pruning by slot range
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"))
    slot: Mapped[datetime] = mapped_column(UTCDateTime())
    # claimed|retry|sent|empty|failed|skipped (see storage/deliveries.py)
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    briefing_id: Mapped[int | None] = mapped_column(ForeignKey("briefings.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # issue 7: who holds the claim, how many of the briefing's messages went out, when to retry
    claim_token: Mapped[str | None] = mapped_column(String(32))
    messages_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # issue 14: "briefing" (a daily slot) or "alert" (slot = the batch's time); only
    # briefing rows settle the daily schedule
    kind: Mapped[str] = mapped_column(String(16), default="briefing", server_default="briefing")

    def __repr__(self) -> str:
        return f"Delivery(chat_id={self.chat_id!r}, slot={self.slot!r}, status={self.status!r})"


class AlertQueue(Base):
    """A story waiting to go to a chat as an alert (instant follow) or as its backlog."""

    __tablename__ = "alert_queue"

    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(Integer)  # the article that matched
    reason: Mapped[str] = mapped_column(String(16), default="alert")  # alert|backlog
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"AlertQueue({self.chat_id!r}, {self.story_id!r}, {self.reason!r})"


class AlertCursor(Base):
    """How far alert matching has read the articles table (ids grow with ingest)."""

    __tablename__ = "alert_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_article_id: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"AlertCursor({self.name!r}, {self.last_article_id!r})"


class JobRun(Base):
    """The scheduler's heartbeat: when each scheduled job last started and finished."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    every_seconds: Mapped[int] = mapped_column(Integer)  # how often it should run
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)  # of the last run; None = it succeeded
    runs: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"JobRun({self.job!r}, started_at={self.started_at!r})"


class IngestClaim(Base):
    """A source document (by content hash) an ingest worker is deriving, until its lease ends."""

    __tablename__ = "ingest_claims"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    worker: Mapped[str] = mapped_column(String(96))  # host:pid:token of the holder
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime())  # renewed while it works
