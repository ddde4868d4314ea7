"""The delivery log: one row per (chat, briefing slot), claimed before sending, marked after.

Statuses: ``claimed`` (a worker holds it; ``claim_token`` says which), ``retry`` (flood-waited:
resend from ``messages_sent`` at ``next_attempt_at``), ``sent``, ``empty`` (nothing new to
send), ``failed`` (gave up; ``error`` says why) and ``skipped`` (missed during downtime, never
sent). New slots are claimed by ``INSERT … ON CONFLICT DO NOTHING`` on the (chat, slot)
unique constraint, so two workers can never both own a slot; stale or deferred rows are
re-claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL) and a compare-and-set
``UPDATE`` on the row as read, whose row count says who won (SQLite too).
Every later write checks the claim token, so a worker whose lease was taken over stops.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from storage.models import Briefing, Chat, Delivery, Subscription

CLAIMED = "claimed"
RETRY = "retry"
SENT = "sent"
EMPTY = "empty"
FAILED = "failed"
SKIPPED = "skipped"
PENDING = (CLAIMED, RETRY)
MAX_ATTEMPTS = 10
TERMINAL_CHAT = 0  # the terminal chat's id: never a Telegram chat, never scheduled
BRIEFING, ALERT = "briefing", "alert"  # Delivery.kind: a daily slot, or an alert batch


@dataclass(frozen=True)
class ChatSchedule:
    """A subscribed, active chat's delivery preferences and its settled-up-to instant."""

    chat_id: int
    timezone: str | None
    briefing_time: str | None
    baseline: datetime  # its newest recorded slot, else when it first subscribed


@dataclass
class Claim:
    """A delivery row this worker owns (until its lease expires)."""

    delivery_id: int
    chat_id: int
    slot: datetime
    token: str
    briefing_id: int | None = None
    messages_sent: int = 0
    messages: list[str] = field(default_factory=list)
    attempts: int = 1  # claims of this row so far, this one included
    error: str | None = None  # why it was last deferred (e.g. a send timed out)
    threads: list[int | None] | None = None  # forum thread of each message (None: none)

    def thread(self, index: int) -> int | None:
        """The forum thread message ``index`` goes to (None: the chat itself / General)."""
        return self.threads[index] if self.threads and index < len(self.threads) else None


def new_token() -> str:
    """A fresh random claim token."""
    return secrets.token_hex(8)


def schedules(session: Session) -> list[ChatSchedule]:
    """Every active Telegram chat with at least one subscription, with its baseline.

    Args:
        session: the caller's transaction.
    """
    subs = (
        select(Subscription.chat_id, func.min(Subscription.created_at).label("first"))
        .group_by(Subscription.chat_id)
        .subquery()
    )
    last = (
        select(Delivery.chat_id, func.max(Delivery.slot).label("last"))
        .where(Delivery.kind == BRIEFING)  # alert batches do not settle daily slots
        .group_by(Delivery.chat_id)
        .subquery()
    )
    rows = session.execute(
        select(Chat.id, Chat.timezone, Chat.briefing_time, subs.c.first, last.c.last)
        .join(subs, subs.c.chat_id == Chat.id)
        .outerjoin(last, last.c.chat_id == Chat.id)
        .where(Chat.active.is_(True), Chat.id != TERMINAL_CHAT)
        .order_by(Chat.id)
    )
    out = []
    for chat_id, tz, at, first, newest in rows:
        baseline = max(_aware(first), _aware(newest)) if newest is not None else _aware(first)
        out.append(ChatSchedule(chat_id, tz, at, baseline))
    return out


def _aware(value: Any) -> datetime:
    # aggregates over UTCDateTime come back typed on both engines; be lenient with strings
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Delivery)


def record_skipped(session: Session, chat_id: int, slots: list[datetime], now: datetime) -> int:
    """Record missed slots as skipped (never sent); slots already recorded are left alone.

    Args:
        session: the caller's transaction.
        chat_id: the chat.
        slots: the missed slots (aware).
        now: the current instant.
    """
    count = 0
    for slot in slots:
        values = {
            "chat_id": chat_id, "slot": slot, "status": SKIPPED, "attempts": 0,
            "messages_sent": 0, "claimed_at": now, "error": "missed while the bot was down",
        }  # fmt: skip
        statement = (
            _insert(session)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["chat_id", "slot"])
            .returning(Delivery.id)
        )
        count += session.execute(statement).first() is not None
    return count


def claim_new(
    session: Session, chat_id: int, slot: datetime, now: datetime, kind: str = BRIEFING
) -> Claim | None:
    """Claim a slot nobody has touched yet; None when a row for it already exists.

    Args:
        session: the caller's transaction (commit it before sending anything).
        chat_id: the chat.
        slot: the slot (aware).
        now: the current instant.
        kind: BRIEFING (a daily slot) or ALERT (an alert batch; its slot is its time).
    """
    token = new_token()
    values = {
        "chat_id": chat_id, "slot": slot, "status": CLAIMED, "attempts": 1, "messages_sent": 0,
        "claimed_at": now, "claim_token": token, "kind": kind,
    }  # fmt: skip
    statement = (
        _insert(session)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["chat_id", "slot"])
        .returning(Delivery.id)
    )
    row = session.execute(statement).first()
    return Claim(int(row[0]), chat_id, slot, token) if row is not None else None


def _reclaimable(now: datetime, lease: timedelta) -> Any:
    return or_(
        and_(Delivery.status == RETRY, Delivery.next_attempt_at <= now),
        and_(Delivery.status == CLAIMED, Delivery.claimed_at < now - lease),
    )


def reclaimable(
    session: Session, now: datetime, lease: timedelta, kind: str | None = None
) -> list[int]:
    """Ids of rows to take over: due retries, and claims whose holder went quiet.

    Args:
        session: the caller's transaction.
        now: the current instant.
        lease: how long a claim may go without progress before it is presumed dead.
        kind: only rows of this kind (BRIEFING or ALERT); None = every row.
    """
    query = select(Delivery.id).where(_reclaimable(now, lease)).order_by(Delivery.slot)
    if kind is not None:
        query = query.where(Delivery.kind == kind)
    return list(session.scalars(query))


def reclaim(
    session: Session,
    delivery_id: int,
    now: datetime,
    lease: timedelta,
    max_attempts: int = MAX_ATTEMPTS,
) -> Claim | None:
    """Take over one reclaimable row (skipping it if another worker holds its lock).

    Args:
        session: the caller's transaction (commit it before sending anything).
        delivery_id: a row from :func:`reclaimable`.
        now: the current instant.
        lease: as for :func:`reclaimable`; the condition is re-checked under the lock.
        max_attempts: a stale claim taken over this often already is marked failed instead
            (a briefing that crashes its worker every time must not be retried forever);
            deliberately deferred rows (flood waits, network errors) are not counted.
    """
    row = session.scalars(
        select(Delivery)
        .where(Delivery.id == delivery_id, _reclaimable(now, lease))
        .with_for_update(skip_locked=True)
    ).first()
    if row is None:
        return None
    if row.status == CLAIMED and row.attempts >= max_attempts:
        row.status, row.claim_token = FAILED, None
        row.error = f"gave up after {row.attempts} attempts ({row.error or 'worker lost'})"
        return None
    token = new_token()
    # compare-and-set on what we read: exclusive on SQLite too, where FOR UPDATE does nothing
    taken = session.execute(
        update(Delivery)
        .where(
            Delivery.id == row.id,
            Delivery.status == row.status,
            Delivery.attempts == row.attempts,
            _same_token(row.claim_token),
            _reclaimable(now, lease),
        )
        .values(status=CLAIMED, claim_token=token, claimed_at=now, attempts=row.attempts + 1,
                next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if _rowcount(taken) != 1:
        return None  # another worker took it over between our read and our write
    session.refresh(row)
    messages: list[str] = []
    threads: list[int | None] | None = None
    if row.briefing_id is not None:
        briefing = session.get(Briefing, row.briefing_id)
        messages = list(briefing.messages) if briefing is not None else []
        threads = list(briefing.threads) if briefing is not None and briefing.threads else None
    session.flush()
    return Claim(
        row.id, row.chat_id, row.slot, token, row.briefing_id, row.messages_sent, messages,
        row.attempts, row.error, threads,
    )  # fmt: skip


def _same_token(token: str | None) -> Any:
    return Delivery.claim_token.is_(None) if token is None else Delivery.claim_token == token


def _owned(claim: Claim) -> Any:
    return and_(Delivery.id == claim.delivery_id, Delivery.claim_token == claim.token)


def attach_briefing(
    session: Session,
    claim: Claim,
    briefing_id: int | None,
    messages: list[str],
    now: datetime,
    threads: list[int | None] | None = None,
) -> bool:
    """Remember the briefing composed for a claim (so a retry resends the same text).

    Args:
        session: the caller's transaction (the one that saved the briefing).
        claim: the claim.
        briefing_id: the saved briefing, if the composer saved one.
        messages: its messages; stored on the briefing row.
        now: the current instant (renews the lease).
        threads: the forum thread of each message (None: none is threaded); stored too.

    Returns False when the claim was lost (nothing is changed then).
    """
    if briefing_id is not None:
        briefing = session.get(Briefing, briefing_id)
        if briefing is not None and list(briefing.messages) != messages:
            briefing.messages = list(messages)
        if briefing is not None and (briefing.threads or None) != (threads or None):
            briefing.threads = list(threads) if threads else None
    result = session.execute(
        update(Delivery).where(_owned(claim)).values(briefing_id=briefing_id, claimed_at=now)
    )
    claim.briefing_id, claim.messages = briefing_id, list(messages)
    claim.threads = list(threads) if threads else None
    return _rowcount(result) == 1


def record_progress(session: Session, claim: Claim, messages_sent: int, now: datetime) -> bool:
    """Record that the first ``messages_sent`` messages were accepted (renews the lease).

    Args:
        session: the caller's transaction; commit right away.
        claim: the claim.
        messages_sent: how many of the briefing's messages Telegram accepted so far.
        now: the current instant.

    Returns False when the claim was lost.
    """
    result = session.execute(
        update(Delivery).where(_owned(claim)).values(messages_sent=messages_sent, claimed_at=now)
    )
    claim.messages_sent = messages_sent
    return _rowcount(result) == 1


def finish(
    session: Session, claim: Claim, status: str, now: datetime, error: str | None = None
) -> bool:
    """Close a claim as sent, empty or failed.

    Args:
        session: the caller's transaction.
        claim: the claim.
        status: SENT, EMPTY or FAILED.
        now: the current instant (``sent_at`` for SENT).
        error: why it failed.

    Returns False when the claim was lost.
    """
    values: dict[str, Any] = {"status": status, "error": error, "claim_token": None}
    if status in (SENT, EMPTY):
        values["sent_at"] = now
    result = session.execute(update(Delivery).where(_owned(claim)).values(**values))
    return _rowcount(result) == 1


def defer(session: Session, claim: Claim, until: datetime, error: str) -> bool:
    """Release a claim to be resumed at ``until`` (flood wait); progress is kept.

    Args:
        session: the caller's transaction.
        claim: the claim.
        until: when to try again.
        error: why it was deferred.
    """
    result = session.execute(
        update(Delivery)
        .where(_owned(claim))
        .values(status=RETRY, next_attempt_at=until, error=error, claim_token=None)
    )
    return _rowcount(result) == 1


def prune(session: Session, before: datetime) -> tuple[int, int]:
    """Delete deliveries whose slot and briefings whose creation is before ``before``.

    Args:
        session: the caller's transaction.
        before: the retention cut-off.

    Returns (deliveries, briefings) deleted. Pending deliveries are kept.
    """
    deliveries = session.execute(
        delete(Delivery).where(Delivery.slot < before, Delivery.status.not_in(PENDING))
    )
    briefings = session.execute(delete(Briefing).where(Briefing.created_at < before))
    return _rowcount(deliveries), _rowcount(briefings)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
