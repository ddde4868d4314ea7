"""The scheduler's heartbeat: one row per scheduled job, written as each run starts and ends.

A job that has not started for a few of its intervals means the scheduler has stalled (or
its job store keeps failing); ``/stats`` and ``briefbot stats`` show it, read from here, so
any process (or an operator's cron) can tell without asking the stalled one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import JobRun

OVERDUE_AFTER = 3  # intervals without a start before a job counts as overdue
OVERDUE_SLACK = timedelta(seconds=30)  # scheduling jitter and the job store's retry backoff
LONGEST_RUN = timedelta(hours=1)  # a run still going after this long counts as stuck


@dataclass(frozen=True)
class JobHealth:
    """One job's last run as the store saw it, and whether it is overdue at ``checked_at``."""

    job: str
    every_seconds: int
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    runs: int
    overdue: bool


def is_overdue(
    now: datetime, started_at: datetime, finished_at: datetime | None, every_seconds: int
) -> bool:
    """Whether a job that should start every ``every_seconds`` has not for too long.

    Args:
        now: the current instant.
        started_at: when its last run started.
        finished_at: when that run ended (None or earlier than ``started_at``: still running,
            or the process died during it; a long fan-out is not a stall).
        every_seconds: its interval.
    """
    limit = OVERDUE_AFTER * timedelta(seconds=every_seconds)
    if finished_at is None or finished_at < started_at:
        limit = max(limit, LONGEST_RUN)
    return now - started_at > limit + OVERDUE_SLACK


def record_start(session: Session, job: str, every_seconds: int, now: datetime) -> None:
    """Record that ``job`` started a run now.

    Args:
        session: the caller's transaction.
        job: the job's id.
        every_seconds: how often it is meant to run (for the overdue check).
        now: the current instant.
    """
    row = session.get(JobRun, job)
    if row is None:
        session.add(JobRun(job=job, every_seconds=every_seconds, started_at=now, runs=0))
        return
    row.every_seconds, row.started_at = every_seconds, now


def record_end(session: Session, job: str, now: datetime, error: str | None) -> None:
    """Record that ``job``'s run ended (``error`` None = it succeeded).

    Args:
        session: the caller's transaction.
        job: the job's id.
        now: the current instant.
        error: why it failed, if it did.
    """
    session.execute(
        update(JobRun)
        .where(JobRun.job == job)
        .values(finished_at=now, error=error, runs=JobRun.runs + 1)
    )


def job_health(session: Session, now: datetime) -> list[JobHealth]:
    """Every job's last run, by job id, with its overdue flag at ``now``.

    Args:
        session: the caller's transaction.
        now: the instant to judge "overdue" at.
    """
    rows = session.scalars(select(JobRun).order_by(JobRun.job))
    return [
        JobHealth(
            job=row.job,
            every_seconds=row.every_seconds,
            started_at=row.started_at,
            finished_at=row.finished_at,
            error=row.error,
            runs=row.runs,
            overdue=is_overdue(now, row.started_at, row.finished_at, row.every_seconds),
        )
        for row in rows
    ]
