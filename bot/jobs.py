"""Scheduled jobs on PTB's JobQueue (one APScheduler 3 AsyncIOScheduler per process).

Jobs live in a persistent SQLAlchemy job store on the application's own database, with fixed
ids registered with ``replace_existing`` (a restart updates them instead of adding copies) and
explicit misfire handling: ``coalesce`` folds runs missed during downtime into one, and
``misfire_grace_time`` bounds how late a run may start. What a late delivery run sends is
decided by the catch-up policy in :mod:`briefings.digest.schedule`, not by APScheduler.

The stored jobs hold no live objects: :class:`AppJobStore` persists them without their
arguments and hands the running Application back when it loads them.

Several replicas may share the job store; each then runs the jobs too, which is safe because
deliveries are claimed row by row and ingest is idempotent by content hash.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.job import Job as APSJob
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from telegram.ext import Application

from bot.context import KEY, AppContext
from bot.delivery import Deliverer, DeliveryConfig, briefing_composer
from briefings.ingest import iter_input_files
from storage import deliveries

log = logging.getLogger(__name__)

JOBSTORE = "briefbot"
INBOX_KEY = "briefbot.inbox"
DELIVER_EVERY = 60  # seconds
SETTLE_SECONDS = 5.0  # a file modified more recently may still be being written


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
    """A SQLAlchemy job store whose jobs get the running Application as their argument."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.application = application

    def add_job(self, job: APSJob) -> None:
        super().add_job(_Detached(job))

    def update_job(self, job: APSJob) -> None:
        super().update_job(_Detached(job))

    def _reconstitute_job(self, job_state: bytes) -> APSJob:
        job: APSJob = super()._reconstitute_job(job_state)
        job.args = (self.application,)
        return job

    def shutdown(self) -> None:
        pass  # the engine is the application's: leave it open


def register_jobs(application: Application[Any, Any, Any, Any, Any, Any], ctx: AppContext) -> None:
    """Add the inbox, delivery and housekeeping jobs (idempotent across restarts)."""
    job_queue = application.job_queue
    if job_queue is None:  # PTB without the job-queue extra
        log.warning("no JobQueue: scheduled briefings and the inbox watch are off")
        return
    scheduler = job_queue.scheduler
    engine = ctx.sessions.kw["bind"]
    scheduler.add_jobstore(AppJobStore(application, engine=engine), alias=JOBSTORE)
    settings = ctx.settings
    now = datetime.now(UTC)
    common: dict[str, Any] = {
        "jobstore": JOBSTORE,
        "replace_existing": True,
        "coalesce": True,
        "max_instances": 1,
        "args": (application,),
    }
    interval = settings.inbox_interval_seconds
    scheduler.add_job(
        inbox_job, IntervalTrigger(seconds=interval, timezone=UTC), id="inbox",
        name="inbox watch", misfire_grace_time=interval, next_run_time=now, **common,
    )  # fmt: skip
    scheduler.add_job(
        deliver_job, IntervalTrigger(seconds=DELIVER_EVERY, timezone=UTC), id="deliver",
        name="deliver due briefings", misfire_grace_time=DELIVER_EVERY - 5,
        next_run_time=now, **common,
    )  # fmt: skip
    scheduler.add_job(
        housekeeping_job, CronTrigger(hour=3, minute=17, timezone=UTC), id="housekeeping",
        name="housekeeping", misfire_grace_time=6 * 3600, **common,
    )  # fmt: skip


def _ctx(application: Application[Any, Any, Any, Any, Any, Any]) -> AppContext:
    ctx: AppContext = application.bot_data[KEY]
    return ctx


async def deliver_job(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Send every briefing that is due now (and resume interrupted ones)."""
    ctx = _ctx(application)
    deliverer = Deliverer(
        application.bot,
        ctx.sessions,
        briefing_composer(ctx.taxonomy, ctx.settings.default_timezone),
        DeliveryConfig.from_settings(ctx.settings),
    )
    report = await deliverer.run()
    if report.due or report.resumed or report.skipped:
        log.info("delivery run: %s", report)


@dataclass
class InboxWatch:
    """Which inbox files were already handed to ingest: path -> (size, mtime_ns)."""

    seen: dict[str, tuple[int, int]] = field(default_factory=dict)

    def changed(self, inbox: Path, *, now: float | None = None) -> list[Path]:
        """Files that are new or changed since they were last ingested, and have settled."""
        now = time.time() if now is None else now
        found, out = set(), []
        for path in iter_input_files([inbox]):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.add(str(path))
            if self.seen.get(str(path)) == (stat.st_size, stat.st_mtime_ns):
                continue
            if now - stat.st_mtime < SETTLE_SECONDS:
                continue
            out.append(path)
        for gone in set(self.seen) - found:
            del self.seen[gone]
        return out

    def mark(self, paths: list[Path]) -> None:
        """Remember ``paths`` as ingested in their current state."""
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue
            self.seen[str(path)] = (stat.st_size, stat.st_mtime_ns)


async def inbox_job(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Ingest new or changed dumps from the inbox folder."""
    ctx = _ctx(application)
    inbox = Path(ctx.settings.inbox_dir)
    if not inbox.is_dir():
        return
    watch: InboxWatch = application.bot_data.setdefault(INBOX_KEY, InboxWatch())
    paths = await asyncio.to_thread(watch.changed, inbox)
    if not paths:
        return
    report = await asyncio.to_thread(ctx.ingestor.ingest_paths, paths)
    watch.mark(paths)  # ingest is idempotent by content hash: this only saves re-reading
    log.info("inbox: %s", report.summary_line())


async def housekeeping_job(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Prune deliveries and briefings older than the retention period."""
    ctx = _ctx(application)
    cutoff = datetime.now(UTC) - timedelta(days=ctx.settings.retention_days)

    def prune() -> tuple[int, int]:
        with ctx.sessions() as session, session.begin():
            return deliveries.prune(session, cutoff)

    removed, briefings = await asyncio.to_thread(prune)
    log.info("housekeeping: pruned %d deliveries and %d briefings", removed, briefings)
