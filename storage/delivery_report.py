"""The delivery log read back for people: /stats and ``briefbot deliveries`` (one UTC day)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.deliveries import BRIEFING, CLAIMED, EMPTY, FAILED, RETRY, SENT, SKIPPED
from storage.models import Delivery


@dataclass(frozen=True)
class DeliveryCounts:
    """Deliveries by status over a period (pending = claimed or waiting to retry)."""

    sent: int = 0
    failed: int = 0
    pending: int = 0
    skipped: int = 0
    empty: int = 0


def day_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The UTC day containing ``now`` as [start, end).

    Args:
        now: any aware instant.
    """
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def delivery_counts(
    session: Session, start: datetime, end: datetime, kind: str = BRIEFING
) -> DeliveryCounts:
    """Count deliveries by status for slots in [start, end) (for /stats: use day_bounds).

    Args:
        session: the caller's transaction.
        start: inclusive lower bound on the slot.
        end: exclusive upper bound on the slot.
        kind: BRIEFING (daily slots) or ALERT (alert batches).
    """
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.slot >= start, Delivery.slot < end, Delivery.kind == kind)
        .group_by(Delivery.status)
    )
    by = {status: int(count) for status, count in rows}
    return DeliveryCounts(
        sent=by.get(SENT, 0),
        failed=by.get(FAILED, 0),
        pending=by.get(CLAIMED, 0) + by.get(RETRY, 0),
        skipped=by.get(SKIPPED, 0),
        empty=by.get(EMPTY, 0),
    )


def deliveries_between(session: Session, start: datetime, end: datetime) -> list[Delivery]:
    """Deliveries whose slot is in [start, end), by slot then chat.

    Args:
        session: the caller's transaction.
        start: inclusive lower bound on the slot.
        end: exclusive upper bound on the slot.
    """
    query = (
        select(Delivery)
        .where(Delivery.slot >= start, Delivery.slot < end)
        .order_by(Delivery.slot, Delivery.chat_id)
    )
    return list(session.scalars(query))
