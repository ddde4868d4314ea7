"""The scheduler's persistent job store: the application's database, and it cannot kill the loop.

APScheduler 3 calls ``update_job`` and ``get_next_run_time`` from ``AsyncIOScheduler.wakeup``
without catching anything: one ``database is locked`` (an ingest holding SQLite's write lock)
or one dropped PostgreSQL connection there, and no job ever runs again while the process
keeps polling. :class:`AppJobStore` therefore

* talks to the database through its own small engine with a short lock wait (SQLite busy
  timeout :data:`BUSY_TIMEOUT`; PostgreSQL connect timeout) so a held lock never freezes the
  event loop for long, and retries each call once (a dropped connection is replaced);
* when the store still fails, never raises into the scheduler: it holds off for a backoff
  (2 s doubling to 60 s), during which it reports no due jobs and asks to be woken when the
  backoff ends, and then tries again. A job whose next run time could not be written runs
  again once the store is back (coalesced into one run); every job is idempotent.

The stored jobs hold no live objects: jobs are persisted without their arguments and get the
running Application back when they are loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from apscheduler.job import Job as APSJob
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError
from telegram.ext import Application

log = logging.getLogger(__name__)

BUSY_TIMEOUT = 0.25  # seconds a job-store statement waits for SQLite's write lock
CONNECT_TIMEOUT = 3  # seconds (PostgreSQL)
ATTEMPTS = 2  # per call: a dropped connection is replaced on the second
BACKOFF_FIRST, BACKOFF_MAX = 2.0, 60.0  # seconds to hold off after the store failed

T = TypeVar("T")


def jobstore_engine(engine: Engine) -> Engine:
    """A small engine on ``engine``'s database for the job store, with short lock waits."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return create_engine(url, connect_args={"timeout": BUSY_TIMEOUT})
    return create_engine(
        url, pool_size=1, max_overflow=1, pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT},
    )  # fmt: skip


class _Detached:
    """A job as stored: its state without the (unpicklable) Application argument."""

    def __init__(self, job: APSJob) -> None:
        self.id = job.id
        self.next_run_time = job.next_run_time
        self._job = job

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = self._job.__getstate__()
        state["args"] = ()
        return state


class AppJobStore(SQLAlchemyJobStore):
    """A SQLAlchemy job store whose jobs get the running Application, and that never raises
    a database error into the scheduler's wakeup."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.application = application
        self.clock = clock
        self.failures = 0  # store errors in a row (after retries)
        self._hold_until: datetime | None = None

    # ---------------------------------------------------------------- resilience
    def _call(self, what: str, call: Callable[[], T]) -> T:
        """Run ``call``, retrying once; on success end any backoff."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                result = call()
            except SQLAlchemyError as exc:
                if attempt == ATTEMPTS:
                    self._failed(what, exc)
                    raise
                continue
            if self.failures:
                log.warning("job store: %s works again after %d failures", what, self.failures)
            self.failures, self._hold_until = 0, None
            return result
        raise AssertionError("unreachable")

    def _failed(self, what: str, exc: SQLAlchemyError) -> None:
        self.failures += 1
        backoff = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (self.failures - 1))
        self._hold_until = self.clock() + timedelta(seconds=backoff)
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.warning("job store: %s failed (%s); retrying in %.0f s", what, first_line, backoff)

    def _holding(self) -> bool:
        return self._hold_until is not None and self.clock() < self._hold_until

    # ---------------------------------------------------------------- scheduler's calls
    def get_due_jobs(self, now: datetime) -> list[APSJob]:
        base = SQLAlchemyJobStore
        if self._holding():
            return []
        try:
            return self._call("reading due jobs", lambda: base.get_due_jobs(self, now))
        except SQLAlchemyError:
            return []

    def get_next_run_time(self) -> datetime | None:
        if self._holding():
            return self._hold_until
        try:
            stored = self._call("reading the next run time", super().get_next_run_time)
        except SQLAlchemyError:
            return self._hold_until  # wake when the backoff ends, and try again
        return stored

    def update_job(self, job: APSJob) -> None:
        base = SQLAlchemyJobStore
        try:
            self._call(f"saving job {job.id}", lambda: base.update_job(self, _Detached(job)))
        except SQLAlchemyError:
            pass  # the job runs again (coalesced) once the store is back
        except JobLookupError:
            log.warning("job store: job %s vanished from the store; not saved", job.id)

    def add_job(self, job: APSJob) -> None:
        self._call(f"adding job {job.id}", lambda: SQLAlchemyJobStore.add_job(self, _Detached(job)))

    def _reconstitute_job(self, job_state: bytes) -> APSJob:
        job: APSJob = super()._reconstitute_job(job_state)
        job.args = (self.application,)
        return job
