"""How incoming updates are processed: chats side by side, each chat's updates in order.

PTB's default handles one update at a time, so one user's slow ``/brief`` held up every other
chat's reply. :class:`ChatOrderedUpdates` runs updates of different chats concurrently (up
to a bound) and one chat's updates strictly in the order they came: ``/subscribe`` and then
``/brief`` still see each other's effects, and a button press is handled after the message
that showed it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 64


def chat_key(update: object) -> int | None:
    """The chat an update belongs to (None: updates with no chat share one queue)."""
    if isinstance(update, Update):
        chat = update.effective_chat
        if chat is not None:
            return chat.id
        user = update.effective_user
        if user is not None:  # inline queries and the like: per user
            return user.id
    return None


class ChatOrderedUpdates(BaseUpdateProcessor):
    """Concurrent across chats, in order within a chat (one lock per busy chat)."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: dict[int | None, tuple[asyncio.Lock, int]] = {}  # lock, users of it

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await ``coroutine`` once the chat's earlier updates are done."""
        key = chat_key(update)
        lock, users = self._chats.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._chats[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._chats[key]
            if users == 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
