"""Alert services: match new articles against instant follows, queue backlogs, build entries.

Jobs and handlers call these with a session they opened; nothing here sends or renders.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from briefings import subscriptions as subs
from briefings.alerts.index import FollowIndex, follow_tokens
from briefings.digest.briefing import BriefingEntry, Subscriber
from briefings.digest.composer import Composer
from briefings.subscriptions import FollowQuery
from briefings.topics.taxonomy import Taxonomy
from storage import alerts, chats, queries
from storage.matching import articles_holding, term_postings
from storage.search import query_terms

BACKLOG_STORIES = 3  # stories a new subscription gets at once
BACKLOG_WINDOW = timedelta(hours=24)  # "today": what a new subscriber missed
POSTING_LIMIT = 256  # a term in more new articles is checked on candidates instead


@dataclass(frozen=True)
class MatchReport:
    """What one matching run did."""

    articles: int = 0  # new articles read (the cursor's advance)
    follows: int = 0  # instant follows indexed
    terms: int = 0  # distinct terms looked up
    matched: int = 0  # (follow, article) pairs found
    queued: int = 0  # (chat, story) alerts queued
    seconds: float = 0.0  # wall clock
    cpu_seconds: float = 0.0  # this process's CPU time (SQLite's work included; not PostgreSQL's)


def match_new_articles(session: Session, now: datetime) -> MatchReport:
    """Queue alerts for the articles ingested since the last run (any ingest path).

    Reads the cursor (locked until the caller commits), looks each distinct instant-follow
    term up once in the full-text index over the new articles only, meets the postings
    in a :class:`FollowIndex` and queues each matched (chat, story) not sent before.
    Ingest writes one document at a time under the ingest lock, so every article id at or
    below the newest committed one is committed: the cursor never skips an article.

    Args:
        session: the caller's transaction (commit it to keep the queue and the cursor).
        now: the run's time (``queued_at``).
    """
    started, cpu = time.perf_counter(), time.process_time()
    after = alerts.cursor(session, now)
    newest = alerts.newest_article_id(session)
    if newest <= after:
        return MatchReport()
    follows = alerts.instant_follows(session)
    index = FollowIndex()
    owner: dict[int, int] = {}
    for follow in follows:
        terms = follow_tokens(follow.key, query_terms)
        if terms is not None:
            index.add(follow.subscription_id, terms)
            owner[follow.subscription_id] = follow.chat_id
    wanted = index.terms()
    window = {"after_id": after, "up_to": newest}
    postings = term_postings(session, wanted, limit=POSTING_LIMIT, **window) if wanted else {}
    truncated = {term for term, ids in postings.items() if len(ids) > POSTING_LIMIT}
    full = index.needs_full(truncated)
    if full:  # a follow of common words only: its matches are many anyway
        postings.update(term_postings(session, full, **window))
        truncated -= full
    matches = index.match(
        postings,
        truncated,
        lambda term, anchors: articles_holding(session, term, anchors, **window),
    )
    stories = alerts.article_stories(session, {a for ids in matches.values() for a in ids})
    items = [
        (owner[follow_id], stories[article_id], article_id)
        for follow_id, article_ids in matches.items()
        for article_id in sorted(article_ids)
        if article_id in stories
    ]
    queued = alerts.enqueue(session, items, alerts.ALERT, now)
    alerts.advance(session, newest, now)
    return MatchReport(
        articles=newest - after,
        follows=len(index),
        terms=len(wanted),
        matched=sum(len(ids) for ids in matches.values()),
        queued=queued,
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
    )


def queue_backlog(
    session: Session,
    taxonomy: Taxonomy,
    chat_id: int,
    *,
    topics: Sequence[str] = (),
    follows: Sequence[str] = (),
    now: datetime,
    limit: int = BACKLOG_STORIES,
) -> int:
    """Queue the best few stories of today for a chat's new subscriptions (its backlog).

    Ranked as the daily briefing ranks them, leaving out stories the chat was already
    sent; once sent they are recorded like any briefing's stories, so they do not repeat.

    Args:
        session: the caller's transaction (the one that added the subscriptions).
        taxonomy: the loaded taxonomy.
        chat_id: the chat.
        topics: the new topic slugs.
        follows: the new follow keys.
        now: the current time.
        limit: at most this many stories.

    Returns how many stories were queued.
    """
    if not topics and not follows:
        return 0
    subscriber = Subscriber(chat_id, topics=tuple(topics), follows=tuple(follows))
    composer = Composer(session, taxonomy, now, max_stories=limit)
    composed = composer.compose(subscriber, now - BACKLOG_WINDOW)
    items = [
        (chat_id, entry.story_id, entry.article_id)
        for _, entries in composed.sections
        for entry in entries
    ]
    return alerts.enqueue(session, items, alerts.BACKLOG, now)


def alert_entries(session: Session, queued: Sequence[tuple[int, int]]) -> list[BriefingEntry]:
    """Entries for (story id, article id) pairs, in the given order: the matching article
    is shown, the story's other outlets and reports beside it.

    Args:
        session: an open session.
        queued: (story id, the article that matched).
    """
    story_ids = [story for story, _ in queued]
    articles = queries.articles_by_ids(session, [article for _, article in queued])
    reports = queries.story_articles(session, story_ids)
    out: list[BriefingEntry] = []
    for story_id, article_id in queued:
        article = articles.get(article_id)
        if article is None:  # re-derived away since it matched: show nothing rather than fail
            continue
        story = reports.get(story_id, [(article_id, article.source)])
        outlets = dict.fromkeys(source for _, source in story if source)
        out.append(
            BriefingEntry(
                story_id=story_id,
                article_id=article_id,
                title=article.title,
                outlet=article.source,
                also_in=tuple(name for name in outlets if name != article.source),
                summary=tuple(article.summary or ())[:2],
                sort_time=article.sort_time,
                reports=max(len(story), 1),
                other_reports=tuple((a, s) for a, s in story if a != article_id),
            )
        )
    return out


def story_entries(session: Session, story_ids: Sequence[int]) -> list[BriefingEntry]:
    """Entries for stories, each shown by its newest article (an alert's "more" list).

    Args:
        session: an open session.
        story_ids: the stories, in display order.
    """
    reports = queries.story_articles(session, story_ids)
    pairs = [(sid, reports[sid][-1][0]) for sid in story_ids if reports.get(sid)]
    return alert_entries(session, pairs)


@dataclass(frozen=True)
class FollowMode:
    """A follow and how it is delivered."""

    subscription_id: int
    key: str
    instant: bool


def follow_modes(session: Session, chat_id: int) -> list[FollowMode]:
    """The chat's keyword follows with their delivery (daily or instant), oldest first."""
    return [
        FollowMode(sub.id, sub.key, sub.delivery == alerts.INSTANT)
        for sub in chats.subscriptions(session, chat_id, chats.FOLLOW)
    ]


def set_instant(
    session: Session, chat_id: int, subscription_id: int, instant: bool, now: datetime
) -> bool:
    """Make one of the chat's follows instant (alerts) or daily; False when it is gone.

    Args:
        session: the caller's transaction.
        chat_id: the chat.
        subscription_id: the follow.
        instant: True for alerts, False for the daily briefing.
        now: the current time (starts the matching cursor on the first instant follow).
    """
    if instant:
        alerts.cursor(session, now)  # alerts are for news after this, never the archive
    return alerts.set_delivery(
        session, chat_id, subscription_id, alerts.INSTANT if instant else alerts.DAILY
    )


def follow_instantly(
    session: Session, chat_id: int, text: str, now: datetime
) -> tuple[FollowQuery, bool]:
    """Follow keywords with instant alerts (a new follow, or an existing one switched).

    Args:
        session: the caller's transaction; the chat row must exist.
        chat_id: the chat.
        text: keywords with optional ``-word`` exclusions (as for /follow).
        now: the current time.

    Returns the follow and whether it is new.

    Raises:
        InvalidSetting: as :func:`briefings.subscriptions.follow`.
    """
    query, new = subs.follow(session, chat_id, text)
    for mode in follow_modes(session, chat_id):
        if mode.key == query.key:
            set_instant(session, chat_id, mode.subscription_id, True, now)
    return query, new
