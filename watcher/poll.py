"""One poll of one source: fetch -> items -> match -> a pure ``PollOutcome``, saved at once.

``Poller.poll`` runs in a worker thread of the runtime's executor: the reader
fetches through the synchronous session the runtime gives it, parsing and
matching happen here, and the outcome is saved in one transaction. A failing
source is recorded on that source (its error, a backoff) and never stops the
others. Delivery is not done here: alerts wait in the outbox.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from watcher.config import Config, SourceConfig
from watcher.decide import (
    Audience,
    next_check_after_failure,
    next_check_after_success,
    plan_items,
    should_alert,
)
from watcher.errors import FetchError, WatcherError
from watcher.figures import failure_figures, figures_of
from watcher.filters import apply_filters
from watcher.following import plan
from watcher.following.plan import NOTHING_FOLLOWED, Followed
from watcher.following.steps import step_date
from watcher.following.streams import Stream
from watcher.items import Item, scrub_surrogates
from watcher.matching.engine import Matcher, NearMiss, TopicMatch
from watcher.personal_rules import PersonalRules
from watcher.routing import Recipient
from watcher.sources.base import Compute, PollContext, PollResult, SourceState, run_here
from watcher.sources.catalog import KINDS
from watcher.store import PollOutcome, Store
from watcher.store.space import full_error, is_disk_full

logger = logging.getLogger(__name__)
# How a source kind (or a dossier stream) reads: options, where it stands -> what it found.
Reader = Callable[[SourceConfig, Any, SourceState, PollContext], PollResult]


@dataclass
class Poller:
    """Polls one source at a time for one configuration; safe to share between threads."""

    config: Config
    store: Store
    # Who may be alerted now (the targets' audience, read from the subscribers).
    recipients: Callable[[], Sequence[Recipient]]
    environ: Mapping[str, str] = field(default_factory=dict)
    cache_dir: Path | None = None
    compute: Compute = run_here  # where readers parse payloads (the runtime's processes)

    def __post_init__(self) -> None:
        self.matcher = Matcher(self.config.topics)
        self.personal = PersonalRules(self.store.words)
        self._memory: dict[str, dict[str, Any]] = {}
        if self.cache_dir is None:
            self.cache_dir = Path(self.store.path).resolve().parent / "watcher-cache"

    def poll(self, source: SourceConfig, fetcher: Any, now: datetime) -> PollOutcome:
        """Poll one source and save what it found; failures are recorded, never raised."""
        record = self.store.sources.record(source.id)
        return self.read(
            Reading(
                source,
                KINDS[source.kind].read,
                record.state,
                initialized=record.initialized,
                errors=record.consecutive_errors,
            ),
            fetcher,
            now,
        )

    def poll_stream(self, stream: Stream, fetcher: Any, now: datetime) -> PollOutcome:
        """Read a followed dossier's stream like a source: its new steps go to the
        dossier's followers; its first read only notes the steps already taken."""
        return self.read(
            Reading(
                stream.source,
                stream.read,
                stream.state,
                initialized=stream.initialized,
                errors=stream.errors,
                stream=stream.dossier,
                since=stream.since,
            ),
            fetcher,
            now,
        )

    def read(self, reading: "Reading", fetcher: Any, now: datetime) -> PollOutcome:
        """The one path of a source's poll and a dossier stream's read: read, decide,
        save in one transaction; a failure is recorded with its backoff, never raised."""
        source = reading.source
        try:
            outcome = self._outcome(reading, self._result(reading, fetcher, now), now)
        except Exception as exc:  # a bug in a reader must not stop the other sources
            outcome = self.failure(
                source,
                unexpected(exc, reading.name),
                now,
                errors=reading.errors,
                stream=reading.stream,
            )
        if getattr(fetcher, "cancelled", False):
            return outcome  # the runtime gave up on this poll and recorded why
        try:
            self.store.save_poll(outcome)
        except Exception as exc:
            if is_disk_full(exc):  # nothing saved: the source is polled again later
                raise full_error(self.store.path, exc) from None
            raise
        log_outcome(outcome)
        drift = None if reading.stream else self.store.polls.note(source.id, now)
        if drift is not None:
            logger.warning("source %s", drift.line())
        return outcome

    def _result(self, reading: "Reading", fetcher: Any, now: datetime) -> PollResult:
        source = reading.source
        assert self.cache_dir is not None
        ctx = PollContext(
            fetcher=fetcher,
            now=now,
            known=lambda keys: self.store.items.known_keys(source.id, keys),
            known_revisions=lambda keys: self.store.items.known_revisions(source.id, keys),
            environ=self.environ,
            cache_dir=self.cache_dir / source.id,
            backlog=not reading.alert,
            memory=self._memory.setdefault(reading.name, {}),
            compute=self.compute,
        )
        return reading.read(source, source.options, reading.state, ctx)

    def _outcome(self, reading: "Reading", result: PollResult, now: datetime) -> PollOutcome:
        """What a read found, decided: what to store, whom to alert, when to look again."""
        source, alert, items = reading.source, reading.alert, result.items
        known = self.store.items.known(source.id, items)
        backlog, fresh = reading.split(items)
        held: dict[str, tuple[NearMiss, ...]] = {}

        personal = self.personal.current()  # subscribers' own words, read once a poll

        def match(item: Item) -> Sequence[TopicMatch]:
            return [
                *self.matcher.match(item.fields, topics=source.topics),
                *personal.match(item.fields),
            ]

        def match_and_hold(item: Item) -> Sequence[TopicMatch]:
            """A fresh item's matches; its near misses are kept for the review queue."""
            assessment = self.matcher.assess(item.fields, topics=source.topics)
            held[item.key] = tuple(assessment.held)
            return [*assessment.matches, *personal.match(item.fields)]

        # A dossier's stream shows the source's texts in other words: never a revision,
        # and no review (the source's own poll queues its near misses).
        revise = not reading.stream
        changes = plan_items(
            backlog, known, match=match, audience=Audience(alert=False), revise=revise
        )
        changes += plan_items(
            fresh,
            known,
            match=match if reading.stream else match_and_hold,
            # Read once per poll, and only when the poll found something to alert.
            audience=Audience(tuple(self.recipients()) if fresh else (), source.territory),
            followed=self.followed(fresh, now) if fresh else NOTHING_FOLLOWED,
            revise=revise,
        )
        # Only a new text's near misses are queued: an update was reviewed when it was new.
        changes = [
            replace(c, held=held[c.item.key]) if c.reason == "new" and held.get(c.item.key) else c
            for c in changes
        ]
        if any(change.alerts for change in changes):  # each chat's /reglages filters
            changes = apply_filters(changes, source, self.store.filters.every())
        return PollOutcome(
            source_id=source.id,
            at=now,
            next_check=next_check_after_success(now, source.interval),
            state=result.state,
            changes=tuple(changes),
            warnings=tuple(map(scrub_surrogates, result.warnings)),
            fetched=len(items),
            unchanged=result.unchanged,
            backlog=not alert,
            stream=reading.stream,
            figures=None if reading.stream else figures_of(result, source, now),
            follow_after_law=timedelta(seconds=self.config.settings.follow_after_law),
        )

    def followed(self, items: Sequence[Item], now: datetime) -> Followed:
        """Who follows the dossiers these items may be steps of (one query per poll)."""
        keys = plan.keys_of(items, self.store.dossiers.subjects(now))
        wanted = {key for item_keys in keys.values() for key in item_keys}
        if not wanted:
            return NOTHING_FOLLOWED
        channels = {str(channel.chat_id) for channel in self.config.channels}
        found = self.store.dossiers.followers_of(wanted, now=now, channels=channels)
        return Followed(found, keys) if found else NOTHING_FOLLOWED

    def failure(
        self,
        source: SourceConfig,
        exc: BaseException,
        now: datetime,
        *,
        errors: int | None = None,
        stream: str = "",
    ) -> PollOutcome:
        """The outcome of a read that failed: its error, and when to try again."""
        if errors is None:
            errors = self.store.sources.record(source.id).consecutive_errors
        next_check = next_check_after_failure(
            now,
            interval=source.interval,
            consecutive_errors=errors + 1,
            max_backoff=self.config.settings.max_backoff,
            retry_after=exc.retry_after if isinstance(exc, FetchError) else None,
        )
        # A message quoting a payload (an ArcGIS error's) may hold half an emoji.
        error = scrub_surrogates(str(exc) or type(exc).__name__)
        return PollOutcome(
            source_id=source.id,
            at=now,
            next_check=next_check,
            error=error,
            stream=stream,
            figures=None if stream else replace(failure_figures(exc, now), error=error[:500]),
        )


@dataclass(frozen=True)
class Reading:
    """What one read needs: a source (or a dossier's stream under its parent source),
    its reader, where it stands, and whether what it finds is alerted."""

    source: SourceConfig
    read: Reader
    state: SourceState
    initialized: bool
    errors: int = 0  # reads that failed in a row (for the backoff)
    stream: str = ""  # the followed dossier whose stream this is
    # A stream's first read: steps from the day the dossier was followed on are new, not
    # backlog (a step published before the feed could first be read is still told).
    since: datetime | None = None

    @property
    def name(self) -> str:
        return f"{self.source.id}>{self.stream}" if self.stream else self.source.id

    def split(self, items: Sequence[Item]) -> tuple[list[Item], list[Item]]:
        """(The backlog, only noted; what may alert): a first read's items are backlog,
        but for a dossier's stream the steps since the dossier was followed."""
        if self.alert:
            return [], list(items)
        if self.since is None:
            return list(items), []
        day = self.since.date()
        new = [i for i in items if (when := step_date(i)) is not None and when.date() >= day]
        return [i for i in items if i not in new], new

    @property
    def alert(self) -> bool:
        """A first read only marks the backlog as seen (a source may backfill it)."""
        backfill = self.source.backfill and not self.stream
        return should_alert(initialized=self.initialized, backfill=backfill)


def unexpected(exc: Exception, name: str) -> Exception:
    """A reader's error as a failed poll's: an unexpected one named by its type.

    Reliability: a reader that raises what it does not declare (an ``OverflowError``
    on a date in year 10000) fails its source like any error, said in one line by
    ``log_outcome``; the traceback, for whoever fixes the reader, only with ``-v``.
    """
    if isinstance(exc, WatcherError):
        return exc
    logger.debug("%s: unexpected error", name, exc_info=exc)
    return WatcherError(f"{type(exc).__name__}: {exc}")


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
