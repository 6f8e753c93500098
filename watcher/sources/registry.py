"""Which reader polls each ``kind`` of source."""

from watcher.errors import ConfigError
from watcher.sources.base import Reader
from watcher.sources.rss import poll_rss

READERS: dict[str, Reader] = {
    "rss": poll_rss,
}


def reader_for(kind: str) -> Reader:
    try:
        return READERS[kind]
    except KeyError:
        raise ConfigError(f"no reader for source kind {kind!r}") from None
