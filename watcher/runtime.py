"""The one asyncio service behind ``watcher poll`` and ``watcher run``.

Polling, delivery and the Telegram bot are tasks of one event loop. Blocking
work (a reader's parsing, PDF text, matching, SQLite) runs in executors that the
service owns: one for polls, bounded by ``settings.concurrency``, one for the
database, so that a slow source never delays delivery or the bot. Every poll
has a hard deadline (``settings.poll_timeout``): when it passes, the poll's
requests are cancelled and the source records a timeout; nothing else waits.

A reload (``/recharger``, SIGHUP) is a message to the loop: the new feeds.yml is
read and validated first, then swapped in between two polls; a poll under way
finishes with the configuration it started with.
"""

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from watcher.config import Config, SourceConfig, load_config
from watcher.decide import is_due
from watcher.delivery.base import TargetConfig
from watcher.errors import ConfigError, FetchError, WatcherError
from watcher.fetch import Fetcher, FetchSession
from watcher.following.streams import Stream, streams_for
from watcher.netguard import PrivateAllowance, configured_address
from watcher.parsing_pool import ParsingPool
from watcher.poll import Poller, missing_secrets, summarize
from watcher.recipients import Subscriptions, recipients_for
from watcher.renames import apply_renames, check_reload
from watcher.routing import Recipient
from watcher.scheduling import DueTimes
from watcher.sources.catalog import ocr_warning
from watcher.store import PollOutcome, Store
from watcher.store.space import FullDiskLog, StorageFull, full_error, is_disk_full
from watcher.store.subscribers import Subscribers

if TYPE_CHECKING:
    from watcher.delivery.stage import DeliveryStage

logger = logging.getLogger(__name__)
T = TypeVar("T")

# How long `watcher run` gives itself to stop once asked (the promise is 10 s).
STOP_GRACE_SECONDS = 8.0
# How often the run loop records that it is alive (`watcher status --check` reads it).
HEARTBEAT_SECONDS = 30.0
# A poll that cannot be saved for a full disk is tried again after this long at most.
FULL_DISK_RETRY_MAX = 30.0


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
        self._sessions: set[FetchSession] = set()
        # Events bind to the running loop on first use, so they can be made here.
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.delivery: DeliveryStage | None = None  # set by the caller
        self._full_disk = FullDiskLog("polling")
        self._full_disk_wait = 1.0

    # -- the pieces ----------------------------------------------------------

    def _poller(self, config: Config) -> Poller:
        return Poller(
            config,
            self.store,
            recipients=self.recipients_for(config),
            environ=self.environ,
            compute=self.parsing,
        )

    def recipients_for(self, config: Config) -> Callable[[], list[Recipient]]:
        """Who may be alerted: the run's targets' audience (``recipients``)."""
        return recipients_for(config, self.targets, self.subscriptions)

    def _skipped(self, config: Config) -> dict[str, list[str]]:
        skipped = missing_secrets(config, self.environ)
        for source_id, names in skipped.items():
            logger.warning("source %s skipped: set %s to watch it", source_id, " and ".join(names))
        return skipped

    async def blocking(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a database call (or other blocking work) off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.db_executor, partial(function, *args, **kwargs))

    # -- polling -------------------------------------------------------------

    def pollable(self, config: Config) -> list[SourceConfig]:
        return [s for s in config.sources if s.id not in self.skipped]

    async def streams(self) -> list[Stream]:
        """The streams of the followed dossiers (their parent sources not skipped)."""
        dossiers = await self.blocking(self.store.dossiers.followed, datetime.now(UTC))
        return [
            s
            for s in streams_for(self.config, dossiers, datetime.now(UTC))
            if s.source.id not in self.skipped
        ]

    async def poll_stream(self, stream: Stream) -> PollOutcome:
        """Read one followed dossier's stream, like a source: same deadline, same executor."""
        return await self.poll_source(stream.source, stream=stream)

    async def poll_source(self, source: SourceConfig, stream: Stream | None = None) -> PollOutcome:
        """Poll one source within its deadline; a poll that overruns is recorded as failed."""
        loop = asyncio.get_running_loop()
        limit = self.config.settings.poll_timeout
        # Every address connected to is checked; only the address the source's URL
        # names literally is let through (a name resolving to a private address is not).
        allow_private: PrivateAllowance = (
            self.config.settings.allow_private_addresses or configured_address(source.url)
        )
        session = self.fetcher.session(
            loop, deadline=loop.time() + limit, allow_private=allow_private
        )
        poller = self.poller
        now = datetime.now(UTC)
        self._sessions.add(session)
        if stream is None:
            future = loop.run_in_executor(self.poll_executor, poller.poll, source, session, now)
        else:
            future = loop.run_in_executor(
                self.poll_executor, poller.poll_stream, stream, session, now
            )
        try:
            return await asyncio.wait_for(asyncio.shield(future), limit)
        except StorageFull:
            raise
        except TimeoutError:
            reason = f"poll timed out after {limit:g}s (settings.poll_timeout)"
            session.cancel(reason)
            if stream is None:
                outcome = poller.failure(source, FetchError(reason), now)
            else:
                outcome = poller.failure(
                    source, FetchError(reason), now, errors=stream.errors, stream=stream.dossier
                )
            await self.blocking(self.store.save_poll, outcome)
            logger.warning("source %s: %s", source.id, reason)
            return outcome
        except asyncio.CancelledError:
            session.cancel("watcher is stopping")
            raise
        except Exception as exc:
            return await self._raised(source, stream, exc, now)
        finally:
            self._sessions.discard(session)

    async def _raised(
        self, source: SourceConfig, stream: Stream | None, exc: Exception, now: datetime
    ) -> PollOutcome:
        """A poll that raised is a failed poll: one line, and the source backs off.

        Reliability: without this, a poll whose saving raised was polled again at once,
        in a loop, without a word. A full disk is raised on (the caller pauses polling).
        """
        if is_disk_full(exc):
            raise full_error(self.store.path, exc) from None
        logger.error("source %s: poll failed: %s: %s", source.id, type(exc).__name__, exc)
        outcome = self.poller.failure(source, WatcherError(f"{type(exc).__name__}: {exc}"), now)
        if stream is not None:
            outcome = replace(outcome, stream=stream.dossier)
        try:
            await self.blocking(self.store.save_poll, outcome)
        except Exception as error:
            if is_disk_full(error):
                raise full_error(self.store.path, error) from None
            raise
        return outcome

    async def poll_cycle(self) -> list[PollOutcome]:
        """``watcher poll``: every source once (those backing off excepted), then return."""
        now = datetime.now(UTC)
        backoffs = await self.blocking(self.store.sources.backoffs)
        due = []
        for source in self.pollable(self.config):
            next_check = self._unstepped(backoffs.get(source.id), source, now)
            if not is_due(next_check, now):
                assert next_check is not None
                logger.info(
                    "source %s: not due before %s (backing off after errors)",
                    source.id,
                    next_check.isoformat(timespec="seconds"),
                )
                continue
            due.append(source)
        limit = asyncio.Semaphore(self.config.settings.concurrency)

        async def one(source: SourceConfig) -> PollOutcome:
            async with limit:
                return await self.poll_source(source)

        outcomes = await asyncio.gather(*(one(s) for s in due))
        # Then the streams of the dossiers followed, those this cycle's alerts made included.
        outcomes += await asyncio.gather(*(self.poll_stream(s) for s in await self.streams()))
        await self.blocking(self.store.meta.beat, datetime.now(UTC))
        logger.info("%s", summarize(outcomes))
        return list(outcomes)

    async def schedule_forever(self) -> None:
        """``watcher run``: each source on its interval, spread out, within the concurrency."""
        loop = asyncio.get_running_loop()
        times = DueTimes()
        running: dict[str, asyncio.Task[PollOutcome]] = {}
        sources: dict[str, SourceConfig] = {}
        known = await self._stored_backoffs(loop.time())
        last_beat = -HEARTBEAT_SECONDS
        while not self._stopping.is_set():
            if loop.time() - last_beat >= HEARTBEAT_SECONDS:  # for `watcher status --check`
                await self._beat()
                last_beat = loop.time()
            sources = {s.id: s for s in self.pollable(self.config)}  # a reload changes these
            streams = {s.id: s for s in await self.streams()}  # and following dossiers these
            intervals = {i: s.interval for i, s in sources.items()}
            intervals.update({i: s.source.interval for i, s in streams.items()})
            # A dossier followed since the last turn has its stream read at once.
            first = {**known, **{i: loop.time() for i in streams}}
            times.sync(intervals, loop.time(), known=first)
            for source_id, task in list(running.items()):
                if task.done():
                    del running[source_id]
                    if not task.cancelled() and task.exception() is None:
                        self._full_disk.succeeded()
                        self._full_disk_wait = 1.0
                        outcome = task.result()
                        wait = self._wait_until(outcome.next_check, intervals[source_id])
                        times.polled(source_id, loop.time(), wait)
                        if any(c.matches for c in outcome.changes):
                            await self._write_feeds()
                    elif not task.cancelled():
                        # Only a full disk gets here (other errors are failed polls): the
                        # source is polled again later, its items then saved, none lost.
                        error = task.exception()
                        assert error is not None
                        wait = self._full_disk_wait
                        self._full_disk.failed(error, FULL_DISK_RETRY_MAX)
                        self._full_disk_wait = min(wait * 2, FULL_DISK_RETRY_MAX)
                        times.polled(source_id, loop.time(), wait)
                    self._wake_up(delivery=True)
            capacity = self.config.settings.concurrency - len(running)
            for source_id in times.take(loop.time(), running=running, capacity=capacity):
                running[source_id] = asyncio.create_task(
                    self.poll_source(sources[source_id])
                    if source_id in sources
                    else self.poll_stream(streams[source_id])
                )
                running[source_id].add_done_callback(lambda _task: self._wake_up())
            upcoming = times.next_wake(loop.time(), running=running)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), min(upcoming or HEARTBEAT_SECONDS, HEARTBEAT_SECONDS)
                )
        for task in running.values():
            task.cancel()
        if running:
            await asyncio.wait(running.values(), timeout=STOP_GRACE_SECONDS / 2)

    async def _beat(self) -> None:
        """The heartbeat; a full disk skips it (``watcher status`` says why)."""
        try:
            await self.blocking(self.store.meta.beat, datetime.now(UTC))
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self._full_disk.failed(exc, FULL_DISK_RETRY_MAX)

    async def _stored_backoffs(self, now: float) -> dict[str, float]:
        """Sources backing off keep their stored next check across a restart."""
        backoffs = await self.blocking(self.store.sources.backoffs)
        wall = datetime.now(UTC)
        by_id = {source.id: source for source in self.pollable(self.config)}
        return {
            source_id: now + (unstepped - wall).total_seconds()
            for source_id, at in backoffs.items()
            if source_id in by_id
            and (unstepped := self._unstepped(at, by_id[source_id], wall)) is not None
            and unstepped > wall
        }

    def _unstepped(
        self, next_check: datetime | None, source: SourceConfig, now: datetime
    ) -> datetime | None:
        """A stored next check, unless the wall clock stepped back since it was set.

        Reliability: no backoff is longer than ``settings.max_backoff`` (or the
        source's interval); one further away than that was pushed there by a clock
        step, and the source is due now rather than a day later.
        """
        if next_check is None:
            return None
        longest = max(self.config.settings.max_backoff, source.interval) + 3600.0
        return now if (next_check - now).total_seconds() > longest else next_check

    def _wait_until(self, next_check: datetime, interval: float) -> float:
        """Seconds to a poll's next check, set by the poll on the wall clock.

        A wait longer than any watcher sets was computed before the wall clock
        stepped back (the poll read it, then the clock moved): the source's
        interval is waited instead of the step's length.
        """
        wait = (next_check - datetime.now(UTC)).total_seconds()
        longest = max(self.config.settings.max_backoff, interval) + 3600.0
        return interval if wait > longest else wait

    def _wake_up(self, *, delivery: bool = False) -> None:
        self._wake.set()
        if delivery and self.delivery is not None:
            self.delivery.wake()

    async def _write_feeds(self) -> None:
        """Bring the Atom files of ``settings.atom_dir`` up to date (a failure is logged)."""
        if self.config.settings.atom_dir is None:
            return
        from watcher.feeds_out import write_atom_dir

        directory = self.config.path.parent / self.config.settings.atom_dir
        try:
            await self.blocking(write_atom_dir, self.config, self.store.database, directory)
        except OSError as exc:
            logger.error("could not write the Atom feeds in %s: %s", directory, exc)

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
        self._wake_up()
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
        self._wake_up()

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
        tasks = [asyncio.create_task(self.schedule_forever(), name="schedule")]
        tasks += [asyncio.create_task(start(), name="task") for start in extra]
        try:
            done, _ = await asyncio.wait(
                [*tasks, asyncio.create_task(self._stopping.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            failed = [t for t in done if t in tasks and not t.cancelled() and t.exception()]
            self.stop()
            await self._cancel_sessions()
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

    async def _cancel_sessions(self) -> None:
        for session in list(self._sessions):
            session.cancel("watcher is stopping")

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
