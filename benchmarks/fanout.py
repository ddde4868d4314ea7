"""Fan-out benchmark: deliver one briefing slot to many subscribers through the fake Bot API.

The fake server enforces a global flood limit (``--limit`` msg/s, sliding 1 s window, 429 with
``retry_after``); the deliverer paces itself at ``--rate`` (default: the limit itself). Prints
sustained messages/s, duplicates, lost subscribers, 429s received and peak memory.

    .venv/bin/python benchmarks/fanout.py                      # 10,000 subscribers (> 5 min)
    .venv/bin/python benchmarks/fanout.py --subscribers 2000   # about 70 s

Briefings are composed once per topic set (``--topic-sets``) and saved per subscriber, the
way the real composer reuses work; the figures measure delivery, not ranking.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakebot import FakeTelegram  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.delivery import Composed, Deliverer, DeliveryConfig  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.models import Briefing, Chat, Subscription  # noqa: E402
from storage.schema import ensure_schema  # noqa: E402

SLOT = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


class TimedBot:
    """Wraps the Bot to time every accepted message."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.accepted: list[float] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        result = await self.bot.send_message(chat_id, text, **kwargs)
        self.accepted.append(time.monotonic())
        return result


def seed(url: str, subscribers: int, topic_sets: int) -> None:
    engine = make_engine(url)
    ensure_schema(engine, auto_upgrade=True)
    subscribed = SLOT - timedelta(hours=12)
    chats = [
        {"id": 1_000_000 + i, "kind": "private", "active": True, "timezone": "UTC",
         "briefing_time": "08:00", "created_at": subscribed}
        for i in range(subscribers)
    ]  # fmt: skip
    subs = [
        {"chat_id": 1_000_000 + i, "kind": "topic", "key": f"set{i % topic_sets}-{k}",
         "created_at": subscribed}
        for i in range(subscribers)
        for k in range(1 + i % 3)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(Chat), chats)
        connection.execute(insert(Subscription), subs)
    engine.dispose()


def topic_set_composer(topic_sets: int) -> Any:
    cache: dict[int, list[str]] = {}

    def compose(session: Session, chat_id: int, now: datetime) -> Composed:
        key = (chat_id - 1_000_000) % topic_sets
        if key not in cache:
            cache[key] = [
                f"<b>Your briefing</b> — topic set {key}\n\n"
                + "\n\n".join(f"<b>Story {n}</b>: summary … /read_{n}" for n in range(1, 9))
            ]
        messages = cache[key]
        briefing = Briefing(chat_id=chat_id, created_at=now, story_ids=[], messages=messages)
        session.add(briefing)
        session.flush()
        return Composed(briefing.id, messages)

    return compose


async def run(args: argparse.Namespace, url: str, fake: FakeTelegram) -> None:
    sessions = make_session_factory(make_engine(url))
    request = HTTPXRequest(connection_pool_size=64, read_timeout=30, connect_timeout=30)
    rate = args.rate or args.limit
    config = DeliveryConfig(rate=rate, max_inline_wait=30.0)
    async with Bot(fake.token, base_url=fake.base_url, request=request) as bot:
        timed = TimedBot(bot)
        now = SLOT + timedelta(seconds=5)
        started = time.monotonic()
        report = await Deliverer(timed, sessions, topic_set_composer(args.topic_sets), config,
                                 clock=lambda: now).run()  # fmt: skip
        elapsed = time.monotonic() - started
    received = Counter(record["chat_id"] for record in fake.sent())
    duplicates = sum(count - 1 for count in received.values())
    lost = args.subscribers - len(received)
    too_many = sum(1 for r in fake.rejected if r.get("error_code") == 429)
    first, last = timed.accepted[0], timed.accepted[-1]
    sustained = (len(timed.accepted) - 1) / (last - first) if last > first else 0.0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"subscribers            {args.subscribers} over {args.topic_sets} topic sets")
    print(f"fake server limit      {args.limit:g} msg/s (sliding 1 s window, 429 + retry_after)")
    print(f"deliverer pace         {rate:g} msg/s, {config.workers()} workers")
    print(f"messages accepted      {len(timed.accepted)} in {elapsed:.1f} s (incl. planning)")
    print(f"sustained rate         {sustained:.2f} msg/s = {100 * sustained / args.limit:.1f}% "
          "of the limit")  # fmt: skip
    print(f"duplicates             {duplicates}")
    print(f"lost                   {lost}")
    print(f"429s received          {too_many} (deliverer saw {report.retry_after})")
    print(f"sent / failed / lost claims  {report.sent} / {report.failed} / {report.lost_claims}")
    print(f"peak memory (RSS)      {peak_mb:.0f} MB (process incl. the fake server)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--topic-sets", type=int, default=50)
    parser.add_argument("--limit", type=float, default=30.0, help="the fake server's msg/s")
    parser.add_argument("--rate", type=float, default=0.0, help="our pace (default: the limit)")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/fanout.sqlite3"
        seed(url, args.subscribers, args.topic_sets)
        fake = FakeTelegram().start()
        fake.set_rate_limit(args.limit)
        try:
            asyncio.run(run(args, url, fake))
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
