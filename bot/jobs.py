"""Scheduled jobs on PTB's JobQueue (one APScheduler 3 AsyncIOScheduler per process).

Jobs live in a persistent SQLAlchemy job store on the application's own database, with fixed
ids registered with ``replace_existing`` (a restart updates them instead of adding copies) and
explicit misfire handling: ``coalesce`` folds runs missed during downtime into one, and
``misfire_grace_time`` bounds how late a run may start. What a late delivery run sends is
decided by the catch-up policy in :mod:`briefings.digest.schedule`, not by APScheduler.

The job store (:mod:`bot.jobstore`) cannot stop the scheduler: a database error there backs
off and tries again. Every run writes a heartbeat (:mod:`storage.heartbeats`, shown by
``/stats`` and ``briefbot stats``), and a watchdog in the scheduler's in-memory store logs a
warning when a persisted job has not started for several of its intervals.

Several replicas may share the job store; each then runs the jobs too, which is safe because
deliveries are claimed row by row and ingest is idempotent by content hash. A delivery replica
(``briefbot run --deliver-only``, bot/replica.py) keeps its delivery and alert jobs in memory.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeAlias

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from telegram.ext import Application

from bot.alerts import match_now, send_alerts
from bot.context import KEY, AppContext
from bot.delivery import Deliverer, DeliveryConfig
from bot.digest import briefing_composer
from bot.jobstore import AppJobStore, jobstore_engine
from bot.sendgate import GateRateLimiter
from briefings.errors import IngestBusy
from briefings.ingest import iter_input_files
from storage import alerts, deliveries, heartbeats

log = logging.getLogger(__name__)
JobFunc: TypeAlias = Callable[[Application[Any, Any, Any, Any, Any, Any]], Awaitable[None]]

JOBSTORE = "briefbot"
DELIVER_EVERY = 60  # seconds
ALERTS_EVERY = 15  # seconds: a story matched by an instant follow goes out within a minute
ALERT_QUEUE_DAYS = timedelta(days=1)  # alerts held longer are dropped: the briefing has them
SETTLE_SECONDS = 5.0  # a file modified more recently may still be being written
HOUSEKEEPING_EVERY = 24 * 3600
WATCHDOG_EVERY = 60


def register_jobs(application: Application[Any, Any, Any, Any, Any, Any], ctx: AppContext) -> None:
    """Add the inbox, delivery and housekeeping jobs (idempotent across restarts).

    A delivery replica (``ctx.deliver_only``, bot/replica.py) gets the delivery and alert
    jobs only, in its scheduler's memory: the shared job store's jobs are the poller's.
    """
    job_queue = application.job_queue
    if job_queue is None:  # PTB without the job-queue extra
        log.warning("no JobQueue: scheduled briefings and the inbox watch are off")
        return
    scheduler = job_queue.scheduler
    replica = ctx.deliver_only
    if not replica:
        engine = jobstore_engine(ctx.sessions.kw["bind"])
        scheduler.add_jobstore(AppJobStore(application, engine=engine), alias=JOBSTORE)
    settings = ctx.settings
    now = datetime.now(UTC)
    common: dict[str, Any] = {
        "jobstore": "default" if replica else JOBSTORE,
        "replace_existing": True,
        "coalesce": True,
        "max_instances": 1,
        "args": (application,),
    }
    interval = settings.inbox_interval_seconds
    if not replica:
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
        alerts_job, IntervalTrigger(seconds=ALERTS_EVERY, timezone=UTC), id="alerts",
        name="match and send instant alerts", misfire_grace_time=ALERTS_EVERY,
        next_run_time=now, **common,
    )  # fmt: skip
    if not replica:
        scheduler.add_job(
            housekeeping_job, CronTrigger(hour=3, minute=17, timezone=UTC), id="housekeeping",
            name="housekeeping", misfire_grace_time=6 * 3600, **common,
        )  # fmt: skip
    started = time.monotonic()  # a store failing from the start must be noticed too
    watched = ("deliver", "alerts") if replica else ("deliver", "alerts", "inbox", "housekeeping")
    ctx.job_starts.update({job: (_every(ctx, job), started) for job in watched})
    scheduler.add_job(  # in memory: it must run when the database does not answer
        watchdog_job, IntervalTrigger(seconds=WATCHDOG_EVERY, timezone=UTC), id="watchdog",
        name="scheduler watchdog", replace_existing=True, coalesce=True, args=(application,),
    )  # fmt: skip


def _ctx(application: Application[Any, Any, Any, Any, Any, Any]) -> AppContext:
    ctx: AppContext = application.bot_data[KEY]
    return ctx


def _every(ctx: AppContext, job: str) -> int:
    intervals = {
        "deliver": DELIVER_EVERY,
        "alerts": ALERTS_EVERY,
        "inbox": ctx.settings.inbox_interval_seconds,
    }
    return intervals.get(job, HOUSEKEEPING_EVERY)


async def _beat(ctx: AppContext, job: str, error: str | None = None, *, start: bool) -> None:
    """Write the job's heartbeat row (best effort: a failing store must not fail the job)."""
    now = datetime.now(UTC)

    def write() -> None:
        with ctx.sessions() as session, session.begin():
            if start:
                heartbeats.record_start(session, job, _every(ctx, job), now)
            else:
                heartbeats.record_end(session, job, now, error)

    try:
        await asyncio.to_thread(write)
    except Exception as exc:  # the heartbeat is a signal, not the job
        log.warning("heartbeat of %s not recorded: %s", job, str(exc).splitlines()[0])


def heartbeat(job: str) -> Callable[[JobFunc], JobFunc]:
    """Wrap a job so each run records its start and end (in memory and in the store)."""

    def decorate(func: JobFunc) -> JobFunc:
        @functools.wraps(func)
        async def run(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
            ctx = _ctx(application)
            ctx.job_starts[job] = (_every(ctx, job), time.monotonic())
            await _beat(ctx, job, start=True)
            error: str | None = None
            try:
                await func(application)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                raise
            finally:
                await _beat(ctx, job, error, start=False)

        return run

    return decorate


async def watchdog_job(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Warn when a persisted job has not started for several of its intervals; stop the
    process when its poller lock went to another process (its connection dropped)."""
    await _check_poller_lock(application)
    beats = _ctx(application).job_starts
    now = time.monotonic()
    for job, (every, started) in beats.items():
        late = now - started
        if late > heartbeats.OVERDUE_AFTER * every + heartbeats.OVERDUE_SLACK.total_seconds():
            log.warning(
                "scheduler: job %s last started %.0f s ago (every %d s): overdue", job, late, every
            )


async def _check_poller_lock(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    lock = _ctx(application).poller_lock
    if lock is None:
        return
    try:
        kept = await asyncio.to_thread(lock.held)
    except Exception as exc:  # the store is away: nobody else can take the lock either
        log.warning("poller lock: cannot check it: %s", str(exc).splitlines()[0])
        return
    if not kept:
        log.error(
            "poller lock: the store's connection dropped and another briefbot server took the "
            "lock: stopping this one"
        )
        application.stop_running()


@heartbeat("deliver")
async def deliver_job(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Send every briefing that is due now (and resume interrupted ones)."""
    ctx = _ctx(application)
    limiter = getattr(application.bot, "rate_limiter", None)
    deliverer = Deliverer(
        application.bot,
        ctx.sessions,
        briefing_composer(ctx.taxonomy, ctx.settings.default_timezone),
        DeliveryConfig.from_settings(ctx.settings),
        gate=limiter.gate if isinstance(limiter, GateRateLimiter) else None,  # one flood control
        taxonomy=ctx.taxonomy,
    )
    report = await deliverer.run()
    if report.due or report.resumed or report.skipped:
        log.info("delivery run: %s", report)


@heartbeat("alerts")
async def alerts_job(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Match articles ingested since the last run (by any path) and send due alert batches."""
    ctx = _ctx(application)
    matched = await asyncio.to_thread(match_now, ctx.sessions, datetime.now(UTC))
    if matched.queued:
        log.info("alerts: %s", matched)
    report = await send_alerts(application.bot, ctx)
    if report.due or report.resumed:
        log.info("alert run: %s", report)


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


@heartbeat("inbox")
async def inbox_job(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Ingest new or changed dumps from the inbox folder."""
    ctx = _ctx(application)
    inbox = Path(ctx.settings.inbox_dir)
    if not inbox.is_dir():
        return
    watch = InboxWatch(ctx.inbox_seen)
    paths = await asyncio.to_thread(watch.changed, inbox)
    if not paths:
        return
    url = ctx.settings.database_url
    try:  # in a child process: the CPU work must not hold this process's event loop
        report = await asyncio.to_thread(ctx.ingest_process.ingest, ctx.ingestor, url, paths)
    except IngestBusy:  # an admin's ingest is running: these files wait for the next round
        log.info("inbox: an ingest is running; %d files wait for the next round", len(paths))
        return
    watch.mark(paths)  # ingest is idempotent by content hash: this only saves re-reading
    log.info("inbox: %s", report.summary_line())


@heartbeat("housekeeping")
async def housekeeping_job(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Prune deliveries and briefings older than the retention period, and stale alerts."""
    ctx = _ctx(application)
    cutoff = datetime.now(UTC) - timedelta(days=ctx.settings.retention_days)

    def prune() -> tuple[int, int]:
        with ctx.sessions() as session, session.begin():
            alerts.prune_queue(session, datetime.now(UTC) - ALERT_QUEUE_DAYS)
            return deliveries.prune(session, cutoff)

    removed, briefings = await asyncio.to_thread(prune)
    log.info("housekeeping: pruned %d deliveries and %d briefings", removed, briefings)
