"""The faults of benchmarks/faults.py that need more than the fake Bot API, and what they check.

* :func:`in_flight` — at a SIGKILL, the messages Telegram accepted that the dead process had
  not recorded yet (``messages_sent`` behind what the fake accepted): the sends a restart may
  resend. The benchmark compares the duplicates with them afterwards.
* :class:`DbDrop` — terminates the bot processes' PostgreSQL backends (found by their
  ``application_name``) a few times, seconds apart, from a thread.
* :class:`IngestRun` — a ``briefbot ingest`` subprocess of a large dump on the same store.
* :class:`Heartbeats` — each scheduled job's first start after the fault ended, read from its
  heartbeat (``job_runs``).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from botrun import FIRST_CHAT, POSTGRES_URL, ROOT

from storage import deliveries
from storage.engine import make_engine
from storage.models import Briefing, Delivery, JobRun

WATCHED = ("deliver", "alerts", "inbox")  # the jobs that run every minute or more often


@dataclass
class InFlight:
    """Accepted but unrecorded sends at a kill: chat -> the texts, and the oldest's age."""

    texts: dict[int, list[str]] = field(default_factory=dict)
    oldest: float = 0.0  # seconds between the oldest unrecorded acceptance and the kill

    @property
    def count(self) -> int:
        return sum(len(texts) for texts in self.texts.values())


def in_flight(accepted: list[tuple[float, int, str]], engine: sa.Engine, killed: float) -> InFlight:
    """What the killed process had sent without recording it (read once it is dead).

    Args:
        accepted: (wall time, chat, text) of every send Telegram accepted so far, in order.
        engine: the store.
        killed: the wall time of the SIGKILL.
    """
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(Delivery.chat_id, Delivery.messages_sent, Briefing.messages)
            .join(Briefing, Briefing.id == Delivery.briefing_id)
            .where(Delivery.status == deliveries.CLAIMED, Delivery.chat_id >= FIRST_CHAT)
        ).all()
    per_chat: dict[int, list[tuple[float, str]]] = {}
    for at, chat, text in accepted:
        per_chat.setdefault(chat, []).append((at, text))
    found = InFlight()
    for chat, recorded, messages in rows:
        got = [(at, text) for at, text in per_chat.get(int(chat), []) if text in set(messages)]
        unrecorded = got[int(recorded) :]
        if unrecorded:
            found.texts[int(chat)] = [text for _, text in unrecorded]
            found.oldest = max(found.oldest, killed - unrecorded[0][0])
    return found


def with_application_name(url: str, name: str) -> str:
    """``url`` whose connections announce ``name`` (pg_stat_activity.application_name)."""
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


class DbDrop:
    """Terminate every backend named ``name`` ``times`` times, ``every`` seconds apart."""

    def __init__(self, name: str, *, times: int = 3, every: float = 4.0) -> None:
        self.name, self.times, self.every = name, times, every
        self.terminated: list[int] = []  # backends terminated per round
        self.ended: datetime | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> DbDrop:
        self._thread.start()
        return self

    def done(self) -> bool:
        return self.ended is not None

    def _run(self) -> None:
        admin = make_engine(POSTGRES_URL)
        try:
            for round_ in range(self.times):
                if round_:
                    time.sleep(self.every)
                with admin.begin() as connection:
                    killed = connection.execute(
                        sa.text(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                            "WHERE application_name = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": self.name},
                    ).scalar_one()
                self.terminated.append(int(killed))
        finally:
            admin.dispose()
            self.ended = datetime.now(UTC)

    def note(self) -> str:
        rounds = ", ".join(str(n) for n in self.terminated)
        return f"pg_terminate_backend {self.times}x, {self.every:g} s apart ({rounds} backends)"


class IngestRun:
    """``briefbot ingest DUMP`` as a subprocess on the store of ``env``."""

    def __init__(self, env: dict[str, str], dump: Path, log: Path) -> None:
        self.dump, self.log = dump, log
        self.ended: datetime | None = None
        self.started = time.monotonic()
        self.seconds = 0.0
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "ingest", str(dump)], env=env, cwd=ROOT,
            stdout=self._out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def done(self) -> bool:
        if self.ended is None and self.proc.poll() is not None:
            self.ended = datetime.now(UTC)
            self.seconds = time.monotonic() - self.started
            self._out.close()
        return self.ended is not None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.done()

    def note(self) -> str:
        size = self.dump.stat().st_size / 1e6
        if self.ended is None:
            return f"briefbot ingest of {size:.1f} MB still running (killed)"
        tail = self.log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        return (
            f"briefbot ingest of {size:.1f} MB: exit {self.proc.returncode} after "
            f"{self.seconds:.0f} s ({tail[0][:90]})"
        )


class Heartbeats:
    """Each scheduled job's first start after ``since`` (the fault's end), from ``job_runs``.

    ``job_runs`` keeps only a job's latest start, so the benchmark polls it while it waits
    for the fan-out (:meth:`poll`), then waits for the jobs not seen yet (:meth:`wait`).
    """

    def __init__(self, since: datetime) -> None:
        self.since = since
        self.after: dict[str, float | None] = {}  # job -> seconds after ``since``, None: not yet

    def poll(self, engine: sa.Engine) -> None:
        try:
            with engine.connect() as connection:
                rows: list[Any] = connection.execute(sa.select(JobRun.job, JobRun.started_at)).all()
        except sa.exc.OperationalError:  # SQLite busy: next round
            return
        for job, started in rows:
            if job not in WATCHED or self.after.get(job) is not None:
                continue
            started = started if started.tzinfo else started.replace(tzinfo=UTC)
            late = (started - self.since).total_seconds()
            self.after[job] = late if late > 0 else None

    def wait(self, engine: sa.Engine, seconds: float) -> dict[str, float | None]:
        """Poll until every job ran after the fault, or ``seconds`` passed; the result."""
        deadline = time.monotonic() + seconds
        while True:
            self.poll(engine)
            if self.after and all(v is not None for v in self.after.values()):
                return self.after
            if time.monotonic() > deadline:
                return self.after
            time.sleep(1.0)
