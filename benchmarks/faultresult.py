"""What benchmarks/faults.py measures of one fault run, and the block it prints for it."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from botrun import FIRST_CHAT, statuses
from fakebot import FakeTelegram
from faultkit import InFlight

from storage import deliveries
from storage.models import Briefing, Delivery


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
    max_copies: int = 0  # the most copies of one message any chat got
    too_many: int = 0
    seconds: float = 0.0
    max_per_second: int = 0  # accepted sends by when they reached the API: the bot's pace
    max_taken_effect: int = 0  # by when they took effect (later for held sends)
    rate: float = 25.0
    finished: bool = False
    statuses: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    scheduler: dict[str, float | None] = field(default_factory=dict)  # job -> s after the fault
    in_flight: InFlight | None = None  # kill: accepted, unrecorded sends at the kill
    resent_in_flight: int = 0  # kill: duplicates of those
    resent_other: int = 0  # kill: duplicates of anything else (target 0)
    duplicate_bound: int = 0  # slow: the policy's bound (one resend per held send)


class StampedFake(FakeTelegram):
    """The fake Bot API, also stamping when each accepted send to a subscriber reached it.

    A held send (the ``slow`` fault) takes effect when its hold ends, 25 s after the bot sent
    it: the bot's pace shows in the arrival times, not in the times the sends took effect.
    """

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[float] = []

    def call(self, method: str, params: Any) -> tuple[int, Any]:
        reached = time.time()
        status, body = super().call(method, params)
        chat = int(params.raw.get("chat_id") or 0) if method.lower() == "sendmessage" else 0
        if status == 200 and chat >= FIRST_CHAT:
            with self._cond:
                self.arrivals.append(reached)
        return status, body


def accepted(fake: FakeTelegram) -> list[tuple[float, int, str]]:
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


def measure(
    result: Result, fake: FakeTelegram, engine: sa.Engine, chats: list[int],
    blocked: set[int], started: float,
) -> None:  # fmt: skip
    sends = accepted(fake)
    received: dict[int, Counter[str]] = {}
    for _, chat, text in sends:
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
    unrecorded = result.in_flight.texts if result.in_flight is not None else {}
    for chat in chats:
        got = received.get(chat, Counter())
        result.duplicated += sum(n - 1 for n in got.values())
        result.max_copies = max(result.max_copies, *got.values(), 0)
        for text, copies in got.items():
            if text in unrecorded.get(chat, ()):
                result.resent_in_flight += copies - 1
            else:
                result.resent_other += copies - 1
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
    times = [at for at, _, _ in sends]
    result.messages = len(times)
    result.too_many = sum(1 for r in fake.rejected if r.get("error_code") == 429)
    if times:
        wall_start = time.time() - (time.monotonic() - started)
        result.seconds = max(times) - wall_start
    result.max_taken_effect = max_in_window(times)
    result.max_per_second = max_in_window(getattr(fake, "arrivals", times))


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
        f"  max in any 1 s   {result.max_per_second} messages sent "
        f"(SEND_RATE_PER_SECOND={result.rate:g}); {result.too_many} answered 429",
        f"  max in any 1 s   {result.max_taken_effect} taken effect (held sends land late)"
        if result.max_taken_effect != result.max_per_second
        else "",
        f"  max copies       {result.max_copies} of one message in one chat",
        *_kill_lines(result),
        f"  scheduler        {_scheduler_line(result)}",
        f"  delivery rows    {dict(sorted(result.statuses.items()))}",
        *(f"  note             {n}" for n in result.notes),
        f"  targets          {'; '.join(missed(result)) or 'PASS'}",
    ]
    return "\n".join(line for line in lines if line)


def missed(result: Result) -> list[str]:
    """The targets this run missed (the module docstring of benchmarks/faults.py)."""
    out = []
    if not result.finished:
        out.append("not finished")
    if result.lost or result.partial:
        out.append(f"{result.lost} lost, {result.partial} partial")
    if result.fault == "kill":
        if result.resent_other or result.max_copies > 2:
            out.append(f"{result.resent_other} resent outside the in-flight sends")
    elif result.duplicated > result.duplicate_bound or result.max_copies > 2:
        out.append(f"{result.duplicated} duplicates (bound {result.duplicate_bound})")
    if not result.scheduler or None in result.scheduler.values():
        out.append("a job did not run after the fault")
    if result.max_per_second > result.rate:
        out.append(f"{result.max_per_second} messages in 1 s > {result.rate:g}")
    return out


def _kill_lines(result: Result) -> list[str]:
    found = result.in_flight
    if found is None:
        return []
    per = result.resent_in_flight / found.count if found.count else 0.0
    return [
        f"  in flight        {found.count} sends accepted, not recorded at the kill "
        f"(oldest {found.oldest:.2f} s before it)",
        f"  resent           {result.resent_in_flight} of them ({per:.2f} per in-flight send); "
        f"{result.resent_other} other messages resent",
    ]


def _scheduler_line(result: Result) -> str:
    """Each job's first start after the fault ended (the job_runs heartbeat)."""
    if not result.scheduler:
        return "no heartbeat read (fault not injected)"
    parts = [
        f"{job} +{after:.0f} s" if after is not None else f"{job} NOT RUN"
        for job, after in sorted(result.scheduler.items())
    ]
    ok = all(after is not None for after in result.scheduler.values())
    return ("ran after the fault: " if ok else "STALLED: ") + ", ".join(parts)
