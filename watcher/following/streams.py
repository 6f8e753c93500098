"""A followed dossier's own stream: where its steps are published, read like a source.

``streams_for`` (pure) says, for the followed dossiers, which document to read
and on whose behalf. Where a house publishes a dossier's steps is its kind's
knowledge (``SourceKind.stream``: the Sénat's per-dossier feed, the Assemblée's
dossier document); here is what is common to all of them. Each stream is polled
on its parent source's interval, and its items are stored as that source's,
through the same one-transaction path (``Store.save_poll``). A law's application
texts come through the JO sources instead (``following.follow_keys``).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from watcher.config import Config, SourceConfig
from watcher.sources.base import Reader, SourceState
from watcher.sources.catalog import KINDS
from watcher.store.dossiers import Dossier


@dataclass(frozen=True)
class Stream:
    """One followed dossier's stream: the parent source with the stream's URL."""

    dossier: str
    source: SourceConfig  # the parent's id, name, topics, interval and options
    read: Reader
    state: SourceState
    initialized: bool
    errors: int = 0  # its reads that failed in a row (for the backoff)
    since: datetime | None = None  # when the dossier was first followed

    @property
    def id(self) -> str:
        """Its name in the schedule (never a source id: those have no ``>``)."""
        return f"{self.source.id}>{self.dossier}"


@dataclass(frozen=True)
class Found:
    """Where one dossier's stream is read, and on behalf of which configured source."""

    parent: SourceConfig
    url: str
    read: Reader


def stream_of(config: Config, dossier: str, source_id: str = "") -> Found | None:
    """The stream of ``dossier`` (``senat:pjl22-220``): read on behalf of the source that
    alerted it (a press feed can alert a Sénat bill), else of a source of its house (a
    dossier followed by hand, or whose source left feeds.yml); None when no kind has one."""
    house, _, key = dossier.partition(":")
    houses = {name for name, kind in KINDS.items() if kind.stream and kind.stream.house == house}
    alerted = config.source(source_id)
    parents = [alerted] if alerted is not None else []
    parents += [s for s in config.sources if s.kind in houses]
    for parent in parents:
        stream = KINDS[parent.kind].stream if parent.kind in KINDS else None
        if stream is not None and stream.house == house:
            return Found(parent, stream.url(parent, key), stream.read)
    return None


def streams_for(config: Config, dossiers: Sequence[Dossier], now: datetime) -> list[Stream]:
    """The streams of the dossiers followed now whose source is configured."""
    streams = []
    for dossier in dossiers:
        found = stream_of(config, dossier.dossier, dossier.source_id)
        if found is None or not dossier.followed(now):
            continue
        streams.append(
            Stream(
                dossier.dossier,
                replace(found.parent, url=found.url, backfill=False, fulltext=False),
                found.read,
                dossier.state,
                dossier.initialized,
                dossier.consecutive_errors,
                dossier.created,
            )
        )
    return streams
