"""One poll of the sources: fetch -> items -> match -> store with pending alerts.

A failing source is recorded on that source (with its error and a backoff) and
never stops the others. Delivery is not done here: alerts wait in the outbox.
"""

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from watcher.config import Config, SourceConfig
from watcher.decide import (
    is_due,
    new_items,
    next_check_after_failure,
    next_check_after_success,
    should_alert,
)
from watcher.delivery.targets import audience
from watcher.errors import FetchError, WatcherError
from watcher.fetch import Fetcher
from watcher.matching.engine import Matcher
from watcher.routing import routes
from watcher.sources.base import PollContext
from watcher.sources.kinds import KINDS
from watcher.sources.registry import reader_for
from watcher.store import Store

logger = logging.getLogger(__name__)

Subscriptions = Callable[[], Mapping[int, Collection[str]]]


@dataclass(frozen=True)
class PollReport:
    """What polling one source did."""

    source_id: str
    fetched: int = 0
    new: int = 0
    alerts: int = 0
    unchanged: bool = False
    error: str | None = None


class Poller:
    """Polls sources and fills the store; one instance per configuration."""

    def __init__(
        self,
        config: Config,
        store: Store,
        fetcher: Fetcher,
        *,
        telegram: bool = False,
        subscriptions: Subscriptions | None = None,
        environ: Mapping[str, str] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.fetcher = fetcher
        self.matcher = Matcher(config.topics)
        self.telegram = telegram
        self.subscriptions = subscriptions or dict
        self.environ = environ if environ is not None else {}
        self.cache_dir = cache_dir or Path(store.path).resolve().parent / "watcher-cache"
        self._memory: dict[str, dict[str, Any]] = {}
        self.skipped = missing_secrets(config, self.environ)
        for source_id, names in self.skipped.items():
            logger.warning("source %s skipped: set %s to watch it", source_id, " and ".join(names))

    def poll_all(
        self,
        now: datetime | None = None,
        *,
        respect_schedule: bool = False,
        only: Collection[str] | None = None,
    ) -> list[PollReport]:
        """Poll the sources: every one, or (``respect_schedule``) those whose time has come.

        A source backing off after errors is skipped either way until its next check.
        Up to ``settings.concurrency`` sources are polled at once, each in a thread;
        reports come back in the configuration's order.
        """
        chosen = []
        for source in self.config.sources:
            if source.id in self.skipped or (only is not None and source.id not in only):
                continue
            row = self.store.source_row(source.id) or {}
            next_check = row.get("next_check")
            backing_off = bool(row.get("consecutive_errors"))
            if (respect_schedule or backing_off) and not is_due(
                datetime.fromisoformat(next_check) if next_check else None,
                now or datetime.now(UTC),
            ):
                logger.info("source %s: not due before %s", source.id, next_check)
                continue
            chosen.append(source)
        if len(chosen) <= 1:
            return [self.poll_source(source, now) for source in chosen]
        workers = min(self.config.settings.concurrency, len(chosen))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll") as pool:
            return list(pool.map(lambda source: self._poll_in_thread(source, now), chosen))

    def _poll_in_thread(self, source: SourceConfig, now: datetime | None) -> PollReport:
        try:
            return self.poll_source(source, now)
        finally:
            self.store.close()  # this thread's connection

    def poll_source(self, source: SourceConfig, now: datetime | None = None) -> PollReport:
        """Poll one source; any failure is recorded on it and reported, never raised."""
        now = now or datetime.now(UTC)
        state, initialized = self.store.source_state(source.id)
        ctx = PollContext(
            fetcher=self.fetcher,
            now=now,
            known=lambda keys: self.store.known_keys(source.id, keys),
            environ=self.environ,
            cache_dir=self.cache_dir / source.id,
            first_poll=not initialized,
            memory=self._memory.setdefault(source.id, {}),
        )
        try:
            result = reader_for(source.kind)(source, state, ctx)
        except WatcherError as exc:
            return self._failed(source, exc, now)
        except Exception as exc:  # a bug in a reader must not stop the other sources
            logger.exception("source %s: unexpected error", source.id)
            return self._failed(source, exc, now)
        subscriptions = self.subscriptions() if self.telegram else {}
        recipients = audience(
            self.config, ("telegram",) if self.telegram else ("console",), subscriptions
        )
        fresh = new_items(
            result.items, self.store.known_keys(source.id, (i.key for i in result.items))
        )
        alert = should_alert(initialized=initialized, backfill=source.backfill)
        alerts = 0
        for item in fresh:
            matches = self.matcher.match(item.fields, topics=source.topics)
            targets = routes([m.topic for m in matches], recipients) if alert else []
            if self.store.add_item(item, matches, targets, now=now) is not None:
                alerts += len(targets)
        for warning in result.warnings:
            logger.warning("source %s: %s", source.id, warning)
        self.store.record_success(
            source.id,
            result.state,
            now=now,
            next_check=next_check_after_success(now, source.interval),
        )
        if result.warnings:
            self.store.record_warning(source.id, result.warnings[-1], now=now)
        if fresh:
            logger.info(
                "source %s: %d new item(s), %d alert(s)%s",
                source.id,
                len(fresh),
                alerts,
                "" if alert else " (first poll: backlog marked as seen)",
            )
        return PollReport(source.id, len(result.items), len(fresh), alerts, result.unchanged)

    def _failed(self, source: SourceConfig, exc: Exception, now: datetime) -> PollReport:
        message = str(exc) or type(exc).__name__
        errors = self.store.consecutive_errors(source.id) + 1
        retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        next_check = next_check_after_failure(
            now,
            interval=source.interval,
            consecutive_errors=errors,
            max_backoff=self.config.settings.max_backoff,
            retry_after=retry_after,
        )
        self.store.record_failure(source.id, message, now=now, next_check=next_check)
        logger.warning("source %s: %s (retry at %s)", source.id, message, next_check.isoformat())
        return PollReport(source.id, error=message)


def missing_secrets(config: Config, environ: Mapping[str, str]) -> dict[str, list[str]]:
    """Sources whose kind needs environment variables that are not set, and which."""
    missing = {}
    for source in config.sources:
        names = [name for name in KINDS[source.kind].required_env if not environ.get(name)]
        if names:
            missing[source.id] = names
    return missing


def summarize(reports: Iterable[PollReport]) -> str:
    reports = list(reports)
    failed = [r for r in reports if r.error]
    return (
        f"{len(reports)} source(s) polled, {sum(r.new for r in reports)} new item(s), "
        f"{sum(r.alerts for r in reports)} alert(s) queued, {len(failed)} failed"
    )
