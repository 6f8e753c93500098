"""One poll as the service runs it: off the event loop, within its deadline, never raising.

A poll (of a source, or of a followed dossier's stream) runs ``Poller`` in the
service's poll executor and is given ``settings.poll_timeout``: when that passes,
its requests are cancelled and the source records a timeout. A poll that raises
(a reader's bug, a save the database refuses) is a failed poll like any other:
one line, and the source backs off; only a full disk is raised, for the caller
to pause polling. ``cycle`` is ``watcher poll``: every due source once.

Reliability (clock steps): a stored next check further away than any backoff
watcher sets was pushed there by a backward step of the wall clock; the source
is due now rather than a day later (``unstepped``).
"""

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from watcher.config import Config, SourceConfig
from watcher.decide import is_due
from watcher.errors import FetchError
from watcher.fetch import Fetcher, FetchSession
from watcher.following.streams import Stream, streams_for
from watcher.netguard import PrivateAllowance, configured_address
from watcher.poll import Poller, log_outcome, unexpected
from watcher.store import PollOutcome, Store
from watcher.store.space import StorageFull, full_error, is_disk_full

logger = logging.getLogger(__name__)
T = TypeVar("T")
# A stored wait longer than any watcher sets by this much was set before a clock step.
STEP_MARGIN_SECONDS = 3600.0


class PollHost(Protocol):
    """What a poll uses of the service (``runtime.Service``): what a reload swaps
    (the configuration, its poller, the sources skipped), the store, the executors."""

    @property
    def config(self) -> Config: ...

    @property
    def poller(self) -> Poller: ...

    @property
    def skipped(self) -> Mapping[str, list[str]]: ...

    @property
    def store(self) -> Store: ...

    @property
    def fetcher(self) -> Fetcher: ...

    @property
    def poll_executor(self) -> Executor: ...

    async def blocking(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...


class Polling:
    """Polls sources and dossier streams for the service, each within its deadline."""

    def __init__(self, host: PollHost) -> None:
        self.host = host
        self._sessions: set[FetchSession] = set()

    def pollable(self) -> list[SourceConfig]:
        """The sources of the running configuration, those missing a secret excepted."""
        return [s for s in self.host.config.sources if s.id not in self.host.skipped]

    async def streams(self) -> list[Stream]:
        """The streams of the followed dossiers (their parent sources not skipped)."""
        host = self.host
        dossiers = await host.blocking(host.store.dossiers.followed, datetime.now(UTC))
        return [
            s
            for s in streams_for(host.config, dossiers, datetime.now(UTC))
            if s.source.id not in host.skipped
        ]

    async def poll_stream(self, stream: Stream) -> PollOutcome:
        """Read one followed dossier's stream, like a source: same deadline, same executor."""
        return await self.poll_source(stream.source, stream=stream)

    async def poll_source(self, source: SourceConfig, stream: Stream | None = None) -> PollOutcome:
        """Poll one source within its deadline; a poll that overruns or raises has failed."""
        loop = asyncio.get_running_loop()
        limit = self.host.config.settings.poll_timeout
        # Every address connected to is checked; only the address the source's URL
        # names literally is let through (a name resolving to a private address is not).
        allow_private: PrivateAllowance = (
            self.host.config.settings.allow_private_addresses or configured_address(source.url)
        )
        session = self.host.fetcher.session(
            loop, deadline=loop.time() + limit, allow_private=allow_private
        )
        poller, now = self.host.poller, datetime.now(UTC)
        self._sessions.add(session)
        if stream is None:
            call = loop.run_in_executor(self.host.poll_executor, poller.poll, source, session, now)
        else:
            call = loop.run_in_executor(
                self.host.poll_executor, poller.poll_stream, stream, session, now
            )
        try:
            return await asyncio.wait_for(asyncio.shield(call), limit)
        except StorageFull:
            raise
        except TimeoutError:
            reason = f"poll timed out after {limit:g}s (settings.poll_timeout)"
            session.cancel(reason)
            return await self._failed(poller, source, stream, FetchError(reason), now)
        except asyncio.CancelledError:
            session.cancel("watcher is stopping")
            raise
        except Exception as exc:
            if is_disk_full(exc):
                raise full_error(self.host.store.path, exc) from None
            return await self._failed(poller, source, stream, unexpected(exc, source.id), now)
        finally:
            self._sessions.discard(session)

    async def _failed(
        self,
        poller: Poller,
        source: SourceConfig,
        stream: Stream | None,
        error: Exception,
        now: datetime,
    ) -> PollOutcome:
        """A poll that overran or raised is a failed poll: saved, one line, a backoff.

        Reliability: without this, a poll whose saving raised was polled again at once,
        in a loop, without a word. A full disk is raised on (the caller pauses polling).
        """
        errors, dossier = (None, "") if stream is None else (stream.errors, stream.dossier)
        outcome = await self.host.blocking(
            poller.failure, source, error, now, errors=errors, stream=dossier
        )
        try:
            await self.host.blocking(self.host.store.save_poll, outcome)
        except Exception as exc:
            if is_disk_full(exc):
                raise full_error(self.host.store.path, exc) from None
            raise
        log_outcome(outcome)
        return outcome

    async def cycle(self) -> list[PollOutcome]:
        """``watcher poll``: every source once (those backing off excepted), then return."""
        host = self.host
        now = datetime.now(UTC)
        backoffs = await host.blocking(host.store.sources.backoffs)
        due = []
        for source in self.pollable():
            longest = longest_wait(host.config, source.interval)
            next_check = unstepped(backoffs.get(source.id), longest, now)
            if not is_due(next_check, now):
                assert next_check is not None
                logger.info(
                    "source %s: not due before %s (backing off after errors)",
                    source.id,
                    next_check.isoformat(timespec="seconds"),
                )
                continue
            due.append(source)
        limit = asyncio.Semaphore(host.config.settings.concurrency)

        async def one(source: SourceConfig) -> PollOutcome:
            async with limit:
                return await self.poll_source(source)

        outcomes = await asyncio.gather(*(one(s) for s in due))
        # Then the streams of the dossiers followed, those this cycle's alerts made included.
        outcomes += await asyncio.gather(*(self.poll_stream(s) for s in await self.streams()))
        await host.blocking(host.store.meta.beat, datetime.now(UTC))
        logger.info("%s", summarize(outcomes))
        return list(outcomes)

    def cancel_sessions(self) -> None:
        """End the requests of every poll under way (watcher is stopping)."""
        for session in list(self._sessions):
            session.cancel("watcher is stopping")


def longest_wait(config: Config, interval: float) -> float:
    """Seconds: no wait watcher sets for a source polled every ``interval`` is longer."""
    return max(config.settings.max_backoff, interval) + STEP_MARGIN_SECONDS


def unstepped(next_check: datetime | None, longest: float, now: datetime) -> datetime | None:
    """A stored next check, unless the wall clock stepped back since it was set.

    Reliability: no backoff is longer than ``settings.max_backoff`` (or the source's
    interval); one further away than ``longest`` was pushed there by a clock step,
    and the source is due now rather than a day later.
    """
    if next_check is None:
        return None
    return now if (next_check - now).total_seconds() > longest else next_check


def summarize(outcomes: Iterable[PollOutcome]) -> str:
    outcomes = list(outcomes)
    failed = [o for o in outcomes if o.error]
    return (
        f"{len(outcomes)} source(s) polled, {sum(o.new for o in outcomes)} new item(s), "
        f"{sum(o.alerts for o in outcomes)} alert(s) queued, {len(failed)} failed"
    )
