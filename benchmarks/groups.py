"""Groups and channels: long briefings under Telegram's 20-messages-a-minute limit per chat.

Delivers one long briefing (``--parts`` messages) to each of a few groups, channels and forum
threads at once, through the real deliverer and its send gate, against the fake Bot API,
which enforces the per-group limit (20 in any 60 s, 429 with ``retry_after``). Prints, per
chat, the messages accepted, the most accepted in any 60 s, the 429s received and the time
taken; with the default spacing there are no 429s and at most 19 messages in any minute.

    .venv/bin/python benchmarks/groups.py                 # 25 parts: about 80 s
    .venv/bin/python benchmarks/groups.py --spacing 2.5   # too tight: the fake says 429
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakebot import FakeTelegram  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.delivery import Composed, Deliverer, DeliveryConfig  # noqa: E402
from bot.sendgate import GROUP_SPACING  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402
from storage.models import Briefing, Chat, Subscription  # noqa: E402
from storage.schema import ensure_schema  # noqa: E402

SLOT = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
GROUP, CHANNEL, FORUM = -4001, -1005001, -1005002


class TimedBot:
    """Wraps the Bot to time every accepted message, per chat."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.accepted: dict[int, list[float]] = defaultdict(list)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> Any:
        result = await self.bot.send_message(chat_id, text, **kwargs)
        self.accepted[chat_id].append(time.monotonic())
        return result


def most_in_a_minute(times: list[float]) -> int:
    return max((sum(1 for t in times if s <= t < s + 60.0) for s in times), default=0)


async def run(args: argparse.Namespace) -> None:
    fake = FakeTelegram().start()
    fake.add_channel(CHANNEL, "bench")
    fake.make_forum(FORUM)
    threads = [fake.create_topic(FORUM), fake.create_topic(FORUM)]
    chats = [GROUP, CHANNEL, FORUM]
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.sqlite3")
        ensure_schema(engine, auto_upgrade=True)
        sessions = make_session_factory(engine)
        with sessions() as session, session.begin():
            for chat_id in chats:
                session.add(Chat(id=chat_id, kind="group", timezone="UTC", briefing_time="08:00",
                                 created_at=SLOT - timedelta(days=1)))  # fmt: skip
                session.flush()
                session.add(Subscription(chat_id=chat_id, kind="topic", key="ai",
                                         created_at=SLOT - timedelta(days=1)))  # fmt: skip

        def compose(session: Session, chat_id: int, now: datetime) -> Composed:
            messages = [f"<b>Part {i + 1}</b> of the briefing" for i in range(args.parts)]
            split = [threads[i % 2] for i in range(args.parts)] if chat_id == FORUM else None
            briefing = Briefing(chat_id=chat_id, created_at=now, story_ids=[],
                                messages=messages, threads=split)  # fmt: skip
            session.add(briefing)
            session.flush()
            return Composed(briefing.id, messages, split)

        config = DeliveryConfig(rate=30.0, group_spacing=args.spacing, max_inline_wait=90.0,
                                lease=timedelta(seconds=600))  # fmt: skip
        async with Bot(fake.token, base_url=fake.base_url,
                       request=HTTPXRequest(connection_pool_size=8)) as bot:  # fmt: skip
            timed = TimedBot(bot)
            start = time.monotonic()
            report = await Deliverer(
                timed, sessions, compose, config, clock=lambda: SLOT + timedelta(seconds=30)
            ).run()  # type: ignore[arg-type]
            elapsed = time.monotonic() - start
        engine.dispose()
    rejected = defaultdict(int)
    for entry in fake.rejected:
        rejected[int(entry["params"].get("chat_id", 0))] += entry["error_code"] == 429
    fake.stop()
    print(f"spacing {args.spacing:.2f} s, {args.parts} messages per chat, fake limit 20/60 s")
    for chat_id in chats:
        times = timed.accepted[chat_id]
        print(f"chat {chat_id}: accepted {len(times)}, most in any 60 s {most_in_a_minute(times)}"
              f", 429s {rejected[chat_id]}")  # fmt: skip
    print(f"sent {report.sent}/{len(chats)} briefings, deferred {report.deferred}, "
          f"failed {report.failed}, 429s {report.retry_after}, {elapsed:.1f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=25)
    parser.add_argument("--spacing", type=float, default=GROUP_SPACING)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
