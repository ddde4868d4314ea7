"""Instant-alert benchmark: match many follows against one big ingest, then send the alerts.

Builds a store with ``--follows`` instant follows (one per chat) and then ``--articles`` new
articles in one go (as one ingest would leave them: rows, stories and full-text index), then:

1. times one matching run (``briefings.alerts.service.match_new_articles``: term lookups
   over the new articles only, the inverted index, queueing) — target ≤ 2 s on one core;
2. sends the queued alerts of ``--deliver`` chats through the production AlertDeliverer
   against the fake Bot API, whose global flood limit is ``--limit`` msg/s and which is also
   our configured ``SEND_RATE_PER_SECOND``; prints the sustained rate as a share of it
   (target ≥ 95%) and the duplicates (target 0).

    .venv/bin/python benchmarks/alerts.py                  # 10,000 follows, 50,000 articles
    .venv/bin/python benchmarks/alerts.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakebot import FakeTelegram  # noqa: E402
from fanout import TimedBot  # noqa: E402  (benchmarks/fanout.py: times accepted messages)
from telegram import Bot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.alerts import AlertConfig, AlertDeliverer  # noqa: E402
from bot.delivery import DeliveryConfig  # noqa: E402
from briefings.alerts.service import match_new_articles  # noqa: E402
from storage import alerts  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.models import (  # noqa: E402
    AlertQueue,
    Article,
    Chat,
    SourceDocument,
    Story,
    Subscription,
)
from storage.schema import ensure_schema  # noqa: E402

FIRST_CHAT = 2_000_000
CONSONANTS, VOWELS = "bcdfghjklmnprstvz", "aeiou"


def word(n: int) -> str:
    """A distinct pronounceable pseudo-word for ``n`` (syllables never make an English suffix)."""
    out = []
    while True:
        n, c = divmod(n, len(CONSONANTS))
        n, v = divmod(n, len(VOWELS))
        out.append(CONSONANTS[c] + VOWELS[v])
        if n == 0:
            return "".join(out) + "x"
        n -= 1


def seed(url: str, args: argparse.Namespace) -> None:
    """Chats with one instant follow each, then one big batch of new articles."""
    rng = random.Random(14)
    engine = make_engine(url)
    ensure_schema(engine, auto_upgrade=True)
    sessions = make_session_factory(engine)
    common = [word(n) for n in range(args.common)]
    entities = [word(args.common + n) for n in range(args.entities)]
    weights = [1.0 / (rank + 1) for rank in range(len(common))]
    now = datetime.now(UTC)
    chats, follows = [], []
    for i in range(args.follows):
        shape = rng.random()
        if shape < 0.5:  # a name
            key = rng.choice(entities)
        elif shape < 0.8:  # a name in a context
            key = f"{rng.choice(entities)} {rng.choice(common[:200])}"
        elif shape < 0.9:  # two names
            key = f"{rng.choice(entities)} {rng.choice(entities)}"
        else:  # a name, not in one context
            key = f"{rng.choice(entities)} -{rng.choice(common[:50])}"
        chats.append({"id": FIRST_CHAT + i, "kind": "private", "active": True, "created_at": now})
        follows.append({"chat_id": FIRST_CHAT + i, "kind": "follow", "key": key,
                        "delivery": "instant", "created_at": now})  # fmt: skip
    with sessions() as session, session.begin():
        session.execute(insert(Chat), chats)
        session.execute(insert(Subscription), follows)
        alerts.cursor(session, now)  # the first instant follow starts the cursor
    started = time.perf_counter()
    with sessions() as session, session.begin():
        document = SourceDocument(content_hash="0" * 64, path="bench.jsonl", status="ingested")
        session.add(document)
        session.flush()
        session.execute(insert(Story), [{"created_at": now}] * args.articles)
        first_story = session.scalar(select(Story.id).order_by(Story.id)) or 1
        rows = []
        for n in range(args.articles):
            names = rng.sample(entities, 3)
            body = rng.choices(common, weights, k=args.words) + names
            rng.shuffle(body)
            title = " ".join([names[0].title(), *rng.choices(common[:300], k=5)])
            rows.append({
                "uid": f"a{n}", "document_id": document.id, "story_id": first_story + n,
                "position": n, "title": title, "body": " ".join(body) + ".", "source": "Wire",
                "summary": [f"{title}."], "keyphrases": [], "content_hash": f"h{n:063d}",
                "created_at": now, "sort_time": now - timedelta(minutes=n % 600),
            })  # fmt: skip
            if len(rows) == 5000:
                session.execute(insert(Article), rows)
                rows = []
        if rows:
            session.execute(insert(Article), rows)
    print(f"seeded                 {args.follows} instant follows, {args.articles} new articles "
          f"({args.words} words each) in {time.perf_counter() - started:.1f} s")  # fmt: skip
    engine.dispose()


async def deliver(args: argparse.Namespace, url: str, fake: FakeTelegram) -> None:
    sessions = make_session_factory(make_engine(url))
    with sessions() as session:
        queued = sorted(set(session.scalars(select(AlertQueue.chat_id))))
    chosen = queued[: args.deliver]
    request = HTTPXRequest(connection_pool_size=64, read_timeout=30, connect_timeout=30)
    config = DeliveryConfig(rate=args.limit, max_inline_wait=30.0)  # SEND_RATE_PER_SECOND
    async with Bot(fake.token, base_url=fake.base_url, request=request) as bot:
        timed = TimedBot(bot)
        started, cpu = time.monotonic(), time.process_time()
        report = await AlertDeliverer(
            timed, sessions, config, AlertConfig(per_hour=6, batch=5), chat_ids=chosen
        ).run()
        elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    received = Counter(record["chat_id"] for record in fake.sent())
    duplicates = sum(count - 1 for count in received.values())
    lost = len(chosen) - len(received)
    first, last = timed.accepted[0], timed.accepted[-1]
    sustained = (len(timed.accepted) - 1) / (last - first) if last > first else 0.0
    too_many = sum(1 for r in fake.rejected if r.get("error_code") == 429)
    print(f"chats with alerts      {len(queued)}; delivering to {len(chosen)}")
    print(f"configured rate        {args.limit:g} msg/s (the fake server's limit too)")
    print(f"messages accepted      {len(timed.accepted)} in {elapsed:.1f} s (incl. planning)")
    print(f"alerts sent rate       {sustained:.2f} msg/s = {100 * sustained / args.limit:.1f}% "
          "of the configured rate")  # fmt: skip
    per = 1000 * cpu / max(1, len(timed.accepted))
    print(f"delivery CPU           {cpu:.1f} s = {per:.1f} ms per alert, fake server included "
          f"(the configured rate needs {per * args.limit / 10:.0f}% of one core; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")  # fmt: skip
    print(f"duplicates             {duplicates}")
    print(f"lost                   {lost}")
    print(f"429s received          {too_many} (deliverer saw {report.retry_after})")
    print(f"sent / failed / empty  {report.sent} / {report.failed} / {report.empty}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--follows", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--words", type=int, default=150, help="body words per article")
    parser.add_argument("--common", type=int, default=3000, help="common-word vocabulary")
    parser.add_argument("--entities", type=int, default=30_000, help="name vocabulary")
    parser.add_argument("--deliver", type=int, default=1500, help="chats whose alerts are sent")
    parser.add_argument("--limit", type=float, default=30.0, help="msg/s: fake limit = our rate")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/alerts.sqlite3"
        seed(url, args)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with sessions() as session, session.begin():
            report = match_new_articles(session, datetime.now(UTC))
        engine.dispose()
        print(f"matching time          {report.seconds:.2f} s wall, {report.cpu_seconds:.2f} s CPU "
              f"(one core; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores) "
              f"for {report.follows} follows over {report.articles} new articles "
              f"({report.terms} distinct terms)")  # fmt: skip
        print(f"matches                {report.matched} (follow, article) pairs; "
              f"{report.queued} (chat, story) alerts queued")  # fmt: skip
        fake = FakeTelegram().start()
        fake.set_rate_limit(args.limit)
        try:
            asyncio.run(deliver(args, url, fake))
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
