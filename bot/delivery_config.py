"""What a delivery run is given and what it reports: the composer and sender it calls, its
settings (bot/delivery.py applies them) and the counts of one run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy.orm import Session

from bot.sendgate import GROUP_SPACING
from bot.settings import Settings
from briefings.digest import schedule


class Composed(NamedTuple):
    """A composed briefing: its saved row (if any), its HTML messages ([] = nothing new) and
    the forum thread of each message (None: none is threaded)."""

    briefing_id: int | None
    messages: list[str]
    threads: list[int | None] | None = None


class Composer(Protocol):
    """Compose (and save) one chat's briefing inside the caller's transaction."""

    def __call__(self, session: Session, chat_id: int, now: datetime) -> Composed: ...


class Sender(Protocol):
    """What the deliverer needs of ``telegram.Bot``."""

    async def send_message(
        self, chat_id: int, text: str, *, parse_mode: Any = ..., message_thread_id: Any = ...,
        read_timeout: Any = ..., write_timeout: Any = ..., reply_markup: Any = ...,
    ) -> Any: ...  # fmt: skip


@dataclass(frozen=True)
class DeliveryConfig:
    """Delivery knobs (built from Settings; tests shorten the waits)."""

    default_timezone: str = "UTC"
    default_time: str = "08:00"
    grace: timedelta = timedelta(minutes=120)
    quiet: schedule.QuietHours | None = None
    lease: timedelta = timedelta(seconds=300)
    rate: float = 25.0
    private_spacing: float = 1.0
    group_spacing: float = GROUP_SPACING  # groups and channels: under 20 a minute
    max_inline_wait: float = 30.0  # longer RetryAfter waits defer the row to a later run
    network_retries: int = 3
    backoff: float = 1.0
    concurrency: int = 0  # 0 = derived from the rate
    send_timeout: float = 20.0  # seconds for a send's request and response
    timeout_defer: float = 60.0  # a send that timed out is resent (once) this much later
    record_backoff: float = 0.5  # first wait before retrying a record the store refused

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        """The configuration the settings describe."""
        return cls(
            default_timezone=settings.default_timezone,
            default_time=settings.default_briefing_time,
            grace=timedelta(minutes=settings.catchup_grace_minutes),
            quiet=schedule.parse_quiet_hours(settings.quiet_hours),
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            rate=settings.send_rate_per_second,
        )

    def inline_wait(self) -> float:
        """The longest flood wait sat out inside a send: a fraction of the claim's lease."""
        return min(self.max_inline_wait, self.lease.total_seconds() / 4)

    def record_delay(self, failures: int) -> float:
        """The wait before retrying a refused record: doubling, at most 5 s and a tenth of the
        lease (so it lands, renewing the lease, long before another worker may take it)."""
        longest = max(self.record_backoff, min(5.0, self.lease.total_seconds() / 10))
        return min(longest, self.record_backoff * 2 ** (failures - 1))

    def workers(self) -> int:
        """How many chats are worked on at once."""
        return self.concurrency or max(2, min(64, round(self.rate * 2)))


@dataclass
class RunReport:
    """What one delivery run did."""

    due: int = 0
    resumed: int = 0
    sent: int = 0
    messages: int = 0
    empty: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0
    waiting: int = 0
    lost_claims: int = 0
    retry_after: int = 0
    deactivated: int = 0
    migrated: int = 0
    lost_threads: int = 0  # forum threads Telegram refused (routes switched off)
    assumed_sent: int = 0  # timed out again after their one resend
    errors: list[str] = field(default_factory=list)
