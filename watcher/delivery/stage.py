"""The delivery stage as the runtime sees it: the active targets opened through the
registry, and a ``Deliverer`` woken by polls and every second.

``open_stage`` opens each target of the run (``delivery.active``) through its
kind (``delivery.targets.KINDS``); the stage sends what the outbox holds for all
of them, runs what they run alongside (the bot's update loop) and closes them.
The runtime wakes the stage when a poll queued alerts; the stage also looks every
second (for alerts whose retry time came). Its blocking calls run in the
runtime's executor (``Service.blocking``).
"""

import asyncio
import contextlib
import html
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from watcher.config import Config
from watcher.delivery.base import Host, Opened, TargetConfig
from watcher.delivery.deliverer import Deliverer, NotifyMaintainers, RunBlocking
from watcher.delivery.digests import send_digests
from watcher.delivery.notices import send_notices
from watcher.delivery.outcome import RETRY_MIN
from watcher.delivery.preferences import ChatPreferences
from watcher.delivery.targets import KINDS
from watcher.store import Store
from watcher.store.notices import Notices
from watcher.store.space import FullDiskLog, StorageFull

logger = logging.getLogger(__name__)
TICK_SECONDS = 1.0
# A full disk is waited out, looking again this often at most (doubling from a tick).
FULL_DISK_RETRY_MAX = 10.0


class RunHost(Host, Protocol):
    """What the stage uses of the service that runs it (``runner.ServiceHost``)."""

    @property
    def store(self) -> Store: ...

    @property
    def config(self) -> Config: ...

    @property
    def blocking(self) -> RunBlocking: ...

    @property
    def stopping(self) -> bool: ...

    async def wait_stopping(self) -> None: ...

    def preferences(self) -> Mapping[str, ChatPreferences]: ...


class DeliveryStage:
    """Sends what the outbox holds for its targets, whenever woken or every second."""

    def __init__(self, host: RunHost, opened: Sequence[Opened]) -> None:
        self.host = host
        self.opened = list(opened)
        notices = [o.notify for o in self.opened if o.notify is not None]
        settings = host.config.settings
        self.sender = Deliverer(
            host.store,
            host.config,
            [o.target for o in self.opened],
            run_blocking=host.blocking,
            preferences=host.preferences,  # /reglages
            notify_maintainers=_tell_all(notices) if notices else None,
            retry_min=min(RETRY_MIN, settings.delivery_backoff),
            retry_max=settings.delivery_backoff,
        )
        self.notices = Notices(host.store.database)  # announcements, maintainers' notices
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def reconfigure(self, config: Config) -> None:
        """A reload: later renderings use the new labels and names."""
        self.sender.config = config

    async def reachable(self) -> bool:
        """For a one-shot ``watcher poll``: can every target that can tell be reached?"""
        return all([await o.reachable() for o in self.opened if o.reachable is not None])

    async def flush(self, *, settle: float = 0.0, digests: bool = True) -> None:
        """Send what is due; and the digests due, unless the wall-clock jobs do (``jobs``)."""
        stats = await self.sender.drain(settle=settle)
        await self.tell_drift()
        await send_notices(self.sender, self.notices)
        if digests:
            await send_digests(self.sender, datetime.now(UTC))
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
        while not self.host.stopping:
            try:
                await self.flush(digests=False)
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
            await asyncio.wait_for(self.host.wait_stopping(), seconds)

    def tasks(self) -> list[Callable[[], Awaitable[None]]]:
        return [self.deliver_forever] + [task for o in self.opened for task in o.tasks]

    async def topics_added(self, topic_ids: Sequence[str]) -> None:
        """A reload added topics: the targets that have subscribers tell them."""
        for opened in self.opened:
            if opened.announce is not None:
                await opened.announce(topic_ids)

    async def tell_drift(self) -> None:
        """Tell the maintainers, once, of each source that started drifting (when a target
        reaches them; until then the notices wait)."""
        if self.sender.notify_maintainers is None:
            return
        polls = self.host.store.polls
        for notice in await self.host.blocking(polls.untold):
            await self.sender.notify_maintainers(html.escape(notice.text, quote=False))
            await self.host.blocking(polls.told, notice, datetime.now(UTC))

    async def notify_maintainers(self, text: str) -> None:
        """A notice for the maintainers, through every target that reaches them."""
        if self.sender.notify_maintainers is not None:
            await self.sender.notify_maintainers(text)
        else:
            logger.info("for the maintainers (no target reaches them): %s", text)

    async def close(self) -> None:
        """Release what the targets hold (HTTP clients)."""
        for opened in self.opened:
            if opened.close is not None:
                await opened.close()


def open_stage(host: RunHost, targets: Sequence[TargetConfig]) -> DeliveryStage:
    """The stage delivering to ``targets``, each opened through its kind."""
    return DeliveryStage(host, [KINDS[t.kind].open(t, host) for t in targets])


def _tell_all(channels: list[NotifyMaintainers]) -> NotifyMaintainers:
    async def notify(text: str) -> None:
        for channel in channels:
            await channel(text)

    return notify
