"""The delivery stage as the runtime sees it: a ``Deliverer`` woken by polls and every second.

The runtime wakes the stage when a poll queued alerts; the stage also looks
every second (for alerts whose retry time came) and sends the daily digests.
Its blocking calls run in the runtime's executor (``Service.blocking``).
"""

import asyncio
import contextlib
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from watcher.bot.settings import TelegramSettings
from watcher.config import Config
from watcher.delivery.base import Target
from watcher.delivery.console import ConsoleTarget
from watcher.delivery.deliverer import Deliverer, NotifyMaintainers
from watcher.delivery.outcome import RETRY_MIN
from watcher.errors import DeliveryError
from watcher.store.space import FullDiskLog, StorageFull

if TYPE_CHECKING:
    from watcher.runtime import Service

logger = logging.getLogger(__name__)
TICK_SECONDS = 1.0
# A full disk is waited out, looking again this often at most (doubling from a tick).
FULL_DISK_RETRY_MAX = 10.0


def deliverer(
    service: "Service", targets: Sequence[Target], notify: NotifyMaintainers | None = None
) -> Deliverer:
    backoff = service.config.settings.delivery_backoff
    return Deliverer(
        service.store,
        service.config,
        targets,
        run_blocking=service.blocking,
        preferences=service.subscribers.preferences,  # /reglages
        notify_maintainers=notify,
        retry_min=min(RETRY_MIN, backoff),
        retry_max=backoff,
    )


class DeliveryStage:
    """Sends what the outbox holds for its targets, whenever woken or every second."""

    def __init__(self, service: "Service", sender: Deliverer) -> None:
        self.service = service
        self.sender = sender
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def reconfigure(self, config: Config) -> None:
        """A reload: later renderings use the new labels and names."""
        self.sender.config = config

    async def flush(self, *, settle: float = 0.0) -> None:
        stats = await self.sender.drain(settle=settle)
        await self.sender.send_digests(datetime.now(UTC))
        if stats.messages or stats.failed:
            logger.info(
                "delivery: %d alert(s) sent in %d message(s), %d to retry, %d failed for good",
                stats.sent,
                stats.messages,
                stats.retried,
                stats.failed,
            )

    async def deliver_forever(self) -> None:
        full_disk = FullDiskLog("delivery")
        wait = TICK_SECONDS
        while not self.service.stopping:
            try:
                await self.flush()
                full_disk.succeeded()
                wait = TICK_SECONDS
            except asyncio.CancelledError:
                raise
            except StorageFull as exc:  # a pause: said once, looked at again later
                full_disk.failed(exc, FULL_DISK_RETRY_MAX)
                await self._pause(wait)
                wait = min(wait * 2, FULL_DISK_RETRY_MAX)
                continue
            except Exception as exc:
                if getattr(exc, "fatal", False):
                    raise
                logger.error("delivery failed, retrying: %s", exc, exc_info=True)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_SECONDS)

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the service stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.service.wait_stopping(), seconds)

    def tasks(self, service: "Service") -> list[Callable[[], Awaitable[None]]]:
        return [self.deliver_forever]

    async def topics_added(self, topic_ids: Sequence[str]) -> None:
        """A reload added topics: the console has nobody to tell."""

    async def close(self) -> None:
        """Release what the targets hold (HTTP clients)."""


def console_stage(service: "Service") -> DeliveryStage:
    """Alerts printed to the service's output."""
    return DeliveryStage(service, deliverer(service, [ConsoleTarget(service.out)]))


class TelegramStage(DeliveryStage):
    """Alerts sent through the bot, which also answers its commands."""

    def __init__(self, service: "Service", settings: TelegramSettings) -> None:
        from watcher.bot.wiring import build_application
        from watcher.delivery.telegram import TelegramTarget

        self.application = build_application(service, settings)
        bot = self.application.bot

        async def notify_maintainers(text: str) -> None:
            from telegram.error import BadRequest, TelegramError

            from watcher.delivery.deliverer import plain_text

            for chat_id in service.config.maintainers:
                try:
                    try:
                        await bot.send_message(chat_id, text)
                    except BadRequest:  # HTML refused: the same notice as plain text
                        await bot.send_message(chat_id, plain_text(text), parse_mode=None)
                except TelegramError as exc:  # the notice is in the log as well
                    logger.warning("could not tell maintainer %s: %s", chat_id, exc)

        self.notify_maintainers = notify_maintainers
        super().__init__(service, deliverer(service, [TelegramTarget(bot)], notify_maintainers))

    async def flush(self, *, settle: float = 0.0) -> None:
        await super().flush(settle=settle)
        await self.tell_drift()

    async def tell_drift(self) -> None:
        """Tell the maintainers, once, of each source that started drifting."""
        polls = self.service.store.polls
        for notice in await self.service.blocking(polls.untold):
            await self.notify_maintainers(html.escape(notice.text, quote=False))
            await self.service.blocking(polls.told, notice, datetime.now(UTC))

    async def topics_added(self, topic_ids: Sequence[str]) -> None:
        """A reload added topics: tell the subscribers once, with their buttons."""
        from watcher.bot.maintainer import announce

        await announce(self.application.bot, self.service, topic_ids)

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

    async def close(self) -> None:
        from watcher.bot.wiring import close_requests

        await close_requests(self.application)

    def tasks(self, service: "Service") -> list[Callable[[], Awaitable[None]]]:
        from watcher.bot.wiring import serve_bot

        return [self.deliver_forever, lambda: serve_bot(self.application, service)]
