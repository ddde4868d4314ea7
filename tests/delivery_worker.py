"""Delivery test helpers, and a delivery worker process for the crash and replica tests.

Run as a script: ``python tests/delivery_worker.py --db URL --base-url URL --token T --now ISO``
delivers everything due at ``--now`` against the (fake) Bot API and prints its report as JSON;
with ``--alerts`` it sends the queued instant alerts instead (bot/alerts.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.delivery import Composed, Composer, Deliverer, DeliveryConfig
from storage.engine import make_engine, make_session_factory
from storage.models import Briefing, Chat, Subscription
from storage.schema import ensure_schema

SLOT = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # 08:00 UTC: the test slot


def migrated_store(url: str) -> sessionmaker[Session]:
    """Sessions on the store at ``url``, its schema upgraded to the newest revision."""
    engine = make_engine(url)
    ensure_schema(engine, auto_upgrade=True)
    return make_session_factory(engine)


def seed_chats(
    sessions: sessionmaker[Session],
    chat_ids: list[int],
    *,
    briefing_time: str = "08:00",
    timezone: str = "UTC",
    subscribed: datetime = SLOT - timedelta(hours=12),
) -> None:
    """Create subscribed, active chats."""
    with sessions() as session, session.begin():
        for index, chat_id in enumerate(chat_ids):
            kind = "private" if chat_id > 0 else "group"
            chat = Chat(id=chat_id, kind=kind, active=True, created_at=subscribed)
            chat.timezone, chat.briefing_time = timezone, briefing_time
            session.add(chat)
            session.flush()
            key = f"t{index % 5}"
            session.add(Subscription(chat_id=chat_id, kind="topic", key=key, created_at=subscribed))


def text_composer(parts: int = 2) -> Composer:
    """A composer that saves a Briefing row with ``parts`` numbered messages per chat."""

    def compose(session: Session, chat_id: int, now: datetime) -> Composed:
        messages = [f"<b>Briefing</b> for {chat_id}, part {i + 1}/{parts}" for i in range(parts)]
        briefing = Briefing(chat_id=chat_id, created_at=now, story_ids=[], messages=messages)
        session.add(briefing)
        session.flush()
        return Composed(briefing.id, messages)

    return compose


def fixed_clock(at: datetime) -> Callable[[], datetime]:
    """A clock that always says ``at``."""
    return lambda: at


def fast_config(**overrides: object) -> DeliveryConfig:
    """Delivery settings for tests: high rate, no spacing, short waits."""
    values: dict[str, object] = {
        "rate": 500.0, "private_spacing": 0.0, "group_spacing": 0.0, "backoff": 0.01,
        "max_inline_wait": 5.0,
    }  # fmt: skip
    values.update(overrides)
    return DeliveryConfig(**values)  # type: ignore[arg-type]


async def run_worker(args: argparse.Namespace) -> dict[str, object]:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    sessions = make_session_factory(make_engine(args.db))
    bot = Bot(
        args.token,
        base_url=args.base_url,
        request=HTTPXRequest(connection_pool_size=32, read_timeout=20, connect_timeout=20),
    )
    config = fast_config(
        rate=args.rate, lease=timedelta(seconds=args.lease), concurrency=args.workers
    )
    now = datetime.fromisoformat(args.now)
    async with bot:
        if args.alerts:  # the queued instant alerts, as the alerts job sends them
            from bot.alerts import AlertConfig, AlertDeliverer

            deliverer: Deliverer = AlertDeliverer(
                bot, sessions, config, AlertConfig(per_hour=100), clock=fixed_clock(now)
            )
        else:
            deliverer = Deliverer(
                bot, sessions, text_composer(args.parts), config, clock=fixed_clock(now)
            )
        report = await deliverer.run()
    return asdict(report)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--lease", type=float, default=300.0)
    parser.add_argument("--parts", type=int, default=2)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--alerts", action="store_true", help="send queued alerts instead")
    report = asyncio.run(run_worker(parser.parse_args()))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
