"""Send instant alerts and backlogs through the briefing delivery log (bot/delivery.py).

An alert batch is a briefing row (``kind="alert"``) with a delivery row (``kind="alert"``)
whose slot is the batch's time: it is claimed before anything is sent, its messages are
recorded as Telegram accepts them, a crashed worker's claim is resumed after its lease,
and sends go through the one flood control (the process's SendGate). Composing a batch
takes the chat's queued stories (``storage.alerts.take_queued``: one taker per row) and
records them as sent, so they never come again, in an alert or in the daily briefing.

Per chat: at most ``alerts_per_hour`` alert batches in any rolling hour, and none during
the quiet hours (``QUIET_HOURS``, the chat's local time); held stories wait in the queue and
go out together, batched, once allowed. A backlog (what a new subscription missed today)
answers the user's own command, so it is neither held nor capped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.context import AppContext
from bot.delivery import Composed, Deliverer, DeliveryConfig, RunReport, Sender, _Item
from bot.render import alert_messages
from bot.sendgate import GateRateLimiter, SendGate
from bot.settings import Settings
from briefings.alerts.service import MatchReport, alert_entries, match_new_articles
from briefings.digest import schedule
from storage import alerts, routing
from storage import briefings as stored
from storage import deliveries as log_
from storage.deliveries import Claim

MORE_PREFIX = "alertmore:"
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class AlertConfig:
    """Alert knobs (from Settings)."""

    per_hour: int = 6
    batch: int = 5
    quiet: schedule.QuietHours | None = None
    default_timezone: str = "UTC"

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertConfig:
        """The alert configuration the settings describe."""
        return cls(
            per_hour=settings.alerts_per_hour,
            batch=settings.alert_batch_stories,
            quiet=schedule.parse_quiet_hours(settings.quiet_hours),
            default_timezone=settings.default_timezone,
        )

    def quiet_now(self, now: datetime, timezone: str | None) -> bool:
        """Whether ``now`` is inside the quiet hours in the chat's zone."""
        if self.quiet is None:
            return False
        tz = schedule.zone_or_none(timezone or self.default_timezone) or schedule.zone("UTC")
        return self.quiet.contains(now.astimezone(tz).time())


class AlertDeliverer(Deliverer):
    """One alert run: batch each chat's queued stories into one claimed delivery and send it."""

    kind = log_.ALERT

    def __init__(
        self,
        bot: Sender,
        sessions: sessionmaker[Session],
        config: DeliveryConfig,
        alert: AlertConfig,
        *,
        clock: Callable[[], datetime] | None = None,
        gate: SendGate | None = None,
        chat_ids: Collection[int] | None = None,
    ) -> None:
        super().__init__(bot, sessions, self._compose, config, clock=clock, gate=gate)
        self.alert = alert
        self.only = None if chat_ids is None else set(chat_ids)
        self._reasons: dict[int, tuple[str, ...]] = {}  # what each planned chat may take
        self._hidden: dict[int, int] = {}  # delivery id -> stories behind the "more" button
        self._composed: dict[int, int] = {}  # briefing id -> its stories (composed this run)

    def _plan(self) -> list[_Item]:
        now = self.clock()
        # the batch's slot: never a whole second, so never a daily slot of the chat's too
        slot = now if now.microsecond else now + timedelta(microseconds=1)
        items: list[_Item] = []
        with self.sessions() as session, session.begin():
            queued = alerts.queued_chats(session)
            if self.only is not None:
                queued = {cid: why for cid, why in queued.items() if cid in self.only}
            zones = alerts.chat_zones(session, queued)
            for chat_id, reasons in sorted(queued.items()):
                allowed = {alerts.BACKLOG} & reasons
                if alerts.ALERT in reasons and self._may_alert(session, chat_id, zones, now):
                    allowed.add(alerts.ALERT)
                if not allowed:
                    self.report.waiting += 1
                    continue
                self._reasons[chat_id] = tuple(sorted(allowed))
                items.append(_Item(chat_id, slot))
            resumed = log_.reclaimable(session, now, self.config.lease, self.kind)
        self.report.due, self.report.resumed = len(items), len(resumed)
        return [_Item(delivery_id=delivery_id) for delivery_id in resumed] + items

    def _may_alert(
        self, session: Session, chat_id: int, zones: dict[int, str | None], now: datetime
    ) -> bool:
        if self.alert.quiet_now(now, zones.get(chat_id)):
            return False
        return alerts.alerts_since(session, chat_id, now - HOUR) < self.alert.per_hour

    def _compose(self, session: Session, chat_id: int, now: datetime) -> Composed:
        reasons = self._reasons.get(chat_id, (alerts.ALERT, alerts.BACKLOG))
        queued = alerts.take_queued(session, chat_id, reasons)
        entries = alert_entries(session, [(q.story_id, q.article_id) for q in queued])
        if not entries:
            return Composed(None, [])
        backlog = all(q.reason == alerts.BACKLOG for q in queued)
        messages = alert_messages(entries, shown=self.alert.batch, backlog=backlog)
        briefing = stored.save_briefing(
            session, chat_id, since=min(q.queued_at for q in queued),
            story_ids=[entry.story_id for entry in entries], messages=messages, now=now,
            kind=stored.ALERT,
        )  # fmt: skip
        self._composed[briefing.id] = len(entries)
        thread = routing.routing(session, chat_id).default_thread  # a forum's briefing thread
        if thread is not None:
            briefing.threads = [thread] * len(messages)
        return Composed(briefing.id, messages, briefing.threads)

    def _claim(self, item: _Item) -> Claim | None:
        claim = super()._claim(item)
        if claim is not None and claim.briefing_id is not None:
            count = self._composed.get(claim.briefing_id)
            if count is None:  # a resumed batch: read how many stories it holds
                with self.sessions() as session:
                    stories = alerts.alert_story_ids(session, claim.chat_id, claim.briefing_id)
                count = len(stories or ())
            self._hidden[claim.delivery_id] = max(0, count - self.alert.batch)
        return claim

    def _markup(self, claim: Claim, index: int) -> Any:
        hidden = self._hidden.get(claim.delivery_id, 0)
        if hidden <= 0 or index != len(claim.messages) - 1:
            return None
        button = InlineKeyboardButton(
            f"Show {hidden} more", callback_data=f"{MORE_PREFIX}{claim.briefing_id}"
        )
        return InlineKeyboardMarkup([[button]])


def match_now(sessions: sessionmaker[Session], now: datetime) -> MatchReport:
    """Queue alerts for newly ingested articles in one transaction (cursor and queue)."""
    with sessions() as session, session.begin():
        return match_new_articles(session, now)


async def send_alerts(
    bot: Any, ctx: AppContext, *, chat_ids: Collection[int] | None = None
) -> RunReport:
    """Send the queued alerts and backlogs that may go now, as ``briefbot run`` wires it."""
    limiter = getattr(bot, "rate_limiter", None)
    deliverer = AlertDeliverer(
        bot,
        ctx.sessions,
        DeliveryConfig.from_settings(ctx.settings),
        AlertConfig.from_settings(ctx.settings),
        gate=limiter.gate if isinstance(limiter, GateRateLimiter) else None,  # one flood control
        chat_ids=chat_ids,
    )
    return await deliverer.run()
