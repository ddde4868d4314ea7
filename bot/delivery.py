"""Deliver due briefings: plan, claim, compose, send under flood limits, record.

Guarantees (see storage/deliveries.py for the log itself):

* A slot is claimed (a committed row) before anything is sent, so a second worker or replica
  never sends it too; one that is missed during downtime is recorded as skipped, never
  silently dropped.
* Each message of a briefing is recorded (``messages_sent``) right after Telegram accepts it,
  and a retry resumes after the last recorded one. The window between Telegram accepting a
  message and that commit is **at-least-once**: a crash exactly there resends that one
  message once the claim's lease expires. We chose this over at-most-once because a skipped
  briefing is worse than one duplicated message; no other message of the briefing is ever
  sent twice. A store error on that commit (SQLite ``database is locked``, a dropped
  PostgreSQL connection) is not a crash: the record is retried with backoff until it lands
  (renewing the lease), and the worker sends nothing else meanwhile. Only a store that stays
  away longer than the lease while another process can still write acts like a crash.
* Flood limits (bot/sendgate.py): one gate per process, also the bot's rate limiter, so
  replies and deliveries share it: a global pace and rolling one-second window
  (``send_rate_per_second``), per-chat spacing (1 s for private chats, 3.2 s for groups and
  channels, whose limit is about 20 messages a minute).
  ``RetryAfter`` pauses every send; the message is retried in this run when the wait is at
  most :meth:`DeliveryConfig.inline_wait` (a quarter of the lease at most, so a claim never
  expires while it waits), else the row is deferred to a later run.
* ``Forbidden`` deactivates the chat; ``ChatMigrated`` moves the chat to its new id.
* Forum threads (bot/routing.py): each message goes to the thread stored with it. A thread
  Telegram refuses (closed, deleted) is switched off in the store once, the group is told in
  its General topic (best effort, once), and that message and the rest go to General.
* Transient errors (5xx, refused or reset connections) are retried a few times with backoff,
  then the row is deferred to a later run with a growing delay; it is recorded as failed only
  once its slot's grace period is over. A partly sent briefing resumes with the next message.
* Timeouts: a send may take ``send_timeout`` (20 s). A timeout after the request left is
  ambiguous (Telegram may have accepted it), so the message is not resent in the same run:
  the row is deferred and the message resent **once**, a minute later; if that resend times
  out too it is counted as sent. So a slow API costs at most one duplicate per message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot import delivery_records as records
from bot.delivery_config import Composed, Composer, DeliveryConfig, RunReport, Sender
from bot.routing import lost_thread_notice, thread_gone
from bot.sendgate import PACED, SendGate, retry_seconds
from briefings.digest import schedule
from briefings.topics.taxonomy import Taxonomy
from storage import chat_state, routing
from storage import deliveries as log_
from storage.deliveries import Claim

log = logging.getLogger(__name__)

__all__ = [  # the types of a run live in bot/delivery_config.py; import them from either
    "Composed",
    "Composer",
    "Deliverer",
    "DeliveryConfig",
    "RunReport",
    "Sender",
    "timed_out",
]


COMPOSE_ATTEMPTS = 3  # a store error while composing: tries before it is left to the lease
MAX_FLOOD_WAITS = 5  # short flood waits in a row for one message before it is deferred
NETWORK_DEFER, NETWORK_DEFER_MAX = 30.0, 600.0  # seconds: first deferral, longest


class _LostClaim(Exception):
    """Another worker took the claim over (our lease expired)."""


@dataclass(frozen=True)
class _Item:
    chat_id: int = 0
    slot: datetime | None = None
    delivery_id: int | None = None  # a row to resume


class Deliverer:
    """One delivery run: plan due slots, then claim, compose and send each (workers)."""

    kind = log_.BRIEFING  # the delivery rows it plans, claims and resumes (bot/alerts.py: ALERT)

    def __init__(
        self,
        bot: Sender,
        sessions: sessionmaker[Session],
        compose: Composer,
        config: DeliveryConfig,
        *,
        clock: Callable[[], datetime] | None = None,
        gate: SendGate | None = None,
        taxonomy: Taxonomy | None = None,
    ) -> None:
        self.bot, self.sessions, self.compose, self.config = bot, sessions, compose, config
        self.taxonomy = taxonomy  # labels for the lost-thread notice (slugs without one)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.gate = gate or SendGate(config.rate)
        self.report = RunReport()

    async def run(self) -> RunReport:
        """Deliver everything due now; return what happened."""
        items = await asyncio.to_thread(self._plan)
        queue: asyncio.Queue[_Item] = asyncio.Queue()
        for item in items:
            queue.put_nowait(item)
        workers = [
            asyncio.create_task(self._worker(queue))
            for _ in range(min(self.config.workers(), len(items)))
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
        return self.report

    # ------------------------------------------------------------------ planning
    def _plan(self) -> list[_Item]:
        now, config = self.clock(), self.config
        items: list[_Item] = []
        with self.sessions() as session, session.begin():
            for row in log_.schedules(session):
                try:
                    at = schedule.parse_time(row.briefing_time or config.default_time)
                    tz = schedule.zone(row.timezone or config.default_timezone)
                except schedule.ScheduleError as exc:
                    log.warning("chat %s: %s; using the defaults", row.chat_id, exc)
                    at = schedule.parse_time(config.default_time)
                    tz = schedule.zone(config.default_timezone)
                decision = schedule.decide(
                    now, at=at, tz=tz, baseline=row.baseline, grace=config.grace,
                    quiet=config.quiet,
                )  # fmt: skip
                if decision.skipped:
                    self.report.skipped += log_.record_skipped(
                        session, row.chat_id, list(decision.skipped), now
                    )
                if decision.waiting:
                    self.report.waiting += 1
                if decision.due:
                    items.append(_Item(row.chat_id, decision.due))
            resumed = log_.reclaimable(session, now, config.lease, self.kind)
        self.report.due, self.report.resumed = len(items), len(resumed)
        return [_Item(delivery_id=delivery_id) for delivery_id in resumed] + items

    # ------------------------------------------------------------------ claiming
    def _claim(self, item: _Item) -> Claim | None:
        now = self.clock()
        with self.sessions() as session, session.begin():
            if item.delivery_id is not None:
                claim = log_.reclaim(session, item.delivery_id, now, self.config.lease)
            else:
                assert item.slot is not None
                claim = log_.claim_new(session, item.chat_id, item.slot, now, self.kind)
        if claim is None or claim.messages or claim.briefing_id is not None:
            return claim
        # compose in a second transaction: the claim is already visible to other workers;
        # a lost connection or a locked store there is retried, not left to the lease
        for attempt in range(1, COMPOSE_ATTEMPTS + 1):
            try:
                with self.sessions() as session, session.begin():
                    composed = self.compose(session, claim.chat_id, now)
                    briefing_id, messages, threads = composed
                    if not log_.attach_briefing(
                        session, claim, briefing_id, messages, now, threads
                    ):
                        raise _LostClaim  # roll the saved briefing back
                return claim
            except _LostClaim:
                self.report.lost_claims += 1
                return None
            except DBAPIError as exc:
                if attempt == COMPOSE_ATTEMPTS or not records.transient(exc):
                    raise
                log.warning("chat %s: composing failed (%s); retrying", claim.chat_id,
                            records.first_line(exc))  # fmt: skip
                time.sleep(self.config.record_delay(attempt))  # a worker thread, not the loop
        return None

    def _write(self, action: Callable[..., bool], *args: Any) -> bool:
        with self.sessions() as session, session.begin():
            ok = action(session, self.clock(), *args)
        if not ok:
            self.report.lost_claims += 1
        return ok

    async def _record(self, action: Callable[..., bool], *args: Any) -> bool:
        """Write ``action(session, now, *args)`` off the loop, retried until it lands
        (bot/delivery_records.py): what Telegram accepted is never left unrecorded."""
        return await records.until_landed(lambda: self._write(action, *args), self.config)

    # ------------------------------------------------------------------ sending
    async def _worker(self, queue: asyncio.Queue[_Item]) -> None:
        while not queue.empty():
            item = queue.get_nowait()
            try:
                await self._deliver(item)
            except DBAPIError as exc:
                if not records.transient(exc):
                    log.exception("delivery of %s failed", item)
                else:  # the claim (if any) is resumed once its lease expires
                    log.warning("delivery of %s: store error (%s)", item, records.first_line(exc))
                self.report.errors.append(f"{item}: {records.first_line(exc)}")
            except Exception as exc:  # a bug must not stop the other chats
                log.exception("delivery of %s failed", item)
                self.report.errors.append(f"{item}: {exc!r}")

    async def _deliver(self, item: _Item) -> None:
        claim = await asyncio.to_thread(self._claim, item)
        if claim is None:
            return
        if not claim.messages:
            await self._finish(claim, log_.EMPTY)
            self.report.empty += 1
            return
        network_failures = flood_waits = migrations = 0
        moved: set[int] = set()  # threads Telegram refused in this run: sent to General
        while claim.messages_sent < len(claim.messages):
            index = claim.messages_sent
            thread = claim.thread(index)
            thread = None if thread in moved else thread
            pause = self.gate.paused_for()
            if pause > self.config.inline_wait():  # never hold a claim through a long wait
                await self._defer(claim, pause, f"flood wait {pause:.0f}s")
                return
            try:
                await self._send(
                    claim.chat_id, claim.messages[index], thread, self._markup(claim, index)
                )
            except RetryAfter as exc:
                self.report.retry_after += 1
                wait = retry_seconds(exc)
                self.gate.pause(wait)
                flood_waits += 1
                if wait > self.config.inline_wait() or flood_waits > MAX_FLOOD_WAITS:
                    await self._defer(claim, wait, f"flood wait {wait:.0f}s")
                    return
                continue
            except Forbidden as exc:
                await self._forbidden(claim, str(exc))
                return
            except ChatMigrated as exc:
                migrations += 1
                if migrations > 2:  # a chain of migrations: something is off, do not loop
                    await self._finish(claim, log_.FAILED, str(exc))
                    return
                await asyncio.to_thread(self._migrate, claim, int(exc.new_chat_id))
                continue
            except BadRequest as exc:  # our text or the chat is wrong: retrying cannot help
                if thread is not None and thread_gone(str(exc)):
                    moved.add(thread)
                    await self._lose_thread(claim, thread, str(exc))
                    continue
                await self._finish(claim, log_.FAILED, str(exc))
                return
            except TimedOut as exc:
                if not _reached_server(exc):
                    network_failures += 1  # never left this machine: as safe as refused
                    if await self._transient(claim, exc, network_failures):
                        continue
                    return
                if claim.error != timed_out(index):  # ambiguous: resend once, in a later run
                    await self._defer(claim, self.config.timeout_defer, timed_out(index))
                    return
                log.warning(
                    "chat %s: message %d timed out again after one resend; counted as sent",
                    claim.chat_id, index + 1,
                )  # fmt: skip
                self.report.assumed_sent += 1
            except NetworkError as exc:  # 5xx, refused, reset: the message was not taken
                network_failures += 1
                if await self._transient(claim, exc, network_failures):
                    continue
                return
            except TelegramError as exc:
                await self._finish(claim, log_.FAILED, str(exc))
                return
            network_failures = flood_waits = 0
            self.report.messages += 1
            if not await self._record(records.progress, claim, index + 1):
                return  # our lease was taken over: the new holder resumes from its record
        if await self._finish(claim, log_.SENT):
            self.report.sent += 1

    async def _transient(self, claim: Claim, exc: NetworkError, failures: int) -> bool:
        """Back off and retry in this run (True), or defer the row to a later run (False).

        A transient error never ends a delivery while its slot's grace period lasts: after
        ``network_retries`` quick retries the row is deferred with a growing delay, and only a
        slot whose grace period is over is recorded as failed.
        """
        if failures <= self.config.network_retries:
            await asyncio.sleep(self.config.backoff * 2 ** (failures - 1))
            return True
        now, deadline = self.clock(), claim.slot + self.config.grace
        if now >= deadline:
            await self._finish(claim, log_.FAILED, f"network: {exc} (grace period over)")
            return False
        delay = min(NETWORK_DEFER_MAX, NETWORK_DEFER * 2 ** max(0, claim.attempts - 1))
        delay = min(delay, max(1.0, (deadline - now).total_seconds()))
        await self._defer(claim, delay, f"network: {exc}")
        return False

    async def _defer(self, claim: Claim, seconds: float, reason: str) -> None:
        until = self.clock() + timedelta(seconds=seconds)
        if await self._record(records.deferral, claim, until, reason):
            self.report.deferred += 1

    def _markup(self, claim: Claim, index: int) -> Any:
        """The reply markup of message ``index`` of a claim (briefings have none)."""
        return None

    async def _send(
        self, chat_id: int, text: str, thread: int | None = None, markup: Any = None
    ) -> None:
        spacing = self.config.private_spacing if chat_id > 0 else self.config.group_spacing
        await self.gate.wait(chat_id, spacing)
        token = PACED.set(True)  # the bot's rate limiter (the same gate) must not wait again
        try:
            await self.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, message_thread_id=thread,
                read_timeout=self.config.send_timeout, write_timeout=self.config.send_timeout,
                reply_markup=markup,
            )  # fmt: skip
        finally:
            PACED.reset(token)
            self.gate.done()

    async def _finish(self, claim: Claim, status: str, error: str | None = None) -> bool:
        if status == log_.FAILED:
            self.report.failed += 1
            log.warning("delivery to chat %s failed: %s", claim.chat_id, error)
        return await self._record(records.finished, claim, status, error)

    async def _forbidden(self, claim: Claim, error: str) -> None:
        ok = await self._record(records.blocked, claim, error)
        self.report.deactivated += 1
        self.report.failed += ok
        log.info("chat %s blocked the bot or removed it: deactivated", claim.chat_id)

    async def _lose_thread(self, claim: Claim, thread: int, error: str) -> None:
        """Switch the refused thread off (once) and tell the group in its General topic."""

        def record() -> routing.LostThread:
            with self.sessions() as session, session.begin():
                return routing.lose_thread(session, claim.chat_id, thread, error, self.clock())

        lost = await asyncio.to_thread(record)
        log.warning("chat %s: thread %s refused (%s); sending to General", claim.chat_id,
                    thread, error)  # fmt: skip
        if not lost.changed:  # switched off already (a resumed delivery): told already
            return
        self.report.lost_threads += 1
        try:
            await self._send(claim.chat_id, lost_thread_notice(self.taxonomy, lost, error))
        except RetryAfter as exc:  # the notice is best effort; the briefing must go on
            self.gate.pause(retry_seconds(exc))
            log.warning("chat %s: lost-thread notice dropped (flood wait)", claim.chat_id)
        except TelegramError as exc:
            log.warning("chat %s: lost-thread notice not sent: %s", claim.chat_id, exc)

    def _migrate(self, claim: Claim, new_chat_id: int) -> None:
        with self.sessions() as session, session.begin():
            chat_state.migrate_chat(session, claim.chat_id, new_chat_id)
        claim.chat_id = new_chat_id
        self.report.migrated += 1
        log.info("chat migrated to %s", new_chat_id)


def timed_out(index: int) -> str:
    """The deferral reason of an ambiguous timeout of message ``index`` (its one resend)."""
    return f"timed out sending message {index + 1}"


def _reached_server(exc: TimedOut) -> bool:
    # a connect or pool timeout never sent the request; a read or write one may have
    return not isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)
