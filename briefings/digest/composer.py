"""Daily briefings as data: compose a chat's briefing, or many chats' in one run.

A subscriber is a chat's topic subscriptions, keyword follows and time zone; its window
runs from its previous briefing (default: the last 24 hours). The :class:`Composer` loads
the window's stories once and caches the ranking per (topic set, window), the matches per
keyword follow and the picks per (topics, follows, window) of subscribers with nothing
already sent, so composing for many subscribers costs per distinct topic set, not per
subscriber. Ranking: topic score × recency (half-life one day) × number of outlets;
picking is greedy with a penalty per story already picked in the same section (diversity
across topics); a story is never picked twice, nor when the chat was sent it.

Entry points (the bot and the scheduler use them): :func:`compose_briefing`,
:func:`compose_many` (or one ``Composer`` per run). They return data; ``bot.render``
renders it and ``bot.digest`` stores it. All reads go through :mod:`storage.briefings`,
:mod:`storage.queries` and :mod:`storage.matching`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from briefings.digest.briefing import (
    BriefingEntry,
    ComposedBriefing,
    Subscriber,
    and_list,
    follow_terms,
    load_subscribers,
    since_phrase,
)
from briefings.topics.taxonomy import Taxonomy
from storage import briefings as stored
from storage import queries
from storage.matching import matching_article_ids

__all__ = [
    "MAX_STORIES",
    "BriefingEntry",
    "ComposedBriefing",
    "Composer",
    "Subscriber",
    "compose_briefing",
    "compose_many",
    "load_subscribers",
]

DEFAULT_WINDOW = timedelta(hours=24)
MAX_WINDOW = timedelta(days=7)
MAX_STORIES = 10
DIVERSITY = 0.55  # each story already picked in a section multiplies the next one's score
HALF_LIFE_HOURS = 24.0
UNTAGGED = "other"
UNTAGGED_SCORE = 0.3
FOLLOW_SCORE = 0.9  # a keyword follow counts like a strong topic match


@dataclass
class _Story:
    """A story as the window's articles show it."""

    lead_id: int
    lead_quality: tuple[int, int, int]
    newest: datetime
    outlets: set[str] = field(default_factory=set)
    topics: dict[str, float] = field(default_factory=dict)


# ranked candidates per section: section key -> [(score, story id)], best first
_Ranking = dict[str, list[tuple[float, int]]]


class Composer:
    """Composes briefings for one run, sharing work between subscribers.

    Args:
        session: an open session (read-only use).
        taxonomy: topic labels and order.
        now: the run's time.
        max_stories: stories per briefing.
    """

    def __init__(
        self, session: Session, taxonomy: Taxonomy, now: datetime, *, max_stories: int = MAX_STORIES
    ) -> None:
        self.session = session
        self.taxonomy = taxonomy
        self.now = now
        self.max_stories = max_stories
        self._order = {slug: i for i, slug in enumerate(taxonomy.slugs)}
        self._loaded: datetime | None = None
        self._stories: dict[int, _Story] = {}
        self._article_story: dict[int, int] = {}
        self._first_id = 0
        self._rankings: dict[tuple[tuple[str, ...], datetime], _Ranking] = {}
        self._follows: dict[tuple[str, datetime], list[tuple[float, int]]] = {}
        self._entries: dict[int, BriefingEntry] = {}
        self._picks: dict[tuple[tuple[str, ...], tuple[str, ...], datetime], list[tuple[str, int]]]
        self._picks = {}
        self._labels: dict[str, str] = {}
        self._made: dict[tuple[object, ...], ComposedBriefing] = {}

    def window(self, subscriber: Subscriber, since: datetime | None = None) -> datetime:
        """Start of a subscriber's window: ``since``, else its previous briefing, else 24 h."""
        start = since or subscriber.last_briefing or self.now - DEFAULT_WINDOW
        return max(start, self.now - MAX_WINDOW)

    def compose(
        self, subscriber: Subscriber, since: datetime | None = None, *, exclude_sent: bool = True
    ) -> ComposedBriefing:
        """Compose one subscriber's briefing (stories it was already sent are left out).

        Args:
            subscriber: whom for.
            since: window start; None = since its previous briefing (or 24 h).
            exclude_sent: see :meth:`compose_many`.
        """
        chosen = self.compose_many([subscriber], since=since, exclude_sent=exclude_sent)
        return chosen[subscriber.chat_id]

    def compose_many(
        self,
        subscribers: Sequence[Subscriber],
        since: datetime | None = None,
        *,
        exclude_sent: bool = True,
    ) -> dict[int, ComposedBriefing]:
        """Compose briefings for many subscribers; returns them by chat id.

        Args:
            subscribers: whom for (chat ids must be distinct).
            since: one window start for all; None = each one's own window.
            exclude_sent: leave out stories an earlier briefing sent to the chat (a
                preview that is not stored may include them).
        """
        windows = {s.chat_id: self.window(s, since) for s in subscribers}
        if not windows:
            return {}
        self._load(min(windows.values()))
        sent: dict[int, set[int]] = {}
        if exclude_sent:
            sent = self._sent([s.chat_id for s in subscribers])
        picks = {
            s.chat_id: self._pick(s, windows[s.chat_id], sent.get(s.chat_id)) for s in subscribers
        }
        self._load_entries({sid for chosen in picks.values() for _, sid in chosen})
        return {
            s.chat_id: self._briefing(s, windows[s.chat_id], picks[s.chat_id]) for s in subscribers
        }

    # --- loading -------------------------------------------------------------------
    def _load(self, since: datetime) -> None:
        """Load (once, or again for an earlier start) the stories with articles since then."""
        if self._loaded is not None and self._loaded <= since:
            return
        self._stories, self._article_story = {}, {}
        self._rankings.clear()
        self._follows.clear()
        self._picks.clear()
        rows = stored.window_rows(self.session, since)
        for article_id, story_id, when, source, length, slug, score in rows:
            self._article_story[article_id] = story_id
            # best article: has an outlet, a substantial text, then the earliest
            quality = (int(bool(source)), min(int(length or 0), 2000) // 200, -article_id)
            story = self._stories.get(story_id)
            if story is None:
                story = self._stories[story_id] = _Story(article_id, quality, when)
            elif quality > story.lead_quality:
                story.lead_id, story.lead_quality = article_id, quality
            story.newest = max(story.newest, when)
            if source:
                story.outlets.add(source)
            if slug is not None and score is not None and score > story.topics.get(slug, 0.0):
                story.topics[slug] = float(score)
        self._first_id = min(self._article_story, default=0)
        self._loaded = since

    def _sent(self, chat_ids: list[int]) -> dict[int, set[int]]:
        """Stories of the loaded window each chat was already sent."""
        if not self._stories:
            return {}
        # the exact filter is the set of window stories
        sent: dict[int, set[int]] = {}
        for chat_id, story_id in stored.sent_stories(
            self.session, chat_ids, min_story_id=min(self._stories)
        ):
            if story_id in self._stories:
                sent.setdefault(chat_id, set()).add(story_id)
        return sent

    def _load_entries(self, story_ids: set[int]) -> None:
        missing = [sid for sid in story_ids if sid not in self._entries]
        if not missing:
            return
        leads = {self._stories[sid].lead_id: sid for sid in missing}
        articles = queries.articles_by_ids(self.session, leads)
        reports = queries.story_articles(self.session, missing)
        for article_id, article in articles.items():
            sid = leads[article_id]
            story = reports.get(sid, [])
            outlets = dict.fromkeys(source for _, source in story if source)
            others = [name for name in outlets if name != article.source]
            self._entries[sid] = BriefingEntry(
                story_id=sid,
                article_id=article_id,
                title=article.title,
                outlet=article.source,
                also_in=tuple(others),
                summary=tuple(article.summary or ())[:3],
                sort_time=self._stories[sid].newest,
                reports=max(len(story), 1),
                other_reports=tuple((aid, source) for aid, source in story if aid != article_id),
            )

    # --- ranking -------------------------------------------------------------------
    def _weight(self, story: _Story) -> float:
        age = max((self.now - story.newest).total_seconds() / 3600.0, 0.0)
        recency = 0.5 ** (age / HALF_LIFE_HOURS)
        return (0.4 + 0.6 * recency) * (1.0 + 0.35 * math.log(max(len(story.outlets), 1)))

    def _ranking(self, topics: tuple[str, ...], since: datetime) -> _Ranking:
        """Candidates per section for a topic set (all topics when empty), best first."""
        key = (topics, since)
        cached = self._rankings.get(key)
        if cached is not None:
            return cached
        ranking: _Ranking = {}
        order = self._order
        for story_id, story in self._stories.items():
            if story.newest < since:
                continue
            pool = (
                story.topics
                if not topics
                else {t: story.topics[t] for t in topics if t in story.topics}
            )
            if pool:
                section = min(pool, key=lambda t: (-pool[t], order.get(t, 1 << 20), t))
                score = pool[section]
            elif topics:
                continue
            else:
                section, score = UNTAGGED, UNTAGGED_SCORE
            ranking.setdefault(section, []).append((score * self._weight(story), story_id))
        for candidates in ranking.values():
            candidates.sort(key=lambda c: (-c[0], -c[1]))
        self._rankings[key] = ranking
        return ranking

    def _follow(self, query: str, since: datetime) -> list[tuple[float, int]]:
        """Stories matching a keyword follow in the window, via the full-text index."""
        key = (query, since)
        cached = self._follows.get(key)
        if cached is not None:
            return cached
        include, exclude = follow_terms(query)
        stories, first = self._article_story, self._first_id

        def matched(words: str) -> set[int]:
            ids = matching_article_ids(self.session, words, min_id=first)
            return {stories[a] for a in ids if a in stories}

        found = matched(include) - {sid for word in exclude for sid in matched(word)}
        out = [
            (FOLLOW_SCORE * self._weight(self._stories[sid]), sid)
            for sid in found
            if self._stories[sid].newest >= since
        ]
        out.sort(key=lambda c: (-c[0], -c[1]))
        self._follows[key] = out
        return out

    def _pick(
        self, subscriber: Subscriber, since: datetime, sent: set[int] | None
    ) -> list[tuple[str, int]]:
        """Greedy pick with a diversity penalty; returns (section, story id) in pick order."""
        cache_key = (subscriber.topics, subscriber.follows, since)
        if not sent and cache_key in self._picks:
            return self._picks[cache_key]
        sections: _Ranking = {}
        if subscriber.topics or not subscriber.follows:  # only follows: no topic stories
            sections.update(self._ranking(subscriber.topics, since))
        for query in subscriber.follows:
            sections["follow:" + query] = self._follow(query, since)
        skip = set(sent or ())
        heads = {name: 0 for name in sections}
        counts = {name: 0 for name in sections}
        chosen: list[tuple[str, int]] = []
        while len(chosen) < self.max_stories:
            best: tuple[float, str] | None = None
            for name, candidates in sections.items():
                i = heads[name]
                while i < len(candidates) and candidates[i][1] in skip:
                    i += 1
                heads[name] = i
                if i < len(candidates):
                    score = candidates[i][0] * DIVERSITY ** counts[name]
                    if best is None or score > best[0]:
                        best = (score, name)
            if best is None:
                break
            name = best[1]
            story_id = sections[name][heads[name]][1]
            chosen.append((name, story_id))
            skip.add(story_id)
            counts[name] += 1
        if not sent:
            self._picks[cache_key] = chosen
        return chosen

    # --- output --------------------------------------------------------------------
    def _label(self, section: str) -> str:
        label = self._labels.get(section)
        if label is None:
            topic = self.taxonomy.get(section)
            if section.startswith("follow:"):
                label = f"“{follow_terms(section[7:])[0]}”"
            else:
                label = "Other news" if section == UNTAGGED else topic.label if topic else section
            self._labels[section] = label
        return label

    def _briefing(
        self, subscriber: Subscriber, since: datetime, chosen: list[tuple[str, int]]
    ) -> ComposedBriefing:
        """The briefing of a pick; equal picks for equal settings share one composition."""
        key = (tuple(chosen), since, subscriber.timezone, subscriber.topics, subscriber.follows)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = self._make(subscriber, since, chosen)
        sections = [(label, list(entries)) for label, entries in made.sections]
        return replace(
            made, sections=sections, story_ids=list(made.story_ids),
            section_keys=list(made.section_keys),
        )  # fmt: skip

    def _make(
        self, subscriber: Subscriber, since: datetime, chosen: list[tuple[str, int]]
    ) -> ComposedBriefing:
        grouped: dict[str, list[BriefingEntry]] = {}
        for section, story_id in chosen:
            entry = self._entries.get(story_id)
            if entry is not None:
                grouped.setdefault(section, []).append(entry)
        sections = [(self._label(name), entries) for name, entries in grouped.items()]
        story_ids = [entry.story_id for _, entries in sections for entry in entries]
        when = since_phrase(since, self.now, subscriber.timezone)
        hint = (
            ""
            if subscriber.personal
            else "Subscribe to topics with /subscribe for a briefing of your own."
        )
        if not story_ids:
            labels = [self._label(t) for t in subscriber.topics] + [
                self._label("follow:" + q) for q in subscriber.follows
            ]
            where = f" in {and_list(labels)}" if labels else ""
            opening = f"Nothing new{where} {when} — I'll have more for you next time."
            hint = " ".join(filter(None, ["/latest shows the newest stories.", hint]))
            return ComposedBriefing(
                opening, [], [], True, since, hint, subscriptions=subscriber.subscriptions
            )
        count = len(story_ids)
        noun = "story" if count == 1 else "stories"
        opening = f"{count} {noun} in {and_list([label for label, _ in sections])} {when}"
        return ComposedBriefing(
            opening, sections, story_ids, False, since, hint,
            subscriptions=subscriber.subscriptions, section_keys=list(grouped),
        )  # fmt: skip


def compose_briefing(
    session: Session,
    *,
    chat_id: int,
    taxonomy: Taxonomy,
    now: datetime,
    since: datetime | None = None,
    max_stories: int = MAX_STORIES,
    default_timezone: str = "UTC",
) -> ComposedBriefing:
    """Compose a chat's briefing from its subscriptions (all topics if it has none).

    Args:
        session: an open session.
        chat_id: the chat.
        taxonomy: the loaded taxonomy.
        now: the current time (aware).
        since: window start; None = since the chat's previous briefing, else 24 hours.
        max_stories: most stories in the briefing.
        default_timezone: zone used when the chat set none.
    """
    subscriber = load_subscribers(session, [chat_id], default_timezone=default_timezone)[chat_id]
    return Composer(session, taxonomy, now, max_stories=max_stories).compose(subscriber, since)


def compose_many(
    session: Session,
    chat_ids: Iterable[int],
    *,
    taxonomy: Taxonomy,
    now: datetime,
    max_stories: int = MAX_STORIES,
    default_timezone: str = "UTC",
) -> dict[int, ComposedBriefing]:
    """Compose briefings for many chats at once (cost grows with distinct topic sets).

    Args:
        session: an open session.
        chat_ids: the chats.
        taxonomy: the loaded taxonomy.
        now: the current time (aware).
        max_stories: most stories per briefing.
        default_timezone: zone used when a chat set none.
    """
    subscribers = load_subscribers(session, chat_ids, default_timezone=default_timezone)
    composer = Composer(session, taxonomy, now, max_stories=max_stories)
    return composer.compose_many(list(subscribers.values()))
