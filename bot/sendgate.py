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


class SendGate:
    """Global flood control plus per-chat spacing, shared by every send of a run (asyncio).

    Two rules: an even pace of ``rate`` sends per second, and at most ``floor(rate)`` sends in
    any rolling second *as the server sees them*: a send's slot in the window is freed only
    one second after its response came back. A request reaches the server between its
    dispatch and its response, so no network jitter can squeeze more than ``floor(rate)``
    sends into one second of server time; the pace stays within a few percent of ``rate``.
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
        self._next = 0.0
        self._paused_until = 0.0
        self._chat_next: dict[int, float] = {}
        self._slots = max(1, math.floor(rate))  # sends per rolling second
        self._in_flight = 0
        self._frees_at: deque[float] = deque()  # when finished sends leave the window

    def _busy(self, now: float) -> int:
        while self._frees_at and self._frees_at[0] <= now:
            self._frees_at.popleft()
        return self._in_flight + len(self._frees_at)

    async def wait(self, chat_id: int, spacing: float) -> None:
        """Wait for this send's turn; call :meth:`done` when its response is back."""
        while True:
            now = self._clock()
            turn = max(now, self._next, self._paused_until, self._chat_next.get(chat_id, 0.0))
            self._next = turn + self.interval
            self._chat_next[chat_id] = turn + spacing
            if turn > now:
                await self._sleep(turn - now)
            while self._busy(now := self._clock()) >= self._slots:
                await self._sleep(self._frees_at[0] - now if self._frees_at else 0.005)
            if self._paused_until <= now:  # no flood wait started while we waited
                break
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

    Replies from handlers wait for their turn here and are retried once after a short flood
    wait. The deliverer waits on the same gate itself (so it can defer instead of holding its
    claim) and marks its sends with :data:`PACED`; for them a ``RetryAfter`` only pauses the
    gate and goes back to the deliverer, which decides: retry, or defer the row.
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
            # a reply answers the user now; only groups (about 20 a minute) are spaced
            await self.gate.wait(chat_id, 0.0 if chat_id > 0 else chat_spacing(chat_id))
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
