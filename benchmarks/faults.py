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
    dbdrop   PostgreSQL: the bot's backends are terminated (pg_terminate_backend) 3 times, 4 s
             apart, mid-fan-out
    ingest   SQLite: a ``briefbot ingest`` of a large dump (``--dump-articles``, fresh synthetic
             articles from benchmarks/corpus.py) on the same store, started mid-fan-out

Per fault it prints: delivered (chats that got their whole briefing), lost (got nothing),
duplicated messages, partial briefings, time to complete, the most accepted messages sent in
any 1 s window (by when they reached the API; a held send takes effect 25 s later) against
``SEND_RATE_PER_SECOND``, whether the scheduler started each job again after the fault ended
(the ``job_runs`` heartbeat), and for ``kill`` the sends in flight at the kill (accepted by
Telegram, not yet recorded) against what was resent.
Targets: 0 lost and 0 partial always; 0 duplicates without a crash (under ``slow``, the
policy's bound: each held send resent at most once); at a kill, nothing resent but the
in-flight sends, each at most once; every job runs after every fault; the rate holds. The
last line of each block, ``targets``, says PASS or which were missed.

    .venv/bin/python benchmarks/faults.py --quick                 # 200 subscribers, all faults
    .venv/bin/python benchmarks/faults.py --faults none,500       # 2,000 subscribers
    FAULTS_KEEP_LOGS=/tmp/logs .venv/bin/python benchmarks/faults.py --faults kill

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
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from botrun import (  # benchmarks/botrun.py (puts the project and tests/ on sys.path)
    DONE,
    Fleet,
    add_subscribers,
    bot_env,
    ingest,
    postgres_schema,
    statuses,
    write_news,
)
from fakebot import FakeTelegram
from faultkit import DbDrop, Heartbeats, IngestRun, in_flight, with_application_name
from faultresult import Result, StampedFake, accepted, measure, report

from storage.engine import make_engine

FAULTS = ("none", "kill", "replica", "429", "500", "slow", "403", "dbdrop", "ingest")
POSTGRES_FAULTS = ("replica", "dbdrop")
FLOOD_LIMIT = 30.0  # Telegram's documented global limit, enforced by the fake
LEASE_SECONDS = 30  # DELIVERY_LEASE_SECONDS: a killed process's claims are resumed this soon
INBOX_EVERY = 30  # INBOX_INTERVAL_SECONDS: its heartbeat shows within the wait below
HEARTBEAT_WAIT = 80.0  # seconds to wait for each job's next start (delivery runs every 60 s)
SLOW_HELD = 10  # sends the slow API holds past the send timeout


class Ongoing(Protocol):
    """A fault that lasts (a DbDrop thread, an IngestRun process)."""

    ended: datetime | None

    def done(self) -> bool: ...

    def note(self) -> str: ...


def _inject(
    fault: str, fake: FakeTelegram, fleet: Fleet, engine: sa.Engine, result: Result,
    extra: dict[str, object],
) -> tuple[str, datetime | None, Ongoing | None]:  # fmt: skip
    """Inject the mid-fan-out fault: (what was done, when it ends, or what runs on)."""
    now = datetime.now(UTC)
    if fault == "kill":
        victim = fleet.procs[-1]
        victim.send_signal(signal.SIGKILL)
        killed = time.time()
        victim.wait()
        time.sleep(0.3)  # answers already on the wire land at the fake
        result.in_flight = in_flight(accepted(fake), engine, killed)
        fleet.start()
        return "SIGKILL, restarted", datetime.now(UTC), None
    if fault == "429":
        params = {"retry_after": 3}
        fake.fail_for("sendMessage", 10.0, 429, "Too Many Requests: retry after 3", params)
        return "429 retry_after=3 for 10 s", now + timedelta(seconds=10), None
    if fault == "500":
        fake.fail_for("sendMessage", 20.0, 500, "Internal Server Error")
        return "500s for 20 s", now + timedelta(seconds=20), None
    if fault == "slow":
        fake.hold("sendMessage", 25.0, times=SLOW_HELD)
        result.duplicate_bound = SLOW_HELD
        note = f"{SLOW_HELD} sends held 25 s (policy bound: at most {SLOW_HELD} duplicates)"
        return note, now + timedelta(seconds=25), None
    if fault == "dbdrop":
        drop = DbDrop(str(extra["application_name"])).start()
        return "dropped connections", None, drop
    if fault == "ingest":
        run = IngestRun(fleet.env, Path(str(extra["dump"])), fleet.logs / "ingest.log")
        return "ingest started", None, run
    return "", now, None


def run_fault(
    fault: str, subscribers: int, *, rate: float = 25.0, timeout: float = 900.0, seed: int = 0,
    news: Path | None = None, template: Path | None = None, dump: Path | None = None,
) -> Result:  # fmt: skip
    """Deliver one slot to ``subscribers`` chats under ``fault``; return what was measured.

    ``template``: a SQLite store already holding the ingested news (copied, not re-ingested);
    ``dump``: the file the ``ingest`` fault ingests during the fan-out.
    """
    rng = random.Random(f"{seed}-{fault}")
    result = Result(fault, subscribers, rate=rate)
    with tempfile.TemporaryDirectory(prefix=f"faults-{fault}-") as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        (tmp / "inbox").mkdir()
        (tmp / "seeds").mkdir()
        (tmp / "logs").mkdir()
        extra: dict[str, object] = {"dump": dump}
        if fault in POSTGRES_FAULTS:
            url = stack.enter_context(postgres_schema("faults"))
            extra["application_name"] = name = f"briefbot_{url.rsplit('%3D', 1)[-1]}"
            bot_url = with_application_name(url, name)
        else:
            url = bot_url = f"sqlite:///{tmp / 'store.sqlite3'}"
        fake = StampedFake().start()
        fake.set_rate_limit(FLOOD_LIMIT)
        env = bot_env(
            fake, bot_url, tmp,
            SEND_RATE_PER_SECOND=f"{rate:g}", DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
            INBOX_INTERVAL_SECONDS=str(INBOX_EVERY),
        )  # fmt: skip
        fleet = Fleet(env, tmp / "logs")
        engine = make_engine(url)
        ongoing: Ongoing | None = None
        beats: Heartbeats | None = None
        try:
            if template is not None and fault not in POSTGRES_FAULTS:
                shutil.copy(template, tmp / "store.sqlite3")
            else:
                ingest(env, news)
            chats = add_subscribers(url, subscribers)
            blocked = set(chats[::20]) if fault == "403" else set()
            for chat in blocked:
                fake.block(chat)
            started = time.monotonic()
            fault_end: datetime | None = datetime.now(UTC)
            fleet.start()
            if fault == "replica":  # they share SEND_RATE_PER_SECOND (bot/replica.py)
                fleet.start("--deliver-only")
            # an ingest needs seconds to start (imports, topic model): start it early
            early = fault == "ingest"
            trigger = int(
                subscribers * (rng.uniform(0.05, 0.15) if early else rng.uniform(0.2, 0.7))
            )
            injected = fault in ("none", "replica", "403")
            deadline = started + timeout
            while time.monotonic() < deadline:
                time.sleep(0.25)
                if not injected and len({c for _, c, _ in accepted(fake)}) >= trigger:
                    note, fault_end, ongoing = _inject(fault, fake, fleet, engine, result, extra)
                    result.notes.append(f"{note} after {trigger} chats")
                    injected = True
                if ongoing is not None and ongoing.done():
                    fault_end = ongoing.ended
                if injected and fault_end is not None:
                    if beats is None or beats.since != fault_end:
                        beats = Heartbeats(fault_end)
                    beats.poll(engine)
                try:
                    rows = statuses(engine)
                except sa.exc.OperationalError:  # SQLite busy (the ingest fault): next round
                    continue
                fanned_out = sum(rows[s] for s in DONE) >= subscribers
                if injected and fanned_out and (ongoing is None or ongoing.done()):
                    result.finished = True
                    break
            if beats is not None:  # did every job run again after the fault?
                left = max(10.0, deadline - time.monotonic())
                result.scheduler = beats.wait(engine, min(HEARTBEAT_WAIT, left))
            time.sleep(2.0)  # let answers in flight land
            refused = [p for p in fleet.procs if p.poll() == 2]  # e.g. the one-poller lock
            if refused:
                result.notes.append(f"{len(refused)} process(es) refused to start (exit 2)")
            if isinstance(ongoing, IngestRun):
                ongoing.stop()
            if ongoing is not None:
                result.notes.append(ongoing.note())
            fleet.stop()
            measure(result, fake, engine, chats, blocked, started)
            result.notes.append(f"{fleet.tracebacks()} tracebacks in the logs")
        finally:
            if isinstance(ongoing, IngestRun):
                ongoing.stop()
            fleet.stop()
            engine.dispose()
            fake.stop()
            if os.environ.get("FAULTS_KEEP_LOGS"):
                shutil.copytree(tmp / "logs", Path(os.environ["FAULTS_KEEP_LOGS"]) / fault)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=None, help="default 2000 (quick 200)")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"comma list of {FAULTS}")
    parser.add_argument("--quick", action="store_true", help="200 subscribers")
    parser.add_argument("--rate", type=float, default=25.0, help="SEND_RATE_PER_SECOND")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per fault")
    parser.add_argument("--seed", type=int, default=0, help="random seed (kill/trigger points)")
    parser.add_argument("--articles", type=int, default=150, help="fresh synthetic articles")
    parser.add_argument(
        "--dump-articles", type=int, default=3000, help="articles the ingest fault ingests"
    )
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
        dump = None
        if "ingest" in faults:
            dump = write_news(tmp, args.dump_articles, seed=1207, name="dump.jsonl")
        for fault in faults:
            result = run_fault(
                fault, subscribers, rate=args.rate, timeout=args.timeout, seed=args.seed,
                news=news, template=template, dump=dump,
            )  # fmt: skip
            print(report(result), flush=True)


if __name__ == "__main__":
    main()
