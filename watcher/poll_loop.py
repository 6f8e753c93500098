"""``watcher run``'s polling: each source (and followed dossier's stream) on its interval.

Start-up polls are spread over each source's interval (``scheduling.DueTimes``),
at most ``settings.concurrency`` run at once, and a source is due again when its
outcome says (its interval, or its backoff after errors). The loop sleeps until
the next source is due, a poll ends, or the service wakes it (a reload, a stop),
and records a heartbeat every 30 s for ``watcher status --check``.

Reliability: a full disk pauses polling (one line, retried 1 s doubling to 30 s;
nothing is lost, the source is polled again once space returns); a wall-clock
step cannot push a source's next poll a day away (``polling.unstepped``).
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from watcher.config import SourceConfig
from watcher.following.streams import Stream
from watcher.polling import Polling, longest_wait, unstepped
from watcher.scheduling import DueTimes
from watcher.store import PollOutcome
from watcher.store.space import FullDiskLog, is_disk_full

logger = logging.getLogger(__name__)
# How often the run loop records that it is alive (`watcher status --check` reads it).
HEARTBEAT_SECONDS = 30.0
# A poll that cannot be saved for a full disk is tried again after this long at most.
FULL_DISK_RETRY_MAX = 30.0
# Polls under way when watcher stops are given this long to end once cancelled.
CANCEL_GRACE_SECONDS = 4.0


class PollLoop:
    """Runs every source's polls on their schedule until the service stops."""

    def __init__(self, polling: Polling, *, polled: Callable[[], None]) -> None:
        self.polling = polling
        self.host = polling.host
        self.polled = polled  # told when polls ended (the service wakes delivery)
        self.times = DueTimes()
        self.running: dict[str, asyncio.Task[PollOutcome]] = {}
        self.sources: dict[str, SourceConfig] = {}
        self.streams: dict[str, Stream] = {}
        # Events bind to the running loop on first use, so they can be made here.
        self._wake = asyncio.Event()
        self._full_disk = FullDiskLog("polling")
        self._full_disk_wait = 1.0

    def wake(self) -> None:
        """Look again now: the configuration changed, a poll ended, or watcher stops."""
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        known = await self._stored_backoffs(loop.time())
        last_beat = -HEARTBEAT_SECONDS
        while not stopping.is_set():
            if loop.time() - last_beat >= HEARTBEAT_SECONDS:
                await self._beat()
                last_beat = loop.time()
            intervals = await self._follow_configuration(loop.time(), known)
            await self._collect(loop.time(), intervals)
            self._start(loop.time())
            await self._sleep(loop.time())
        for task in self.running.values():
            task.cancel()
        if self.running:
            await asyncio.wait(self.running.values(), timeout=CANCEL_GRACE_SECONDS)

    async def _follow_configuration(
        self, now: float, known: Mapping[str, float]
    ) -> dict[str, float]:
        """The sources and streams to poll now (a reload or a new follow changes them)."""
        self.sources = {s.id: s for s in self.polling.pollable()}
        self.streams = {s.id: s for s in await self.polling.streams()}
        intervals = {i: s.interval for i, s in self.sources.items()}
        intervals.update({i: s.source.interval for i, s in self.streams.items()})
        # A dossier followed since the last turn has its stream read at once.
        self.times.sync(intervals, now, known={**known, **{i: now for i in self.streams}})
        return intervals

    async def _collect(self, now: float, intervals: Mapping[str, float]) -> None:
        """Note the polls that ended: when each source is due again."""
        for source_id, task in list(self.running.items()):
            if not task.done():
                continue
            del self.running[source_id]
            self.polled()
            if task.cancelled():
                continue
            error = task.exception()
            if error is None:
                outcome = task.result()
                self._full_disk.succeeded()
                self._full_disk_wait = 1.0
                interval = intervals.get(source_id)  # None: a reload removed it
                if interval is not None:
                    self.times.polled(source_id, now, self._wait_until(outcome, interval))
                if any(c.matches for c in outcome.changes):
                    await self._write_feeds()
            else:
                # Only a full disk gets here (other errors are failed polls): the
                # source is polled again later, its items then saved, none lost.
                self._full_disk.failed(error, FULL_DISK_RETRY_MAX)
                self.times.polled(source_id, now, self._full_disk_wait)
                self._full_disk_wait = min(self._full_disk_wait * 2, FULL_DISK_RETRY_MAX)

    def _start(self, now: float) -> None:
        capacity = self.host.config.settings.concurrency - len(self.running)
        for source_id in self.times.take(now, running=self.running, capacity=capacity):
            self.running[source_id] = asyncio.create_task(
                self.polling.poll_source(self.sources[source_id])
                if source_id in self.sources
                else self.polling.poll_stream(self.streams[source_id])
            )
            self.running[source_id].add_done_callback(lambda _task: self.wake())

    async def _sleep(self, now: float) -> None:
        """Until the next source is due, a poll ends or the service wakes the loop."""
        upcoming = self.times.next_wake(now, running=self.running)
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self._wake.wait(), min(upcoming or HEARTBEAT_SECONDS, HEARTBEAT_SECONDS)
            )

    async def _beat(self) -> None:
        """The heartbeat; a full disk skips it (``watcher status`` says why)."""
        try:
            await self.host.blocking(self.host.store.meta.beat, datetime.now(UTC))
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self._full_disk.failed(exc, FULL_DISK_RETRY_MAX)

    async def _stored_backoffs(self, now: float) -> dict[str, float]:
        """Sources backing off keep their stored next check across a restart."""
        backoffs = await self.host.blocking(self.host.store.sources.backoffs)
        wall = datetime.now(UTC)
        by_id = {source.id: source for source in self.polling.pollable()}
        config = self.host.config
        return {
            source_id: now + (at - wall).total_seconds()
            for source_id, stored in backoffs.items()
            if source_id in by_id
            and (at := unstepped(stored, longest_wait(config, by_id[source_id].interval), wall))
            is not None
            and at > wall
        }

    def _wait_until(self, outcome: PollOutcome, interval: float) -> float:
        """Seconds to a poll's next check, set by the poll on the wall clock.

        A wait longer than any watcher sets was computed before the wall clock
        stepped back (the poll read it, then the clock moved): the source's
        interval is waited instead of the step's length.
        """
        wait = (outcome.next_check - datetime.now(UTC)).total_seconds()
        return interval if wait > longest_wait(self.host.config, interval) else wait

    async def _write_feeds(self) -> None:
        """Bring the Atom files of ``settings.atom_dir`` up to date (a failure is logged)."""
        config = self.host.config
        if config.settings.atom_dir is None:
            return
        from watcher.feeds_out import write_atom_dir

        directory = config.path.parent / config.settings.atom_dir
        try:
            await self.host.blocking(write_atom_dir, config, self.host.store.database, directory)
        except OSError as exc:
            logger.error("could not write the Atom feeds in %s: %s", directory, exc)
