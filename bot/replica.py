"""Several `briefbot run` processes on one PostgreSQL store: delivery replicas, one global rate.

``briefbot run --deliver-only`` is a delivery replica: it runs the delivery and instant-alert
jobs, which claim each row with a lease before sending (so no slot goes out twice), and
nothing else: no polling or webhook (no poller lock), no inbox ingest, no housekeeping, no
command menu; those stay with the one poller. Its jobs live in its own scheduler's memory,
not in the shared job store that holds the poller's inbox and housekeeping jobs. PostgreSQL
only: a SQLite store has one process, the poller, which delivers too.

Every sending process, the poller included, holds a replica slot (storage/replicas.py) and
sends at ``SEND_RATE_PER_SECOND / N``, N the processes holding one, counted again every
``REFRESH_EVERY`` seconds on a thread of its own (a count never waits behind composing).
Slowing down applies at once; speeding up only when two counts in a row (``REFRESH_EVERY``
apart, more than the gate's one-second window) show fewer processes, so a departed one's
last sends have left every window. A process that finds others running holds its sends for
``JOIN_HOLD`` seconds after taking its slot: by then each of them has counted it and slowed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger
from telegram.ext import Application

from bot.app import build_application, build_context
from bot.context import AppContext
from bot.sendgate import GateRateLimiter, SendGate
from bot.settings import Settings, SettingsError
from storage.engine import parse_url
from storage.replicas import ReplicaSlot, join_replicas

log = logging.getLogger(__name__)

REFRESH_EVERY = 2.0  # seconds between two counts of the processes sharing the rate
JOIN_HOLD = 2 * REFRESH_EVERY + 1.0  # every other process counted us (late by up to one
# period) and the sends it granted at its old pace left the one-second window


@dataclass
class Share:
    """This process's slot and how many processes it last found sharing the rate."""

    slot: ReplicaSlot
    joined: float  # when the slot was taken (time.monotonic)
    replicas: int
    seen: deque[int] = field(default_factory=lambda: deque(maxlen=2))
    counter: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="replicas")
    )

    def observe(self, live: int) -> int:
        """Take a new count; the processes to pace for: the larger of the last two counts."""
        self.seen.append(live)
        self.replicas = max(self.seen)
        return self.replicas

    def release(self) -> None:
        """Give the slot up."""
        self.counter.shutdown(wait=False)
        self.slot.release()


def join(ctx: AppContext) -> Share:
    """Take a replica slot for this process and count who shares the store with it.

    Raises:
        storage.errors.ReplicaSlotsFull: every slot is taken.
    """
    slot = join_replicas(ctx.sessions.kw["bind"], ctx.settings.send_rate_per_second)
    joined = time.monotonic()
    try:
        live = slot.live()
    except BaseException:
        slot.release()
        raise
    share = Share(slot, joined, live)
    share.seen.append(live)
    return share


def _gate(application: Application[Any, Any, Any, Any, Any, Any]) -> SendGate | None:
    limiter = getattr(application.bot, "rate_limiter", None)
    return limiter.gate if isinstance(limiter, GateRateLimiter) else None


def pace(application: Application[Any, Any, Any, Any, Any, Any], share: Share) -> None:
    """Pace the application's send gate at its share, and count again every few seconds."""
    gate = _gate(application)
    if gate is None or not share.slot.shared:  # SQLite: one process sends at the whole rate
        return
    gate.set_share(share.replicas)
    if share.replicas > 1:
        gate.hold(share.joined + JOIN_HOLD - time.monotonic())
        log.info("replicas: %d processes share this store's send rate", share.replicas)
    if application.job_queue is None:
        log.warning("no JobQueue: the send rate is not re-shared as replicas come and go")
        return
    application.job_queue.scheduler.add_job(  # in memory, like the watchdog
        recount, IntervalTrigger(seconds=REFRESH_EVERY, timezone=UTC), id="replicas",
        name="count replicas", replace_existing=True, coalesce=True, misfire_grace_time=None,
        args=(share, gate),
    )  # fmt: skip


async def recount(share: Share, gate: SendGate) -> None:
    """Count the processes sharing the rate and pace the gate at this one's part."""
    try:
        live = await asyncio.get_running_loop().run_in_executor(share.counter, share.slot.live)
    except Exception as exc:  # keep the last share until the store answers again
        log.warning("replicas: cannot count them: %s", str(exc).splitlines()[0])
        return
    before = share.replicas
    if share.observe(live) != before:
        gate.set_share(share.replicas)
        log.info("replicas: %d processes share SEND_RATE_PER_SECOND=%g", share.replicas, gate.rate)


def run_delivery_replica(settings: Settings) -> int:
    """`briefbot run --deliver-only`: deliver briefings and alerts until SIGINT or SIGTERM.

    Raises:
        bot.settings.SettingsError: no bot token, or not a PostgreSQL store (checked before
            the store is opened).
        storage.errors.ReplicaSlotsFull: every replica slot of the store is taken.
    """
    if not settings.telegram_bot_token:
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN: `briefbot run --deliver-only` sends to Telegram: set the token"
        )
    if parse_url(settings.database_url).get_backend_name() != "postgresql":
        raise SettingsError(
            "DATABASE_URL: `briefbot run --deliver-only` needs a PostgreSQL store; on SQLite "
            "the one `briefbot run` delivers too (run it without --deliver-only)"
        )
    ctx = build_context(settings)
    ctx.deliver_only = True
    share = join(ctx)
    try:
        application = build_application(settings, ctx)
        pace(application, share)
        asyncio.run(_serve(application))
    finally:
        share.release()
    return 0


async def _serve(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Run the application's jobs (no updater: nothing polls) until a stop signal."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with application:
        await application.start()
        log.info("delivery replica running: deliveries and alerts only (stop with Ctrl-C)")
        try:
            await stop.wait()
        finally:
            await application.stop()
