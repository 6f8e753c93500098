"""One poll of one source: fetch -> items -> match -> a pure ``PollOutcome``, saved at once.

``Poller.poll`` runs in a worker thread of the runtime's executor: the reader
fetches through the synchronous session the runtime gives it, parsing and
matching happen here, and the outcome is saved in one transaction. A failing
source is recorded on that source (its error, a backoff) and never stops the
others. Delivery is not done here: alerts wait in the outbox.
"""

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from watcher import following
from watcher.config import Config, SourceConfig
from watcher.decide import (
    next_check_after_failure,
    next_check_after_success,
    plan_items,
    should_alert,
)
from watcher.errors import FetchError, WatcherError
from watcher.figures import failure_figures, figures_of
from watcher.items import Item
from watcher.matching.engine import Matcher
from watcher.routing import Route as Alert
from watcher.routing import SourceRoute
from watcher.sources.base import Compute, PollContext, PollResult, run_here
from watcher.sources.catalog import KINDS
from watcher.store import PollOutcome, Store

if TYPE_CHECKING:
    from watcher.streams import Stream

logger = logging.getLogger(__name__)


class Cancellable(Protocol):
    """What the poller needs of a fetch session beyond fetching."""

    @property
    def cancelled(self) -> bool: ...


@dataclass
class Poller:
    """Polls one source at a time for one configuration; safe to share between threads."""

    config: Config
    store: Store
    route: SourceRoute
    environ: Mapping[str, str] = field(default_factory=dict)
    cache_dir: Path | None = None
    compute: Compute = run_here  # where readers parse payloads (the runtime's processes)

    def __post_init__(self) -> None:
        self.matcher = Matcher(self.config.topics)
        self._memory: dict[str, dict[str, Any]] = {}
        if self.cache_dir is None:
            self.cache_dir = Path(self.store.path).resolve().parent / "watcher-cache"

    def poll(self, source: SourceConfig, fetcher: Any, now: datetime) -> PollOutcome:
        """Poll one source and save what it found; failures are recorded, never raised."""
        try:
            outcome = self._poll(source, fetcher, now)
        except Exception as exc:  # a bug in a reader must not stop the other sources
            if not isinstance(exc, WatcherError):
                logger.exception("source %s: unexpected error", source.id)
            outcome = self.failure(source, exc, now)
        if getattr(fetcher, "cancelled", False):
            return outcome  # the runtime gave up on this poll and recorded why
        self.store.save_poll(outcome)
        log_outcome(outcome)
        drift = self.store.polls.note(source.id, now)
        if drift is not None:
            logger.warning("source %s", drift.line())
        return outcome

    def _poll(self, source: SourceConfig, fetcher: Any, now: datetime) -> PollOutcome:
        record = self.store.sources.record(source.id)
        assert self.cache_dir is not None
        ctx = PollContext(
            fetcher=fetcher,
            now=now,
            known=lambda keys: self.store.items.known_keys(source.id, keys),
            known_revisions=lambda keys: self.store.items.known_revisions(source.id, keys),
            environ=self.environ,
            cache_dir=self.cache_dir / source.id,
            backlog=not record.initialized and not source.backfill,
            memory=self._memory.setdefault(source.id, {}),
            compute=self.compute,
        )
        result = KINDS[source.kind].read(source, source.options, record.state, ctx)
        alert = should_alert(initialized=record.initialized, backfill=source.backfill)
        return self._outcome(source, result, now, alert=alert)

    def _outcome(
        self,
        source: SourceConfig,
        result: PollResult,
        now: datetime,
        *,
        alert: bool,
        revise: bool = True,
        stream: str = "",
    ) -> PollOutcome:
        """What a read found, decided: what to store, whom to alert, when to look again."""
        changes = plan_items(
            result.items,
            self.store.items.known(source.id, result.items),
            match=lambda item: self.matcher.match(item.fields, topics=source.topics),
            route=lambda topics: self.route(topics, source.territory),
            alert=alert,
            followers=self.followers(result.items, now) if alert else None,
            revise=revise,
        )
        return PollOutcome(
            source_id=source.id,
            at=now,
            next_check=next_check_after_success(now, source.interval),
            state=result.state,
            changes=tuple(changes),
            warnings=tuple(result.warnings),
            fetched=len(result.items),
            unchanged=result.unchanged,
            backlog=not alert,
            stream=stream,
            figures=None if stream else figures_of(result, source, now),
        )

    def followers(
        self, items: Iterable[Item], now: datetime
    ) -> Callable[[Item], tuple[str, Sequence[Alert]]]:
        """Who follows the dossier each item may be a step of (one query per poll)."""
        # Reading the laws a full text cites is a pass over it: once per item and poll.
        keys_of = {item.key: following.follow_keys(item) for item in items}
        keys = {key for item_keys in keys_of.values() for key in item_keys}
        channels = {str(channel.chat_id) for channel in self.config.channels}
        found = self.store.dossiers.followers_of(keys, now=now, channels=channels) if keys else {}

        def of(item: Item) -> tuple[str, Sequence[Alert]]:
            if not found:
                return "", ()
            for key in keys_of.get(item.key) or following.follow_keys(item):
                if key in found:
                    return found[key]
            return "", ()

        return of

    def poll_stream(self, stream: "Stream", fetcher: Any, now: datetime) -> PollOutcome:
        """Read a followed dossier's stream: its new steps go to the dossier's followers.

        Its first read only notes the steps already taken, like a source's first poll.
        """
        source = stream.source
        try:
            ctx = PollContext(
                fetcher=fetcher,
                now=now,
                known=lambda keys: self.store.items.known_keys(source.id, keys),
                known_revisions=lambda keys: self.store.items.known_revisions(source.id, keys),
                environ=self.environ,
                cache_dir=(self.cache_dir or Path(".")) / source.id,
                backlog=not stream.initialized,
                memory=self._memory.setdefault(stream.id, {}),
            )
            result = stream.read(source, source.options, stream.state, ctx)
            outcome = self._outcome(
                source, result, now, alert=stream.initialized, revise=False, stream=stream.dossier
            )
        except Exception as exc:
            if not isinstance(exc, WatcherError):
                logger.exception("dossier %s: unexpected error", stream.dossier)
            outcome = PollOutcome(
                source_id=source.id,
                at=now,
                next_check=next_check_after_failure(
                    now,
                    interval=source.interval,
                    consecutive_errors=stream.errors + 1,
                    max_backoff=self.config.settings.max_backoff,
                    retry_after=exc.retry_after if isinstance(exc, FetchError) else None,
                ),
                error=str(exc) or type(exc).__name__,
                stream=stream.dossier,
            )
        if getattr(fetcher, "cancelled", False):
            return outcome
        self.store.save_poll(outcome)
        log_outcome(outcome)
        return outcome

    def failure(self, source: SourceConfig, exc: BaseException, now: datetime) -> PollOutcome:
        """The outcome of a poll that failed: its error, and when to try again."""
        message = str(exc) or type(exc).__name__
        errors = self.store.sources.record(source.id).consecutive_errors + 1
        next_check = next_check_after_failure(
            now,
            interval=source.interval,
            consecutive_errors=errors,
            max_backoff=self.config.settings.max_backoff,
            retry_after=exc.retry_after if isinstance(exc, FetchError) else None,
        )
        return PollOutcome(
            source_id=source.id,
            at=now,
            next_check=next_check,
            error=message,
            figures=failure_figures(exc, now),
        )


def log_outcome(outcome: PollOutcome) -> None:
    for warning in outcome.warnings:
        logger.warning("source %s: %s", outcome.source_id, warning)
    if outcome.error is not None:
        logger.warning(
            "source %s: %s (retry at %s)",
            outcome.source_id,
            outcome.error,
            outcome.next_check.isoformat(timespec="seconds"),
        )
    elif outcome.new:
        logger.info(
            "source %s: %d new item(s), %d alert(s)%s",
            outcome.source_id,
            outcome.new,
            outcome.alerts,
            " (first poll: backlog marked as seen)" if outcome.backlog else "",
        )


def missing_secrets(config: Config, environ: Mapping[str, str]) -> dict[str, list[str]]:
    """Sources whose kind needs environment variables that are not set, and which."""
    missing = {}
    for source in config.sources:
        names = [name for name in KINDS[source.kind].required_env if not environ.get(name)]
        if names:
            missing[source.id] = names
    return missing


def summarize(outcomes: Iterable[PollOutcome]) -> str:
    outcomes = list(outcomes)
    failed = [o for o in outcomes if o.error]
    return (
        f"{len(outcomes)} source(s) polled, {sum(o.new for o in outcomes)} new item(s), "
        f"{sum(o.alerts for o in outcomes)} alert(s) queued, {len(failed)} failed"
    )
