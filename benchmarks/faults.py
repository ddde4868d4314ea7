"""Fault benchmark: `briefbot run` processes deliver one briefing slot while faults are injected.

Each fault gets a fresh store holding the ingested seeds and N subscribers (every topic, their
briefing due two minutes ago, subscribed a day ago), then real `briefbot run` processes
(``python -m bot run``, configured only by the documented environment variables) serve the
fake Bot API from ``tests/fakebot`` over HTTP. The fake enforces Telegram's flood limit
(30 msg/s, 429 + ``retry_after``). Faults:

    none     baseline
    kill     SIGKILL at a random point of the fan-out, then a restart
    replica  a poller and a delivery replica (``run --deliver-only``) on one PostgreSQL store
    429      every send answers ``429 retry_after=3`` for 10 s mid-fan-out
    500      every send answers 500 for 20 s mid-fan-out
    slow     10 sends held 25 s (longer than the 20 s send timeout); they still take effect
    403      every 20th chat has blocked the bot (those chats are expected to get nothing)

Per fault it prints: delivered (chats that got their whole briefing), lost (got nothing),
duplicated messages, partial briefings, time to complete, and the most messages Telegram
accepted in any 1 s window against ``SEND_RATE_PER_SECOND``.

    .venv/bin/python benchmarks/faults.py --quick                 # 200 subscribers, all faults
    .venv/bin/python benchmarks/faults.py --faults none,500       # 2,000 subscribers

The delivery job runs at start-up and then every 60 s (``DELIVER_EVERY``, not configurable),
so a fault whose recovery needs a later run (kill, 500, slow) takes a minute or two longer.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from botrun import (  # benchmarks/botrun.py (puts the project and tests/ on sys.path)
    DONE,
    FIRST_CHAT,
    Fleet,
    add_subscribers,
    bot_env,
    ingest,
    postgres_schema,
    statuses,
    write_news,
)
from fakebot import FakeTelegram

from storage import deliveries
from storage.engine import make_engine
from storage.models import Briefing, Delivery

FAULTS = ("none", "kill", "replica", "429", "500", "slow", "403")
FLOOD_LIMIT = 30.0  # Telegram's documented global limit, enforced by the fake
LEASE_SECONDS = 30  # DELIVERY_LEASE_SECONDS: a killed process's claims are resumed this soon


@dataclass
class Result:
    """What one fault run measured."""

    fault: str
    subscribers: int
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    partial: int = 0
    blocked: int = 0
    empty: int = 0
    messages: int = 0
    too_many: int = 0
    seconds: float = 0.0
    max_per_second: int = 0
    rate: float = 25.0
    finished: bool = False
    statuses: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _accepted(fake: FakeTelegram) -> list[tuple[float, int, str]]:
    """(time, chat, text) of every sendMessage Telegram accepted for a subscriber."""
    return [
        (r["time"], int(r["params"]["chat_id"]), str(r["params"]["text"]))
        for r in fake.calls("sendMessage")
        if r["status"] == 200 and int(r["params"]["chat_id"]) >= FIRST_CHAT
    ]


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open interval of ``window`` seconds."""
    ordered, best, start = sorted(times), 0, 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _inject(fault: str, fake: FakeTelegram, fleet: Fleet) -> str:
    """Inject the mid-fan-out fault; returns a note on what was done."""
    if fault == "kill":
        victim = fleet.procs[-1]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        fleet.start()
        return "SIGKILL, restarted"
    if fault == "429":
        params = {"retry_after": 3}
        fake.fail_for("sendMessage", 10.0, 429, "Too Many Requests: retry after 3", params)
        return "429 retry_after=3 for 10 s"
    if fault == "500":
        fake.fail_for("sendMessage", 20.0, 500, "Internal Server Error")
        return "500s for 20 s"
    if fault == "slow":
        fake.hold("sendMessage", 25.0, times=10)
        return "10 sends held 25 s (policy bound: at most 10 duplicates)"
    return ""


def run_fault(
    fault: str, subscribers: int, *, rate: float = 25.0, timeout: float = 900.0, seed: int = 0,
    news: Path | None = None, template: Path | None = None,
) -> Result:  # fmt: skip
    """Deliver one slot to ``subscribers`` chats under ``fault``; return what was measured.

    ``template``: a SQLite store already holding the ingested news (copied, not re-ingested).
    """
    rng = random.Random(f"{seed}-{fault}")
    result = Result(fault, subscribers, rate=rate)
    with tempfile.TemporaryDirectory(prefix=f"faults-{fault}-") as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        (tmp / "inbox").mkdir()
        (tmp / "seeds").mkdir()
        (tmp / "logs").mkdir()
        if fault == "replica":
            url = stack.enter_context(postgres_schema("faults"))
        else:
            url = f"sqlite:///{tmp / 'store.sqlite3'}"
        fake = FakeTelegram().start()
        fake.set_rate_limit(FLOOD_LIMIT)
        env = bot_env(
            fake, url, tmp,
            SEND_RATE_PER_SECOND=f"{rate:g}", DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
        )  # fmt: skip
        fleet = Fleet(env, tmp / "logs")
        engine = make_engine(url)
        try:
            if template is not None and fault != "replica":
                shutil.copy(template, tmp / "store.sqlite3")
            else:
                ingest(env, news)
            chats = add_subscribers(url, subscribers)
            blocked = set(chats[::20]) if fault == "403" else set()
            for chat in blocked:
                fake.block(chat)
            started = time.monotonic()
            fleet.start()
            if fault == "replica":  # they share SEND_RATE_PER_SECOND (bot/replica.py)
                fleet.start("--deliver-only")
            trigger = int(subscribers * rng.uniform(0.2, 0.7))
            injected = fault in ("none", "replica", "403")
            deadline = started + timeout
            while time.monotonic() < deadline:
                time.sleep(0.25)
                if not injected and len({c for _, c, _ in _accepted(fake)}) >= trigger:
                    result.notes.append(f"{_inject(fault, fake, fleet)} after {trigger} chats")
                    injected = True
                rows = statuses(engine)
                if injected and sum(rows[s] for s in DONE) >= subscribers:
                    result.finished = True
                    break
            time.sleep(2.0)  # let answers in flight land
            refused = [p for p in fleet.procs if p.poll() == 2]  # e.g. the one-poller lock
            if refused:
                result.notes.append(f"{len(refused)} process(es) refused to start (exit 2)")
            fleet.stop()
            _measure(result, fake, engine, chats, blocked, started)
            result.notes.append(f"{fleet.tracebacks()} tracebacks in the logs")
        finally:
            fleet.stop()
            engine.dispose()
            fake.stop()
            if os.environ.get("FAULTS_KEEP_LOGS"):
                shutil.copytree(tmp / "logs", Path(os.environ["FAULTS_KEEP_LOGS"]) / fault)
    return result


def _measure(
    result: Result, fake: FakeTelegram, engine: sa.Engine, chats: list[int],
    blocked: set[int], started: float,
) -> None:  # fmt: skip
    accepted = _accepted(fake)
    received: dict[int, Counter[str]] = {}
    for _, chat, text in accepted:
        received.setdefault(chat, Counter())[text] += 1
    with engine.connect() as connection:
        status = {
            int(chat): str(state)
            for chat, state in connection.execute(sa.select(Delivery.chat_id, Delivery.status))
        }
        expected = {
            int(chat): list(messages)
            for chat, messages in connection.execute(
                sa.select(Delivery.chat_id, Briefing.messages).join(
                    Briefing, Briefing.id == Delivery.briefing_id
                )
            )
        }
    result.statuses = dict(statuses(engine))
    result.empty = result.statuses.get(deliveries.EMPTY, 0)
    for chat in chats:
        got = received.get(chat, Counter())
        result.duplicated += sum(n - 1 for n in got.values())
        if chat in blocked:
            result.blocked += 1
            continue
        want = expected.get(chat)
        if not got:
            result.lost += status.get(chat) != deliveries.EMPTY  # nothing new is not lost
        elif want is not None and all(got[m] for m in want):
            result.delivered += 1
        else:
            result.partial += 1
    times = [at for at, _, _ in accepted]
    result.messages = len(times)
    result.too_many = sum(1 for r in fake.rejected if r.get("error_code") == 429)
    if times:
        wall_start = time.time() - (time.monotonic() - started)
        result.seconds = max(times) - wall_start
    result.max_per_second = max_in_window(times)


def report(result: Result) -> str:
    """The printed block for one fault."""
    expected = result.subscribers - result.blocked - result.empty
    lines = [
        f"fault {result.fault:<8} subscribers {result.subscribers}"
        + ("" if result.finished else "   ** NOT FINISHED before the timeout **"),
        f"  delivered        {result.delivered} / {expected} chats got their whole briefing",
        f"  lost             {result.lost}",
        f"  duplicated       {result.duplicated} messages",
        f"  partial          {result.partial} briefings",
        f"  blocked (403)    {result.blocked}" if result.blocked else "",
        f"  messages         {result.messages} accepted by the Bot API",
        f"  time to complete {result.seconds:.1f} s (start-up to the last accepted message)",
        f"  max in any 1 s   {result.max_per_second} messages "
        f"(SEND_RATE_PER_SECOND={result.rate:g}); {result.too_many} answered 429",
        f"  delivery rows    {dict(sorted(result.statuses.items()))}",
        *(f"  note             {n}" for n in result.notes),
    ]
    return "\n".join(line for line in lines if line)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=None, help="default 2000 (quick 200)")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma list of {FAULTS}")
    parser.add_argument("--quick", action="store_true", help="200 subscribers")
    parser.add_argument("--rate", type=float, default=25.0, help="SEND_RATE_PER_SECOND")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per fault")
    parser.add_argument("--seed", type=int, default=0, help="random seed (kill/trigger points)")
    parser.add_argument("--articles", type=int, default=150, help="fresh synthetic articles")
    args = parser.parse_args()
    subscribers = args.subscribers or (200 if args.quick else 2000)
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        parser.error(f"unknown faults {unknown}; choose from {', '.join(FAULTS)}")
    with tempfile.TemporaryDirectory(prefix="faults-news-") as tmp_dir:
        tmp = Path(tmp_dir)
        news = write_news(tmp, args.articles) if args.articles else None
        template = tmp / "template.sqlite3"
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{template}", "LOG_LEVEL": "WARNING"}
        ingest(env, news)
        for fault in faults:
            result = run_fault(
                fault, subscribers, rate=args.rate, timeout=args.timeout, seed=args.seed,
                news=news, template=template,
            )  # fmt: skip
            print(report(result), flush=True)


if __name__ == "__main__":
    main()
