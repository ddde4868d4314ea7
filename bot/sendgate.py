"""Flood control for outgoing messages: an even global pace, a rolling window, per-chat gaps."""

from __future__ import annotations

import asyncio
import math
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

RECOVERY = 0.0005  # per granted send, towards the configured pace
EPSILON = 1e-9  # seconds: float noise when a turn is compared with the clock


class SendGate:
    """Global flood control plus per-chat spacing, shared by every send of a run (asyncio).

    Two rules: an even pace of ``rate`` sends per second, and at most ``floor(rate)`` sends in
    any rolling second *as the server sees them*: a send's slot in the window is freed only
    one second after its response came back. A request reaches the server between its
    dispatch and its response, so no network jitter can squeeze more than ``floor(rate)``
    sends into one second of server time; the pace stays within a few percent of ``rate``.

    Two lanes share those rules. Scheduled sends (deliveries, alerts) book their turns in
    order; an *urgent* send (a reply to a user) books none: it takes the next free turn, and
    no scheduled send is granted while an urgent one is ready and waiting. So a reply waits
    for at most one pace interval and a window slot, never behind the queued fan-out.
    Every rule is checked again when a send is granted, whoever booked what.
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate  # every process's together when several share it (set_share)
        self.interval = self._fastest = 1.0 / rate
        self._slowest = 4.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = 0.0  # the next turn a scheduled send may book
        self._last = -math.inf  # when the last send was granted
        self._urgent_ready = 0  # urgent sends waiting for nothing but a free turn
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}
        self._slots = max(1, math.floor(rate))  # sends per rolling second
        self._in_flight = 0
        self._frees_at: deque[float] = deque()  # when finished sends leave the window

    def _busy(self, now: float) -> int:
        while self._frees_at and self._frees_at[0] <= now:
            self._frees_at.popleft()
        return self._in_flight + len(self._frees_at)

    def _held(self, chat_id: int) -> float:
        """Until when a flood wait or the chat's spacing holds a send to ``chat_id``."""
        return max(self._paused_until, self._chat_next.get(chat_id, 0.0))

    async def wait(self, chat_id: int, spacing: float, *, urgent: bool = False) -> None:
        """Wait for this send's turn; call :meth:`done` when its response is back.

        Args:
            chat_id: the chat it posts to (``spacing`` seconds after its previous send).
            spacing: the gap to the chat's next send.
            urgent: a reply to a user: ahead of every scheduled send (see the class).
        """
        booked: float | None = None  # a scheduled send's turn
        ready = False  # an urgent send counted in _urgent_ready: only the pace holds it
        try:
            while True:
                now = self._clock()
                held = self._held(chat_id)
                if urgent and not ready and held <= now + EPSILON:
                    ready = True
                    self._urgent_ready += 1
                turn = max(now, held, self._last + self.interval)
                if not urgent and (booked is None or booked < self._paused_until):
                    booked = max(turn, self._next)  # (booked again after a flood wait)
                    self._next = booked + self.interval
                if booked is not None:
                    turn = max(turn, booked)
                if turn > now + EPSILON:
                    await self._sleep(turn - now)
                    continue
                if self._busy(now) >= self._slots:
                    await self._sleep(self._frees_at[0] - now if self._frees_at else 0.005)
                    continue
                if not urgent and self._urgent_ready:  # a reply goes first
                    await self._sleep(self.interval)
                    continue
                break
        finally:
            if ready:
                self._urgent_ready -= 1
        self._last = now
        self._chat_next[chat_id] = now + spacing
        self._in_flight += 1
        if self.interval > self._fastest:  # creep back after a flood-wait slowdown
            self.interval = max(self._fastest, self.interval * (1 - RECOVERY))

    def done(self) -> None:
        """The send's response (or error) is back: its window slot frees in one second."""
        self._in_flight -= 1
        self._frees_at.append(self._clock() + 1.0)

    def pause(self, seconds: float) -> None:
        """Hold every send for ``seconds`` (Telegram's flood wait is per bot) and slow down.

        Each flood wait also lowers the pace by 5% (down to a quarter of the configured rate);
        every send granted afterwards wins back 0.05% of it, so an occasional 429 costs
        little, and a rate set above what Telegram allows hovers just under it.
        """
        now = self._clock()
        if now >= self._paused_until:  # a new flood wait, not another reply to the same one
            self.interval = min(self.interval * 1.05, self._slowest)
        until = now + seconds
        if until > self._paused_until:
            self._paused_until = until
            # turns already handed out beyond ``until`` stay valid: never move the pace back
            self._next = max(self._next, until)

    def paused_for(self) -> float:
        """Seconds until a flood wait in force ends (0 when none is)."""
        return max(0.0, self._paused_until - self._clock())

    def set_share(self, replicas: int) -> None:
        """Send at this process's part of ``rate`` while ``replicas`` processes share it.

        Both rules shrink: the pace and the sends in any rolling second (at once, for turns
        already handed out too); a flood-wait slowdown in force carries over.
        """
        fastest, self._slots = share_of(self.rate, replicas)
        self.interval *= fastest / self._fastest
        self._fastest, self._slowest = fastest, 4.0 * fastest

    def hold(self, seconds: float) -> None:
        """Hand out no turn for ``seconds`` (unlike :meth:`pause`, not a flood wait)."""
        self._next = max(self._next, self._clock() + seconds)


def share_of(rate: float, replicas: int) -> tuple[float, int]:
    """One of ``replicas`` processes' part of a global ``rate``: (seconds between its sends,
    its sends in any rolling second). The parts add up to at most ``rate`` in any second
    while ``replicas`` <= ``rate`` (storage/replicas.py allows no more processes)."""
    share = rate / max(1, replicas)
    return 1.0 / share, max(1, math.floor(share))


JSONDict = dict[str, Any]
PACED: ContextVar[bool] = ContextVar("briefbot_paced", default=False)  # caller waited already
GATED_PREFIXES = ("send", "edit", "copy", "forward")  # methods that post into a chat
HANDLER_RETRY_LIMIT = 5.0  # a reply flood-waited at most this long is retried once


# Telegram allows about 20 messages a minute in one group or channel: 3 s apart would sit
# exactly on that limit, where a request arriving a little late tips the server's window over
GROUP_SPACING = 3.2


def chat_spacing(chat_id: int, private: float = 1.0, group: float = GROUP_SPACING) -> float:
    """Telegram's per-chat gap: about one message a second in private chats, 20 a minute in
    groups and channels (every negative chat id: basic groups, supergroups, channels)."""
    return private if chat_id > 0 else group


class GateRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """PTB's rate limiter as a :class:`SendGate`: the one flood control for every send.

    Replies from handlers wait for their turn here, in the gate's urgent lane (ahead of
    queued deliveries), and are retried once after a short flood wait. The deliverer waits
    on the same gate itself (so it can defer instead of holding its claim) and marks its
    sends with :data:`PACED`; for them a ``RetryAfter`` only pauses the gate and goes back
    to the deliverer, which decides: retry, or defer the row.
    """

    def __init__(self, rate: float) -> None:
        self.gate = SendGate(rate)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Pace chat-posting calls through the gate; pause it on every flood wait."""
        chat_id = data.get("chat_id")
        if not isinstance(chat_id, int) or not endpoint.lower().startswith(GATED_PREFIXES):
            return await callback(*args, **kwargs)
        if PACED.get():
            return await self._call(callback, args, kwargs)
        for attempt in (1, 2):
            # a reply answers the user now, ahead of the scheduled sends; only groups
            # (about 20 a minute) are spaced
            spacing = 0.0 if chat_id > 0 else chat_spacing(chat_id)
            await self.gate.wait(chat_id, spacing, urgent=True)
            try:
                return await self._call(callback, args, kwargs)
            except RetryAfter as exc:
                if attempt == 2 or retry_seconds(exc) > HANDLER_RETRY_LIMIT:
                    raise
            finally:
                self.gate.done()
        raise AssertionError("unreachable")

    async def _call(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> bool | JSONDict | list[JSONDict]:
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            self.gate.pause(retry_seconds(exc))  # Telegram's flood wait is per bot
            raise


def retry_seconds(exc: RetryAfter) -> float:
    """A ``RetryAfter``'s wait in seconds (int or timedelta, without the deprecation noise)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
