"""What every source reader takes and returns."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from watcher.config import SourceConfig
from watcher.fetch import Fetcher
from watcher.items import Item


@dataclass(frozen=True)
class SourceState:
    """What watcher remembers of a source between polls."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    cursor: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PollResult:
    """What one poll of a source found, and the state to remember for the next."""

    items: list[Item]
    state: SourceState
    unchanged: bool = False
    warnings: list[str] = field(default_factory=list)


class Reader(Protocol):
    """Polls one kind of source."""

    def __call__(
        self, source: SourceConfig, state: SourceState, fetcher: Fetcher, now: datetime
    ) -> PollResult: ...
