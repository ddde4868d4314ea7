"""Briefing composition at scale: many subscribers over few topic sets, one large store.

Usage::

    .venv/bin/python benchmarks/compose.py [--articles 100000] [--subscribers 10000]
        [--topic-sets 50] [--db /tmp/briefbot_bench/compose.sqlite3] [--rebuild]

Builds (once; cached under /tmp) a SQLite store of synthetic articles recombined from the
real texts in ``../shared/eval`` and ``seeds/``, spread over 60 days (~1,700 a day), with
topics from the taxonomy's keywords, stories of 1–4 outlets, and subscribers who each got
yesterday's briefing (so today's window starts there and sent stories are checked).
It is built with bulk inserts, not the ingest pipeline. Then it times composing every
subscriber's briefing in one run (loading subscriptions, ranking, picking, rendering the
HTML messages) and prints the figures. Target: 10,000 subscribers over 50 topic sets in
≤ 2 s on one core against 100,000 articles.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bot.render import briefing_messages, entry_html  # noqa: E402
from briefings.digest.composer import Composer, load_subscribers  # noqa: E402
from briefings.topics.taxonomy import Taxonomy, load_taxonomy  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.models import (  # noqa: E402
    Article,
    ArticleTopic,
    Briefing,
    BriefingStory,
    Chat,
    SourceDocument,
    Story,
    Subscription,
)
from storage.schema import ensure_schema  # noqa: E402

EVAL = ROOT.parent / "shared" / "eval"
END = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
DAYS = 60
OUTLETS = ("BBC News", "CNN", "Reuters", "AP", "The Guardian", "FT", "Al Jazeera", "NPR")
FOLLOWS = ("election", "oil prices", "football -transfer", "film festival", "bank", "china")
VERSION = 2  # bump when the store's recipe changes
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def _bases() -> list[tuple[str, list[str]]]:
    """(title, sentences) of the real articles to recombine."""
    bases: list[tuple[str, list[str]]] = []
    bbc = EVAL / "topics" / "bbc_dev.jsonl"
    for line in bbc.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        bases.append((row["title"], _SENTENCE.split(" ".join(row["text"].split()))))
    cnn = EVAL / "summaries" / "cnndm_dev.jsonl"
    for line in cnn.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        title = row["highlights"].split("\n", 1)[0].strip().rstrip(".")
        text = re.sub(r"^\(CNN\)\s*", "", row["article"])
        bases.append((title, _SENTENCE.split(" ".join(text.split()))))
    for path in sorted((ROOT / "seeds").iterdir()):
        lines = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        long = [x for x in lines if len(x) > 120]
        if long:
            bases.append((lines[1][:140], _SENTENCE.split(" ".join(long))))
    return [(t, s) for t, s in bases if t and len(s) >= 3]


def build(path: Path, articles: int, subscribers: int, topic_sets: int, taxonomy: Taxonomy) -> None:
    """Write the synthetic store to ``path`` with bulk inserts."""
    rng = random.Random(5)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    ensure_schema(engine, auto_upgrade=True)
    bases = _bases()
    classified = [taxonomy.classify(t, " ".join(s[:12])) for t, s in bases]
    print(f"building {articles:,} articles from {len(bases):,} real ones into {path} …")
    started = time.perf_counter()
    span = DAYS * 24 * 3600
    with engine.begin() as conn:
        story_rows, article_rows, topic_rows = [], [], []
        recent: list[tuple[int, int, datetime, str]] = []  # (story, base, time, title)
        story_id = 0
        for i in range(articles):
            doc = i // 1000 + 1
            if i % 1000 == 0:
                conn.execute(
                    insert(SourceDocument),
                    [{"content_hash": f"{doc:064x}", "path": f"bench/{doc}.jsonl",
                      "status": "ingested", "article_count": 1000}],
                )  # fmt: skip
            when = END - timedelta(seconds=int(span * (1 - (i + rng.random()) / articles)))
            if recent and rng.random() < 0.12:  # another outlet's report of a recent story
                sid, b, first, title = rng.choice(recent)
                when = max(when, first + timedelta(minutes=rng.randint(5, 300)))
            else:
                story_id += 1
                sid, b = story_id, rng.randrange(len(bases))
                title = f"{bases[b][0]} ({i})"
                story_rows.append({"id": sid, "created_at": when})
                recent.append((sid, b, when, title))
                if len(recent) > 300:
                    recent.pop(0)
            sentences = bases[b][1]
            other = bases[rng.randrange(len(bases))][1]
            body = " ".join(sentences[:8] + other[:4])
            article_rows.append(
                {"id": i + 1, "uid": f"b{i:09d}", "document_id": doc, "story_id": sid,
                 "position": i % 1000, "title": title, "source": rng.choice(OUTLETS),
                 "published": when, "body": body, "summary": sentences[:2], "keyphrases": [],
                 "language": "en", "content_hash": f"{i:064x}", "created_at": when,
                 "sort_time": when}
            )  # fmt: skip
            for slug, score in classified[b]:
                jitter = min(1.0, max(0.0, score + rng.uniform(-0.1, 0.1)))
                topic_rows.append({"article_id": i + 1, "topic_slug": slug, "score": jitter})
            if len(article_rows) >= 5000:
                conn.execute(insert(Story), story_rows)
                conn.execute(insert(Article), article_rows)
                conn.execute(insert(ArticleTopic), topic_rows)
                story_rows, article_rows, topic_rows = [], [], []
        if article_rows:
            conn.execute(insert(Story), story_rows)
            conn.execute(insert(Article), article_rows)
            conn.execute(insert(ArticleTopic), topic_rows)
        _add_subscribers(conn, rng, subscribers, topic_sets, taxonomy)
    engine.dispose()
    print(f"built in {time.perf_counter() - started:.0f} s")


def _add_subscribers(
    conn: object, rng: random.Random, subscribers: int, topic_sets: int, taxonomy: Taxonomy
) -> None:
    slugs = list(taxonomy.slugs)
    sets: list[tuple[str, ...]] = []
    while len(sets) < topic_sets:
        chosen = tuple(sorted(rng.sample(slugs, rng.randint(1, 4))))
        if chosen not in sets:
            sets.append(chosen)
    yesterday = END - timedelta(hours=24)
    sent = list(
        conn.execute(  # type: ignore[attr-defined]
            select(Article.story_id)
            .where(Article.sort_time >= yesterday - timedelta(hours=24))
            .where(Article.sort_time < yesterday)
            .distinct()
        ).scalars()
    )
    chats, subs, briefings, stories = [], [], [], []
    for n in range(subscribers):
        chat_id = 10_000 + n
        chats.append({"id": chat_id, "kind": "private", "active": True, "timezone": "UTC"})
        for slug in sets[n % topic_sets]:
            subs.append({"chat_id": chat_id, "kind": "topic", "key": slug})
        if n % 10 == 0:
            subs.append({"chat_id": chat_id, "kind": "follow", "key": FOLLOWS[n % len(FOLLOWS)]})
        picked = rng.sample(sent, 10)
        briefings.append(
            {"id": n + 1, "chat_id": chat_id, "created_at": yesterday, "story_ids": picked,
             "messages": []}
        )  # fmt: skip
        stories += [{"chat_id": chat_id, "story_id": s, "briefing_id": n + 1} for s in picked]
    for table, rows in ((Chat, chats), (Subscription, subs), (Briefing, briefings)):
        conn.execute(insert(table), rows)  # type: ignore[attr-defined]
    conn.execute(insert(BriefingStory), stories)  # type: ignore[attr-defined]


def main() -> int:
    """Build the store if needed, then time one composition run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--topic-sets", type=int, default=50)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    taxonomy = load_taxonomy(use_model=False)  # keywords only: fast to build, same labels
    name = f"compose_v{VERSION}_{args.articles}_{args.subscribers}_{args.topic_sets}.sqlite3"
    path = args.db or Path("/tmp/briefbot_bench") / name
    if args.rebuild or not path.exists():
        build(path, args.articles, args.subscribers, args.topic_sets, taxonomy)
    sessions = make_session_factory(make_engine(f"sqlite:///{path}"))
    now = END
    timings = []
    for _ in range(3):
        entry_html.cache_clear()  # each run renders from scratch
        with sessions() as session:
            started = time.perf_counter()
            chat_ids = list(session.scalars(select(Chat.id).order_by(Chat.id)))
            subscribers = list(load_subscribers(session, chat_ids).values())
            loaded = time.perf_counter()
            composer = Composer(session, taxonomy, now)
            composed = composer.compose_many(subscribers)
            picked = time.perf_counter()
            messages = sum(len(briefing_messages(b)) for b in composed.values())
            done = time.perf_counter()
        timings.append((done - started, loaded - started, picked - loaded, done - picked))
    total, load, pick, render = min(timings)
    stories = [len(b.story_ids) for b in composed.values()]
    sets = {(s.topics, s.follows) for s in subscribers}
    print(
        f"store: {args.articles:,} articles over {DAYS} days; window 24 h holds "
        f"{len(composer._stories):,} stories"
    )
    print(
        f"subscribers: {len(subscribers):,} over {args.topic_sets} topic sets "
        f"({len(sets)} distinct topic+follow sets), each sent yesterday's briefing"
    )
    print(
        f"composed {len(composed):,} briefings ({sum(stories) / len(stories):.1f} stories, "
        f"{messages / len(composed):.1f} messages each; {sum(b.empty for b in composed.values())}"
        f" empty) in {total:.2f} s (best of 3): load subscribers {load:.2f} s, rank+pick+"
        f"render {pick + render:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
