"""What every source reader takes and returns."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from watcher.config import SourceConfig
from watcher.fetch import FetchSession
from watcher.items import Item


@dataclass(frozen=True)
class SourceState:
    """What watcher remembers of a source between polls (stored in SQLite)."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    cursor: Mapping[str, str] = field(default_factory=dict)


@dataclass
class PollContext:
    """What a reader may use besides its configuration and state."""

    fetcher: FetchSession
    now: datetime
    known: Callable[[Iterable[str]], set[str]]  # which of these item keys are stored already
    environ: Mapping[str, str] = field(default_factory=dict)
    cache_dir: Path = Path(".")
    first_poll: bool = False
    memory: dict[str, Any] = field(default_factory=dict)  # per source, kept between polls


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
        self, source: SourceConfig, state: SourceState, ctx: PollContext
    ) -> PollResult: ...
