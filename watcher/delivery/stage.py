"""The delivery stage as the runtime sees it: drain the outbox to one target.

The runtime wakes the stage when a poll queued alerts; the stage also looks
every second (for alerts whose retry time came) and sends the daily digests.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from watcher.bot.settings import TelegramSettings
from watcher.config import Config
from watcher.delivery.console import deliver_to_console
from watcher.errors import DeliveryError

if TYPE_CHECKING:
    from watcher.runtime import Service

logger = logging.getLogger(__name__)
TICK_SECONDS = 1.0


class DeliveryStage:
    """Sends what the outbox holds for one target, whenever woken or every second."""

    def __init__(self, service: "Service") -> None:
        self.service = service
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def reconfigure(self, config: Config) -> None:
        """A reload: later renderings use the new labels and names."""

    async def flush(self, *, settle: float = 0.0) -> None:
        raise NotImplementedError

    async def deliver_forever(self) -> None:
        while not self.service.stopping:
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if getattr(exc, "fatal", False):
                    raise
                logger.error("delivery failed, retrying: %s", exc, exc_info=True)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)

    def tasks(self, service: "Service") -> list[Callable[[], Awaitable[None]]]:
        return [self.deliver_forever]

    async def close(self) -> None:
        """Release what the target holds (HTTP clients)."""


class ConsoleStage(DeliveryStage):
    async def flush(self, *, settle: float = 0.0) -> None:
        service = self.service
        await service.blocking(deliver_to_console, service.config, service.store, service.out)


def console_stage(service: "Service") -> DeliveryStage:
    return ConsoleStage(service)


class TelegramStage(DeliveryStage):
    def __init__(self, service: "Service", settings: TelegramSettings) -> None:
        from watcher.bot.sender import OutboxSender
        from watcher.bot.wiring import build_application

        super().__init__(service)
        self.application = build_application(service, settings)
        self.sender = OutboxSender(self.application.bot, service.store, service.config)

    def reconfigure(self, config: Config) -> None:
        self.sender.config = config

    async def reachable(self) -> bool:
        """For a one-shot ``watcher poll``: is the Bot API there, and is the token good?"""
        from telegram.error import InvalidToken, NetworkError

        from watcher.bot.wiring import INVALID_TOKEN

        try:
            await self.application.bot.get_me()
        except InvalidToken:
            raise DeliveryError(INVALID_TOKEN) from None
        except NetworkError as exc:
            logger.warning(
                "Telegram Bot API unreachable (%s): alerts stay in the outbox for the next run",
                exc.message,
            )
            return False
        return True

    async def flush(self, *, settle: float = 0.0) -> None:
        stats = await self.sender.drain(settle=settle)
        await self.sender.send_digests(datetime.now(UTC))
        if stats.sent or stats.failed:
            logger.info(
                "telegram: %d sent, %d to retry, %d failed", stats.sent, stats.retried, stats.failed
            )

    async def close(self) -> None:
        from watcher.bot.wiring import close_requests

        await close_requests(self.application)

    def tasks(self, service: "Service") -> list[Callable[[], Awaitable[None]]]:
        from watcher.bot.wiring import serve_bot

        return [self.deliver_forever, lambda: serve_bot(self.application, service)]
