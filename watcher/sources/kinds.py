"""The ``kind:`` values of feeds.yml sources and the extra options each accepts.

Pure declarations: the configuration validates options with these checkers, each
returning None when the value is right or a one-line message saying what to fix.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

OptionCheck = Callable[[object], str | None]


@dataclass(frozen=True)
class SourceKind:
    """A kind of source: its options and, when it has one, its usual URL."""

    name: str
    options: Mapping[str, OptionCheck] = field(default_factory=dict)
    default_url: str | None = None


KINDS: dict[str, SourceKind] = {
    "rss": SourceKind("rss"),
}
