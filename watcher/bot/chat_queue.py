"""Commands handled chat by chat: one chat's flood never delays the others.

python-telegram-bot handles updates one at a time by default, so a chat sending
forty commands (each reply waiting out Telegram's 1 message/s per chat) held
every other chat's commands for minutes. Here each chat's updates run in order,
chats run side by side, and a chat with more than ``PER_CHAT_PENDING`` updates
waiting has the extra ones dropped and is told once, in French, to slow down.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)

PER_CHAT_PENDING = 5  # updates of one chat waiting or running; more are dropped
MAX_CONCURRENT = 64  # updates running at once, all chats together
SLOW_DOWN = (
    "⏳ Doucement : trop de commandes à la fois. Les dernières sont ignorées ; "
    "attendez les réponses puis réessayez."
)

Tell = Callable[[int], Awaitable[object]]


class PerChatProcessor(BaseUpdateProcessor):
    """Runs each chat's updates in order, chats concurrently, with a per-chat limit."""

    def __init__(self, *, per_chat: int = PER_CHAT_PENDING, tell: Tell | None = None) -> None:
        super().__init__(MAX_CONCURRENT)
        self.per_chat = per_chat
        self.tell = tell  # sends SLOW_DOWN to a chat through the gate (set once the bot exists)
        self._pending: Counter[int] = Counter()
        self._locks: dict[int, asyncio.Lock] = {}
        self._told: set[int] = set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # Called holding one of the MAX_CONCURRENT slots: a chat over its limit gives
        # its slot back at once, so one chat holds PER_CHAT_PENDING slots at most.
        chat = (
            update.effective_chat.id
            if isinstance(update, Update) and update.effective_chat
            else None
        )
        if chat is None:
            await coroutine
            return
        if self._pending[chat] >= self.per_chat:
            if hasattr(coroutine, "close"):
                coroutine.close()  # dropped: never run
            await self._slow_down(chat)
            return
        self._pending[chat] += 1
        lock = self._locks.setdefault(chat, asyncio.Lock())
        try:
            async with lock:  # this chat's updates in the order they came
                await coroutine
        finally:
            self._pending[chat] -= 1
            if not self._pending[chat]:  # the chat caught up: forget it
                del self._pending[chat]
                self._locks.pop(chat, None)
                self._told.discard(chat)

    async def _slow_down(self, chat: int) -> None:
        if chat in self._told or self.tell is None:
            return
        self._told.add(chat)
        logger.info("chat %s sends commands faster than they can be answered: told to wait", chat)
        await self.tell(chat)  # through the gate: a 429 is waited once, a failure logged

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
