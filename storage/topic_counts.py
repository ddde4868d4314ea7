"""Story-lead counts per topic and hour, kept at write time so /topics reads a few rows.

``topic_counts`` holds, for each (topic, UTC hour), how many story leads (the first
article of each story) tagged with the topic have their sort time in that hour; hours
with none have no row. A window's count is the sum over its whole hours plus the leads
in the part-hour at its start, counted from the articles (at most an hour of them).

Kept correct by recomputing hours from the articles, never by adding and subtracting:
:func:`note_article` records the hour and story of an article that is about to be
inserted, changed or deleted (``storage.documents`` calls it), and before each commit
every hour noted, plus the hours of every article of a story noted (its lead may have
moved), is recounted. A rollback leaves the counts untouched with the rest. A taxonomy
reload changes no article tags, so no counts: readers only show synced topics.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    ScalarSelect,
    and_,
    delete,
    event,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session, aliased

from storage.models import Article, ArticleTopic, Topic, TopicCount

HOUR = 3600
_PENDING = "topic_count_pending"  # session.info key: (hours, story ids) to recount
_PG_LOCK = "SELECT pg_advisory_xact_lock(hashtext('briefbot:topic_counts:' || current_schema()))"


def story_lead_id() -> ScalarSelect[int]:
    """Return a correlated subquery: the lead (first) article id of ``Article``'s story.

    An index on ``(story_id, id)`` makes it one index probe per row.
    """
    inner = aliased(Article)
    return select(func.min(inner.id)).where(inner.story_id == Article.story_id).scalar_subquery()


def is_story_lead() -> ColumnElement[bool]:
    """Return a condition true when ``Article`` is its story's lead (first) article.

    Written ``id <= min(id in story)`` (equivalent, as an article is in its own story) so
    PostgreSQL estimates it like a range, not an equality: most articles are leads, and an
    equality estimate would steer /latest away from walking the time index.
    """
    return Article.id <= story_lead_id()


def hour_of(moment: datetime) -> int:
    """The UTC hour (hours since the Unix epoch) that ``moment`` (aware) falls in."""
    return math.floor(moment.timestamp() / HOUR)


def _hour_start(hour: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=hour)


def _hour_column(dialect: str) -> ColumnElement[int]:
    if dialect == "postgresql":
        return literal_column(
            "CAST(floor(extract(epoch FROM articles.sort_time) / 3600) AS BIGINT)"
        )
    return literal_column("CAST(strftime('%s', articles.sort_time) AS INTEGER) / 3600")


def _recount(bind: Session | Connection, runs: list[tuple[int, int]] | None) -> None:
    """Replace the rows of the hours in the (first, last) ``runs`` (every hour when None),
    in one statement each for clearing and counting however many runs."""
    dialect = bind.dialect if isinstance(bind, Connection) else bind.get_bind().dialect
    hour = _hour_column(dialect.name)
    clear = delete(TopicCount)
    counted = (
        select(ArticleTopic.topic_slug, hour, func.count())
        .join(Article, Article.id == ArticleTopic.article_id)
        .where(is_story_lead())
        .group_by(ArticleTopic.topic_slug, hour)
    )
    if runs is not None:
        clear = clear.where(or_(*(TopicCount.hour.between(first, last) for first, last in runs)))
        counted = counted.where(
            or_(
                *(
                    and_(
                        Article.sort_time >= _hour_start(first),
                        Article.sort_time < _hour_start(last + 1),
                    )
                    for first, last in runs
                )
            )
        )
    bind.execute(clear)
    bind.execute(insert(TopicCount).from_select(["topic_slug", "hour", "leads"], counted))


def rebuild_topic_counts(bind: Session | Connection) -> None:
    """Recount every hour from the articles (after a bulk load, or to repair).

    Args:
        bind: a session or connection in the caller's transaction.
    """
    _recount(bind, None)


def note_article(session: Session, article: Article) -> None:
    """Mark ``article``'s hour and story for recounting before the session commits.

    Call it before an article is changed or deleted (its old hour and story) and after
    it is stored (its new ones).

    Args:
        session: the caller's transaction.
        article: a stored or about-to-be-stored article.
    """
    if not event.contains(session, "before_commit", apply_pending):
        # per session, not global: whoever made the session, its commit recounts.
        # Notes survive a rollback: recounting an unchanged hour is merely wasted work.
        event.listen(session, "before_commit", apply_pending)
    hours, stories = session.info.setdefault(_PENDING, (set(), set()))
    if article.sort_time is not None:
        hours.add(hour_of(article.sort_time))
    if article.story_id is not None:
        stories.add(article.story_id)


def apply_pending(session: Session) -> None:
    """Recount the hours noted in this session (called before every commit).

    Args:
        session: the session about to commit.
    """
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    hours, stories = pending
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # concurrent writers recount one at a time, each after the other's commit (read
        # committed: every statement sees what committed before it): no lost count, and
        # no duplicate-key clash between two inserts of the same hour
        session.execute(text(_PG_LOCK))
    wanted = set(hours)
    story_list = sorted(stories)
    for i in range(0, len(story_list), 500):
        rows = session.scalars(
            select(Article.sort_time).where(Article.story_id.in_(story_list[i : i + 500]))
        )
        wanted.update(hour_of(moment) for moment in rows)
    runs = list(_runs(sorted(wanted)))
    for i in range(0, len(runs), 100):  # a file of articles from many hours: few statements
        _recount(session, runs[i : i + 100])


def _runs(hours: list[int]) -> Iterable[tuple[int, int]]:
    """Group sorted hours into (first, last) runs of consecutive hours."""
    start = previous = None
    for hour in hours:
        if previous is not None and hour == previous + 1:
            previous = hour
            continue
        if start is not None and previous is not None:
            yield start, previous
        start = previous = hour
    if start is not None and previous is not None:
        yield start, previous


def count_leads_live(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> dict[str, int]:
    """Count story leads per topic from the articles themselves, in [since, until).

    The reference the stored counts must always equal; costs O(articles in the window).

    Args:
        session: an open session.
        since: only articles whose sort time is at or after this instant.
        until: only articles whose sort time is before this instant.
    """
    leads = select(Article.id).where(is_story_lead())
    if since:
        # IN (window) makes both engines start from the time index, stats or not
        leads = leads.where(Article.sort_time >= since)
    if until:
        leads = leads.where(Article.sort_time < until)
    query = (
        select(ArticleTopic.topic_slug, func.count())
        .where(ArticleTopic.article_id.in_(leads))
        .group_by(ArticleTopic.topic_slug)
    )
    return {slug: int(count) for slug, count in session.execute(query)}


def stored_counts(session: Session, *, since: datetime | None = None) -> dict[str, int]:
    """Return story leads per topic with sort time at or after ``since`` (or ever).

    Whole hours come from ``topic_counts``; the part-hour at the window's start from
    the articles.

    Args:
        session: an open session.
        since: the window's start; None counts every hour.
    """
    rows = select(TopicCount.topic_slug, TopicCount.leads)
    totals: dict[str, int] = {}
    if since is not None:
        first = math.ceil(since.timestamp() / HOUR)
        # ORDER BY keeps the window a subquery that reads the (hour, topic, leads) index:
        # grouped directly, SQLite (no statistics) walks the whole primary key instead
        rows = rows.where(TopicCount.hour >= first).order_by(TopicCount.hour)
        if _hour_start(first) > since:
            totals = count_leads_live(session, since=since, until=_hour_start(first))
    window = rows.subquery()
    query = select(window.c.topic_slug, func.sum(window.c.leads)).group_by(window.c.topic_slug)
    for slug, leads in session.execute(query):
        totals[slug] = totals.get(slug, 0) + int(leads)
    return {slug: count for slug, count in totals.items() if count}


def topics_with_counts(session: Session) -> set[str]:
    """Return the synced topics that have at least one story lead (a probe each).

    Args:
        session: an open session.
    """
    counted = select(TopicCount.hour).where(TopicCount.topic_slug == Topic.slug).exists()
    return set(session.scalars(select(Topic.slug).where(counted)))
