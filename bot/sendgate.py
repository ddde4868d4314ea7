"""Flood control for outgoing messages: an even global pace, a rolling window, per-chat gaps."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

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
