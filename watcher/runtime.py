"""The one asyncio service behind ``watcher poll`` and ``watcher run``.

Polling, delivery and the Telegram bot are tasks of one event loop. Blocking
work (a reader's parsing, PDF text, matching, SQLite) runs in executors that the
service owns: one for polls, bounded by ``settings.concurrency``, one for the
database, so that a slow source never delays delivery or the bot. The service
holds the pieces and what a reload swaps; one poll within its deadline is
``polling``, ``watcher run``'s schedule of polls is ``poll_loop``.

A reload (``/recharger``, SIGHUP) is a message to the loop: the new feeds.yml is
read and validated first, then swapped in between two polls; a poll under way
finishes with the configuration it started with.
"""

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TextIO, TypeVar

from watcher.config import Config, load_config
from watcher.delivery.base import TargetConfig
from watcher.errors import ConfigError
from watcher.fetch import Fetcher
from watcher.parsing_pool import ParsingPool
from watcher.poll import Poller, missing_secrets
from watcher.poll_loop import PollLoop
from watcher.polling import Polling
from watcher.recipients import Subscriptions, recipients_for
from watcher.renames import apply_renames, check_reload
from watcher.sources.catalog import ocr_warning
from watcher.store import Store
from watcher.store.subscribers import Subscribers

logger = logging.getLogger(__name__)
T = TypeVar("T")

# How long `watcher run` gives itself to stop once asked (the promise is 10 s).
STOP_GRACE_SECONDS = 8.0


class Delivery(Protocol):
    """What the service tells the delivery stage (``delivery.stage.DeliveryStage``)."""

    def wake(self) -> None: ...

    def reconfigure(self, config: Config) -> None: ...

    async def topics_added(self, topic_ids: Sequence[str]) -> None: ...


class Service:
    """Polls the sources, delivers the outbox and (with a token) runs the bot."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        environ: Mapping[str, str],
        out: TextIO,
        config_path: Path | None = None,
        targets: Sequence[TargetConfig] = (),
    ) -> None:
        self.config_path = config_path
        self.config = config
        self.store = store
        self.environ = environ
        self.out = out
        self.targets = tuple(targets)  # where alerts go (``delivery.active``), fixed for a run
        self.subscribers = Subscribers(store)
        self.subscriptions = Subscriptions(self.subscribers)
        settings = config.settings
        self.poll_executor = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="poll")
        self.db_executor = ThreadPoolExecutor(4, thread_name_prefix="db")
        self.parsing = ParsingPool(max(1, min(settings.concurrency, os.cpu_count() or 1)))
        self.fetcher = Fetcher(
            timeout=settings.timeout,
            max_bytes=settings.max_response_bytes,
            per_host=settings.per_host,
        )
        self.poller = self._poller(config)
        self.skipped = self._skipped(config)
        if (missing := ocr_warning(config.sources)) is not None:
            logger.warning("%s", missing)  # once, at start-up
        self.polling = Polling(self)
        self.poll_loop = PollLoop(self.polling, polled=self._polled)
        # Events bind to the running loop on first use, so they can be made here.
        self._stopping = asyncio.Event()
        self.delivery: Delivery | None = None  # set by the caller

    # -- the pieces ----------------------------------------------------------

    def _poller(self, config: Config) -> Poller:
        return Poller(
            config,
            self.store,
            # Who may be alerted: the run's targets' audience (``recipients``).
            recipients=recipients_for(config, self.targets, self.subscriptions),
            environ=self.environ,
            compute=self.parsing,
        )

    def _skipped(self, config: Config) -> dict[str, list[str]]:
        skipped = missing_secrets(config, self.environ)
        for source_id, names in skipped.items():
            logger.warning("source %s skipped: set %s to watch it", source_id, " and ".join(names))
        return skipped

    async def blocking(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a database call (or other blocking work) off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.db_executor, partial(function, *args, **kwargs))

    # -- polling ------------------------------------------------------------------

    def _polled(self) -> None:
        """Polls ended: what they queued is delivered now."""
        if self.delivery is not None:
            self.delivery.wake()

    # -- reload ----------------------------------------------------------------

    async def reload(self) -> Config:
        """Read feeds.yml again and switch to it; on error the running configuration stays."""
        if self.config_path is None:
            return self.config
        config = await self.blocking(load_config, self.config_path)
        # Renamed topics keep their subscribers; a rename that forgot to say so is refused.
        check_reload(self.config, config, await self.blocking(self.subscribers.subscribed_topics))
        await self.blocking(apply_renames, self.subscribers, config)
        self.config = config
        self.poller = self._poller(config)
        self.skipped = self._skipped(config)
        self.subscriptions.invalidate()
        if self.delivery is not None:
            self.delivery.reconfigure(config)
        self.poll_loop.wake()
        logger.info("configuration reloaded from %s", self.config_path)
        return config

    async def _reload_on_signal(self) -> None:
        """SIGHUP: reload like /recharger, new topics announced the same way."""
        before = self.config
        try:
            config = await self.reload()
        except ConfigError as exc:
            logger.error("reload refused, the running configuration stays: %s", exc)
            return
        renamed = set(config.renamed.values())
        added = [t for t in config.topics if t not in before.topics and t not in renamed]
        if added and self.delivery is not None:
            await self.delivery.topics_added(added)

    # -- lifecycle ---------------------------------------------------------------

    def stop(self) -> None:
        """Ask the service to stop; it finishes what it can within a few seconds."""
        self._stopping.set()
        self.poll_loop.wake()

    async def run_forever(self, extra: Sequence[Callable[[], Any]] = ()) -> int:
        """Poll, deliver and serve until SIGINT or SIGTERM; SIGHUP reloads feeds.yml."""
        loop = asyncio.get_running_loop()
        loop.set_default_executor(self.db_executor)
        handlers = {
            signal.SIGINT: self._on_stop_signal,
            signal.SIGTERM: self._on_stop_signal,
            signal.SIGHUP: lambda: loop.create_task(self._reload_on_signal()),
        }
        for sig, handler in handlers.items():
            loop.add_signal_handler(sig, handler)
        tasks = [asyncio.create_task(self.poll_loop.run(self._stopping), name="schedule")]
        tasks += [asyncio.create_task(start(), name="task") for start in extra]
        try:
            done, _ = await asyncio.wait(
                [*tasks, asyncio.create_task(self._stopping.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            failed = [t for t in done if t in tasks and not t.cancelled() and t.exception()]
            self.stop()
            self.polling.cancel_sessions()
            await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
            for task in tasks:
                task.cancel()
            if failed:
                error = failed[0].exception()
                assert error is not None
                raise error
        finally:
            for sig in handlers:
                loop.remove_signal_handler(sig)
            await self.close()
        logger.info("stopped")
        return 0

    def _on_stop_signal(self) -> None:
        logger.info("stopping: finishing what can be finished within %gs", STOP_GRACE_SECONDS)
        self.stop()

    async def close(self) -> None:
        await self.fetcher.aclose()
        self.poll_executor.shutdown(wait=False, cancel_futures=True)
        self.parsing.close()
        self.db_executor.shutdown(wait=False, cancel_futures=True)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def wait_stopping(self) -> None:
        await self._stopping.wait()
