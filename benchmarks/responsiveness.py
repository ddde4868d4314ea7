"""Responsiveness benchmark: reply latency of /search, /latest, /brief while `briefbot run` works.

A real `briefbot run` subprocess (``python -m bot run``, configured only by its documented
environment variables) serves the fake Bot API from ``tests/fakebot`` over HTTP; the fake
enforces Telegram's 30 msg/s flood limit. N simulated users (default 50, chats seeded with
every topic, their own briefing hours away) each send ``--requests-per-user`` commands per
phase, rotating /search <query>, /latest [topic], /brief, one at a time: after a reply they
wait until their chat has been quiet for a moment (a /brief can be several messages), read
for ``--think`` seconds (0.5-1.5 times it, default 10; 0.3 with --quick) and send the next.
With a short think time 50 users alone fill SEND_RATE_PER_SECOND (every reply and "typing"
goes through the bot's one send gate), so the idle figures then measure that queue. Phases:

    idle            no load (a first process, stopped before the next phase)
    during fan-out  a second process starts with S subscribers (default 10,000, every topic,
                    seeded in the store) whose briefing was due two minutes ago
    during ingest   a dump of fresh synthetic articles (benchmarks/corpus.py) is dropped
                    into INBOX_DIR (INBOX_INTERVAL_SECONDS=1); the phase lasts while the
                    inbox job runs: users send at least ``--requests-per-user`` commands
                    and go on until the ingest is done, deriving and storing alike (the
                    fan-out usually still runs too: it is said so)

Latency = from the moment the user's update is queued for getUpdates to the moment the first
sendMessage to that user's chat reaches the fake API (a 429 answer does not count: the
accepted resend does). Prints p50/p95/max per command and phase, and the issue 12 target.

    .venv/bin/python benchmarks/responsiveness.py --quick
    .venv/bin/python benchmarks/responsiveness.py                     # 50 users, 10,000 subscribers
    .venv/bin/python benchmarks/responsiveness.py --engine postgresql
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from botrun import (  # benchmarks/botrun.py (puts the project and tests/ on sys.path)
    FIRST_CHAT,
    Fleet,
    Watcher,
    add_subscribers,
    bot_env,
    drop_dump,
    ingest,
    postgres_schema,
    statuses,
    write_news,
)
from corpus import search_queries
from fakebot import FakeTelegram

from briefings.topics.taxonomy import load_taxonomy
from storage.engine import make_engine
from storage.models import SourceDocument

FIRST_USER = 500_000
FLOOD_LIMIT = 30.0  # Telegram's documented global limit, enforced by the fake
TARGET_MS = 300.0
REPLY_TIMEOUT = 60.0  # seconds without a reply: counted as "no reply", the user stops
QUIET = {"search": 0.4, "latest": 0.4, "brief": 1.5}  # chat quiet this long = reply complete
COMMANDS = ("search", "latest", "brief")
WHOLE_INGEST = 10_000  # requests per user in the ingest phase: on until the ingest is done


class TimedFake(FakeTelegram):
    """The fake Bot API, stamping each accepted sendMessage as it reaches the server."""

    def __init__(self, users: list[int]) -> None:
        super().__init__()
        self.arrivals: dict[int, list[float]] = {chat: [] for chat in users}
        self.fanout: list[float] = []  # accepted sends to seeded subscribers
        self.polls = 0
        self.too_many = 0
        self.arrived = threading.Condition()

    def call(self, method: str, params: Any) -> tuple[int, Any]:
        reached, key = time.monotonic(), method.lower()
        self.polls += key == "getupdates"  # counted as the long poll starts
        status, body = super().call(method, params)
        if key == "sendmessage":
            self.too_many += status == 429
            chat = int(params.raw.get("chat_id") or 0)
            if status == 200 and chat >= FIRST_CHAT:
                self.fanout.append(reached)
            elif status == 200 and chat in self.arrivals:
                with self.arrived:
                    self.arrivals[chat].append(reached)
                    self.arrived.notify_all()
        return status, body

    def reply_after(self, chat: int, seen: int, timeout: float) -> float | None:
        """When message number ``seen`` (0-based) reached ``chat``; None after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.arrivals[chat]) <= seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.arrived.wait(left)
            return self.arrivals[chat][seen]

    def settle(self, chat: int, quiet: float, cap: float = 30.0) -> None:
        """Wait until ``chat`` got nothing for ``quiet`` seconds (at most ``cap``)."""
        end = time.monotonic() + cap
        with self.arrived:
            while (now := time.monotonic()) < end:
                idle = now - self.arrivals[chat][-1]
                if idle >= quiet:
                    return
                self.arrived.wait(min(quiet - idle, end - now))


@dataclass
class Phase:
    """The requests of one load phase and what the load did meanwhile."""

    name: str
    think: float  # mean seconds a user reads before the next command
    samples: dict[str, list[float]] = field(default_factory=lambda: {c: [] for c in COMMANDS})
    no_reply: dict[str, int] = field(default_factory=lambda: {c: 0 for c in COMMANDS})
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    stamps: list[tuple[float, float]] = field(default_factory=list)  # (sent at, ms) per reply


def _user(
    fake: TimedFake, chat: int, index: int, requests: int, queries: list[str], slugs: list[str],
    phase: Phase, going: Callable[[], bool], lock: threading.Lock,
) -> None:  # fmt: skip
    rng = random.Random(f"{chat}-{phase.name}")
    time.sleep(rng.uniform(0, phase.think))  # users arrive spread over one think time
    for n in range(requests):
        if n and not going():  # the first request is always sent: a phase is never empty
            return
        command = COMMANDS[(index + n) % len(COMMANDS)]
        args = ""
        if command == "search":
            args = rng.choice(queries)
        elif command == "latest" and rng.random() < 0.5:
            args = rng.choice(slugs)
        seen = len(fake.arrivals[chat])
        queued = time.monotonic()
        fake.send_command(chat, command, args)
        reached = fake.reply_after(chat, seen, REPLY_TIMEOUT)
        with lock:
            if reached is None:
                phase.no_reply[command] += 1
            else:
                phase.samples[command].append((reached - queued) * 1000.0)
                phase.stamps.append((queued, (reached - queued) * 1000.0))
        if reached is None:
            return  # a late reply would be taken for the next one's
        fake.settle(chat, QUIET[command])
        time.sleep(rng.uniform(0.5, 1.5) * phase.think)


@functools.cache
def _queries() -> list[str]:
    return search_queries(100)


def run_users(
    fake: TimedFake, users: list[int], requests: int, phase: Phase,
    going: Callable[[], bool] = lambda: True,
) -> None:  # fmt: skip
    """Every user sends ``requests`` commands (at least one; fewer if ``going()`` turns false)."""
    queries = _queries()
    slugs = [topic.slug for topic in load_taxonomy().topics]
    lock = threading.Lock()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=_user,
            args=(fake, chat, i, requests, queries, slugs, phase, going, lock),
            daemon=True,
        )
        for i, chat in enumerate(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - started


def wait_polling(fake: TimedFake, proc: Any, timeout: float = 60.0) -> None:
    """Wait until the new process long-polls getUpdates (it is serving)."""
    polls, deadline = fake.polls, time.monotonic() + timeout
    while fake.polls <= polls:
        if proc.poll() is not None:
            raise SystemExit(f"briefbot run exited with {proc.returncode} at start-up")
        if time.monotonic() > deadline:
            raise SystemExit("briefbot run did not poll getUpdates within 60 s")
        time.sleep(0.05)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def table(phase: Phase) -> str:
    """The printed block of one phase."""
    total = sum(len(v) for v in phase.samples.values()) + sum(phase.no_reply.values())
    lines = [
        f"phase {phase.name:<15} {total} requests in {phase.seconds:.1f} s",
        f"  {'command':<9} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'no reply':>9}",
    ]
    every = [v for values in phase.samples.values() for v in values]
    rows = [(f"/{c}", phase.samples[c], phase.no_reply[c]) for c in COMMANDS]
    for label, values, missing in [*rows, ("all", every, sum(phase.no_reply.values()))]:
        if values:
            figures = (statistics.median(values), percentile(values, 0.95), max(values))
            shown = " ".join(f"{f:>8.0f}" for f in figures)
        else:
            shown = " ".join(f"{'-':>8}" for _ in range(3))
        lines.append(f"  {label:<9} {len(values):>5} {shown} {missing:>9}")
    lines += [f"  load: {note}" for note in phase.notes]
    return "\n".join(lines)


def verdict(phases: list[Phase]) -> str:
    """The issue's target over every command in every phase."""
    worst, where = 0.0, ""
    missing = 0
    for phase in phases:
        for command, values in phase.samples.items():
            missing += phase.no_reply[command]
            if values and percentile(values, 0.95) >= worst:
                worst, where = percentile(values, 0.95), f"/{command} {phase.name}"
    ok = worst <= TARGET_MS and not missing
    extra = f", {missing} requests got no reply" if missing else ""
    return (
        f"target p95 <= {TARGET_MS:.0f} ms for every command in every phase (issue 12): "
        f"{'PASS' if ok else 'FAIL'} (worst p95 {worst:.0f} ms: {where}{extra})"
    )


def watch_store(engine: Any, name: str) -> list[float]:
    """A list that gets the moment the dump's document first shows in the store (its first
    articles are committed: deriving is over, storing has begun)."""
    seen: list[float] = []
    query = sa.select(SourceDocument.id).where(SourceDocument.path.endswith(name))

    def poll() -> None:
        while not seen:
            time.sleep(0.5)
            with contextlib.suppress(sa.exc.OperationalError), engine.connect() as connection:
                if connection.execute(query).first() is not None:
                    seen.append(time.monotonic())

    threading.Thread(target=poll, daemon=True).start()
    return seen


def _split_note(phase: Phase, since: float | None) -> list[str]:
    """The phase's replies while the dump was derived and while it was stored."""
    parts = {"deriving": [ms for at, ms in phase.stamps if since is None or at < since]}
    parts["storing"] = [ms for at, ms in phase.stamps if since is not None and at >= since]
    return [
        f"replies while {name} the dump: {len(values)}"
        + (f", p50 {statistics.median(values):.0f} ms, p95 {percentile(values, 0.95):.0f} ms, "
           f"max {max(values):.0f} ms" if values else "")
        for name, values in parts.items()
    ]  # fmt: skip


def _fanout_note(fake: TimedFake, since: float, watcher: Watcher) -> str:
    sent = sum(1 for at in fake.fanout if at >= since)
    running = "no (finished)" if watcher.fanout_done.is_set() else "yes"
    return f"{sent} briefing messages sent during the phase; fan-out still running: {running}"


def progress(message: str, _start: list[float] = []) -> None:  # noqa: B006 (first call's time)
    """A progress line on stderr (stdout holds only the report)."""
    _start[:] = _start or [time.monotonic()]
    print(f"[{time.monotonic() - _start[0]:6.1f} s] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> list[Phase]:
    """Measure the three phases; returns them."""
    users = list(range(FIRST_USER, FIRST_USER + args.users))
    with tempfile.TemporaryDirectory(prefix="responsiveness-") as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        for sub in ("inbox", "seeds", "logs", "dump"):
            (tmp / sub).mkdir()
        if args.engine == "postgresql":
            url = stack.enter_context(postgres_schema("responsiveness"))
        else:
            url = f"sqlite:///{tmp / 'store.sqlite3'}"
        fake = TimedFake(users).start()
        stack.callback(fake.stop)
        fake.set_rate_limit(FLOOD_LIMIT)
        env = bot_env(
            fake, url, tmp, SEND_RATE_PER_SECOND=f"{args.rate:g}", INBOX_INTERVAL_SECONDS="1"
        )
        ingest(env, write_news(tmp, args.articles))
        progress("store: seeds and fresh news ingested")
        dump = write_news(tmp / "dump", args.dump_articles, seed=1207, name="dump.jsonl")
        later = datetime.now(UTC) + timedelta(hours=12)  # the users' own briefings are not due
        add_subscribers(url, args.users, first=FIRST_USER, due=later)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        fleet = Fleet(env, tmp / "logs")
        stack.callback(fleet.stop)

        progress("users seeded; starting the first process")
        idle = Phase("idle", args.think)
        wait_polling(fake, fleet.start())
        run_users(fake, users, args.requests_per_user, idle)
        fleet.stop()

        progress("idle phase measured")
        add_subscribers(url, args.subscribers)
        watcher = Watcher(engine, args.subscribers)
        progress("subscribers seeded; starting the second process")
        stack.callback(watcher.stop)
        fanout = Phase("during fan-out", args.think)
        wait_polling(fake, fleet.start())
        watcher.start()
        since = time.monotonic()
        going = lambda: not watcher.fanout_done.is_set()  # noqa: E731
        run_users(fake, users, args.requests_per_user, fanout, going)
        fanout.notes.append(_fanout_note(fake, since, watcher))

        progress("fan-out phase measured; dropping the dump")
        ingest_phase = Phase("during ingest", args.think)
        watcher.dropped_at = datetime.now(UTC)
        storing = watch_store(engine, dump.name)
        drop_dump(dump, tmp / "inbox")
        dropped = time.monotonic()
        if not watcher.ingest_started.wait(60):
            ingest_phase.notes.append("the inbox job did not start within 60 s")
        progress("ingest started")
        since = time.monotonic()
        until = since + args.ingest_timeout
        run_users(  # the whole ingest: storing comes after minutes of deriving
            fake, users, max(args.requests_per_user, WHOLE_INGEST), ingest_phase,
            lambda: not watcher.ingest_done.is_set() and time.monotonic() < until,
        )  # fmt: skip
        progress("ingest phase measured")
        if not watcher.ingest_done.is_set():
            watcher.ingest_done.wait(args.ingest_timeout)
        took = time.monotonic() - dropped
        state = f"took {took:.0f} s" if watcher.ingest_done.is_set() else "NOT finished"
        ingest_phase.notes += [
            f"ingest of {args.dump_articles} articles ({dump.name}) {state} from the drop",
            *_split_note(ingest_phase, storing[0] if storing else None),
            _fanout_note(fake, since, watcher),
        ]
        fleet.stop()
        progress(f"stopped; delivery rows {dict(statuses(engine))}")
        tracebacks = fleet.tracebacks()
        if args.keep_logs:
            shutil.copytree(tmp / "logs", args.keep_logs, dirs_exist_ok=True)
        ingest_phase.notes.append(f"{fake.too_many} sends answered 429 over the whole run")
        if tracebacks:
            ingest_phase.notes.append(f"{tracebacks} tracebacks in the bot's logs")
        return [idle, fanout, ingest_phase]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=None, help="simulated users (default 50)")
    parser.add_argument("--subscribers", type=int, default=None, help="default 10000")
    parser.add_argument("--requests-per-user", type=int, default=None, help="per phase (default 6)")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="small numbers, well under a minute")
    parser.add_argument("--rate", type=float, default=25.0, help="SEND_RATE_PER_SECOND")
    parser.add_argument("--articles", type=int, default=None, help="fresh articles in the store")
    parser.add_argument("--dump-articles", type=int, default=None, help="articles in the dump")
    parser.add_argument("--ingest-timeout", type=float, default=600.0)
    parser.add_argument("--think", type=float, default=None, help="mean seconds between commands")
    parser.add_argument("--keep-logs", type=Path, default=None, help="copy the bot's logs here")
    args = parser.parse_args()
    small = args.quick
    args.think = args.think if args.think is not None else (0.3 if small else 10.0)
    args.users = args.users or (5 if small else 50)
    args.subscribers = args.subscribers or (100 if small else 10_000)
    args.requests_per_user = args.requests_per_user or (3 if small else 6)
    args.articles = args.articles or (60 if small else 150)
    args.dump_articles = args.dump_articles or (200 if small else 2000)
    print(
        f"responsiveness  engine {args.engine}  users {args.users}  subscribers "
        f"{args.subscribers}  requests/user/phase {args.requests_per_user}  think "
        f"{args.think:g} s  dump {args.dump_articles} articles  SEND_RATE_PER_SECOND={args.rate:g}",
        flush=True,
    )
    phases = run(args)
    for phase in phases:
        print(table(phase), flush=True)
    print(verdict(phases), flush=True)


if __name__ == "__main__":
    main()
