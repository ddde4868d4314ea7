"""Service functions the bot and CLI call: data in, plain view objects out (no Telegram)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from briefings.digest.briefing import local_zone
from briefings.errors import BadQuery
from briefings.text.words import SEARCH_STOP_WORDS
from briefings.topics.taxonomy import Taxonomy, Topic
from storage import queries
from storage.errors import NotFound
from storage.models import Article
from storage.search import SearchFilters, search_articles

PAGE_SIZE = 5


@dataclass(frozen=True)
class ArticleView:
    """What a chat shows of an article; ``snippet`` carries search highlight markers."""

    id: int
    story_id: int | None
    title: str
    source: str | None
    byline: str | None
    published: datetime | None
    sort_time: datetime
    summary: list[str]
    topics: list[str]
    also_in: list[str]
    body: str = ""
    snippet: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of articles; ``has_next`` tells whether another page exists."""

    items: list[ArticleView]
    page: int
    has_next: bool


def _views(
    session: Session, articles: list[Article], *, snippets: dict[int, str] | None = None
) -> list[ArticleView]:
    outlets = queries.story_outlets(session, (a.story_id for a in articles if a.story_id))
    views = []
    for article in articles:
        others = [
            name for name in outlets.get(article.story_id or -1, []) if name != article.source
        ]
        views.append(
            ArticleView(
                id=article.id,
                story_id=article.story_id,
                title=article.title,
                source=article.source,
                byline=article.byline,
                published=article.published,
                sort_time=article.sort_time,
                summary=list(article.summary or []),
                topics=[t.topic_slug for t in sorted(article.topics, key=lambda t: -t.score)],
                also_in=others,
                snippet=(snippets or {}).get(article.id, ""),
                url=article.url or None,
            )
        )
    return views


def latest(
    session: Session, *, topic: str | None = None, page: int = 0, size: int = PAGE_SIZE
) -> Page:
    """Return a page of the newest stories (one lead article each), optionally in a topic.

    Args:
        session: an open session.
        topic: topic slug or None.
        page: zero-based page number.
        size: stories per page.
    """
    rows = queries.latest_articles(session, topic=topic, limit=size + 1, offset=page * size)
    return Page(_views(session, rows[:size]), page, len(rows) > size)


@dataclass(frozen=True)
class SearchRequest:
    """A parsed search: free text plus filters (``topic:``, ``source:``, ``since:``)."""

    text: str
    filters: SearchFilters


_FILTER = re.compile(r"(?<!\S)(topic|source|since):(\"[^\"]*\"|\S*)", re.IGNORECASE)
_SINCE = re.compile(r"^(\d{1,4})([hdw])$", re.IGNORECASE)
SINCE_FORMS = "since:today, since:yesterday, since:12h, since:3d, since:1w or since:2026-11-30"


def parse_search(
    text: str,
    *,
    now: datetime | None = None,
    taxonomy: Taxonomy | None = None,
    timezone: str = "UTC",
) -> SearchRequest:
    """Split user search text into words and filters.

    Args:
        text: what the user typed after ``/search``.
        now: the current time, for ``since:2d``.
        taxonomy: when given, ``topic:`` must name one of its topics (slug or label).
        timezone: the zone whose midnight starts ``since:today``.

    Raises:
        BadQuery: a filter without a value, an unknown topic or an unreadable ``since:``.
    """
    topic = source = None
    since = None
    for match in _FILTER.finditer(text):
        key, value = match.group(1).lower(), match.group(2).strip('"').strip()
        if not value:
            raise BadQuery(f"{key}: needs a value, e.g. {_EXAMPLES[key]}.")
        if key == "topic":
            topic = _topic_slug(value, taxonomy)
        elif key == "source":
            source = value
        else:
            since = parse_since(value, now or datetime.now(UTC), timezone)
            if since is None:
                raise BadQuery(f"I can't read since:{value[:40]}. Use {SINCE_FORMS}.")
    rest = _FILTER.sub(" ", text)
    return SearchRequest(" ".join(rest.split()), SearchFilters(topic, source, since))


_EXAMPLES = {"topic": "topic:ai", "source": "source:reuters", "since": "since:2d"}


def _topic_slug(value: str, taxonomy: Taxonomy | None) -> str:
    if taxonomy is None:
        return value.lower()
    topic = find_topic(taxonomy, value.replace("_", " "))
    if topic is None:
        raise BadQuery(f"I don't know the topic “{value[:60]}”; try /topics.")
    return topic.slug


def parse_since(value: str, now: datetime, timezone: str = "UTC") -> datetime | None:
    """Parse "today", "yesterday", "12h", "2d", "1w" or an ISO date into an instant.

    Args:
        value: the text after ``since:``.
        now: the current time (aware).
        timezone: the zone whose midnight starts "today" and dates without a zone.

    Returns:
        The instant, or None when the text is none of these forms.
    """
    zone = local_zone(timezone)
    word = value.casefold()
    if word in ("today", "yesterday"):
        midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - timedelta(days=1 if word == "yesterday" else 0)
    match = _SINCE.match(value)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        hours = {"h": 1, "d": 24, "w": 24 * 7}[unit] * amount
        return now - timedelta(hours=hours)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def search(
    session: Session,
    text: str,
    *,
    page: int = 0,
    size: int = PAGE_SIZE,
    taxonomy: Taxonomy | None = None,
    timezone: str = "UTC",
) -> Page:
    """Return a page of ranked search results with highlighted snippets.

    Args:
        session: an open session.
        text: raw user text, filters included; anything is safe.
        page: zero-based page number.
        size: results per page.
        taxonomy: when given, ``topic:`` filters are checked against it.
        timezone: the zone of ``since:today`` and of dates.

    Raises:
        BadQuery: unusable filters, no words to search for, or (when nothing is found)
            a ``source:`` that no outlet's name contains.
    """
    request = parse_search(text, taxonomy=taxonomy, timezone=timezone)
    if not request.text.strip():
        raise BadQuery("Add the words to search for, e.g. /search chips topic:ai.")
    hits = search_articles(
        session,
        request.text,
        filters=request.filters,
        limit=size + 1,
        offset=page * size,
        stop_words=SEARCH_STOP_WORDS,
    )
    source = request.filters.source
    if not hits and page == 0 and source and not queries.outlet_exists(session, source):
        raise BadQuery(f"No outlet's name contains “{source[:60]}”.")
    articles = queries.articles_by_ids(session, (hit.article_id for hit in hits[:size]))
    ordered = [articles[hit.article_id] for hit in hits[:size] if hit.article_id in articles]
    snippets = {hit.article_id: hit.snippet for hit in hits}
    return Page(_views(session, ordered, snippets=snippets), page, len(hits) > size)


def read_article(session: Session, article_id: int) -> ArticleView:
    """Return one article with its full body.

    Raises:
        NotFound: no article has this id.
    """
    article = queries.article(session, article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    view = _views(session, [article])[0]
    return ArticleView(**{**view.__dict__, "body": article.body})


@dataclass(frozen=True)
class TopicCount:
    """A topic with its story counts today and this week."""

    slug: str
    label: str
    today: int
    week: int


@dataclass(frozen=True)
class TopicsOverview:
    """Topics that have stories, plus trending terms."""

    topics: list[TopicCount]
    trending: list[tuple[str, int]]


def topics_overview(
    session: Session, taxonomy: Taxonomy, *, now: datetime | None = None
) -> TopicsOverview:
    """Return topics with today's and this week's story counts, and trending terms.

    Args:
        session: an open session.
        taxonomy: the loaded taxonomy (labels, order).
        now: the current time.
    """
    now = now or datetime.now(UTC)
    today = queries.topic_counts(session, since=now - timedelta(days=1))
    week = queries.topic_counts(session, since=now - timedelta(days=7))
    present = queries.topics_with_leads(session)  # all-time counts would cost O(archive)
    rows = [
        TopicCount(topic.slug, topic.label, today.get(topic.slug, 0), week.get(topic.slug, 0))
        for topic in taxonomy.topics
        if topic.slug in present
    ]
    rows.sort(key=lambda row: (-row.today, -row.week, row.label))
    trending = [(t.term, t.stories) for t in queries.trending_terms(session)]
    return TopicsOverview(rows, trending)


def find_topic(taxonomy: Taxonomy, text: str) -> Topic | None:
    """Find a topic by slug or label, case-insensitively ("AI", "climate", "Climate & Energy")."""
    key = " ".join(text.casefold().split())
    for topic in taxonomy.topics:
        if key in (topic.slug, topic.label.casefold(), topic.slug.replace("-", " ")):
            return topic
    return None
