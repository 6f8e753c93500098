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


def streams_for(config: Config, dossiers: Sequence[Dossier], now: datetime) -> list[Stream]:
    """The streams of the dossiers followed now whose source is configured."""
    streams = []
    for dossier in dossiers:
        if not dossier.followed(now):
            continue
        # The source that alerted it (a press feed can alert a Sénat bill), else one of its house.
        parents = (config.source(dossier.source_id), _fallback(config, dossier.dossier))
        found, parent = next(
            ((f, p) for p in parents if p is not None and (f := _stream_of(dossier.dossier, p))),
            (None, None),
        )
        if found is not None and parent is not None:
            url, read = found
            streams.append(
                Stream(
                    dossier.dossier,
                    replace(parent, url=url, backfill=False, fulltext=False),
                    read,
                    dossier.state,
                    dossier.initialized,
                    dossier.consecutive_errors,
                    dossier.created,
                )
            )
    return streams


def _fallback(config: Config, dossier: str) -> SourceConfig | None:
    """A dossier followed by hand, alerted by a source of another kind, or whose source left
    feeds.yml: a source of its house."""
    house = dossier.split(":", 1)[0]
    kinds = {name for name, kind in KINDS.items() if kind.stream and kind.stream.house == house}
    return next((s for s in config.sources if s.kind in kinds), None)


def _stream_of(dossier: str, parent: SourceConfig) -> tuple[str, Reader] | None:
    house, _, key = dossier.partition(":")
    stream = KINDS[parent.kind].stream if parent.kind in KINDS else None
    if stream is None or stream.house != house:
        return None
    return stream.url(parent, key), stream.read
