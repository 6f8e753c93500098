"""Reading and validating feeds.yml into frozen dataclasses.

``load_config(path)`` is the only way in: it either returns a complete, valid
``Config`` or raises one ``ConfigError`` whose message names the file, the key
path and what to fix, e.g. ``feeds.yml: sources[senat-textes].interval: "5 min" is not a
duration like 30s, 15m, 2h, 1d``. Every section is read through one vocabulary of
field checkers (``watcher.fields``) by its own module (``config_topics``,
``config_sources``, ``config_targets``; ``settings:`` here).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from watcher.config_reader import Reader
from watcher.config_sources import read_sources
from watcher.config_targets import read_targets, unknown_topic
from watcher.config_topics import read_topics
from watcher.config_yaml import load_yaml
from watcher.delivery.base import TargetConfig
from watcher.delivery.telegram_kind import CHANNELS, ChannelConfig
from watcher.errors import ConfigError
from watcher.fields import (
    boolean,
    clock_time,
    duration,
    keys_of,
    list_of,
    option,
    size,
    text,
    time_zone,
    whole_number,
)
from watcher.matching.rules import TopicRules
from watcher.sources.base import SourceConfig

__all__ = [
    "ChannelConfig",
    "Config",
    "Settings",
    "SourceConfig",
    "TargetConfig",
    "load_config",
    "parse_config",
]

_TOP_KEYS = ("settings", "topics", "sources", "channels", "maintainers", "targets")
# ``settings:`` is declared like a kind's options: each field is one of its keys
# (``max_response_size`` fills ``max_response_bytes``), with its default and checker.
_FEW = whole_number(1, 64)


@dataclass(frozen=True)
class Settings:
    """Defaults for every source, and the bot's global knobs."""

    interval: float = option(900.0, parse=duration)
    timeout: float = option(30.0, parse=duration)
    max_response_bytes: int = option(20 * 1024 * 1024, parse=size, key="max_response_size")
    max_backoff: float = option(6 * 3600.0, parse=duration)
    digest_time: str = option("08:00", parse=clock_time)
    timezone: str = option("Europe/Paris", parse=time_zone)
    concurrency: int = option(4, parse=_FEW)
    per_host: int = option(4, parse=_FEW)  # requests in flight to one host, whatever the source
    # A poll's hard deadline, all its requests included.
    poll_timeout: float = option(300.0, parse=duration)
    allow_private_addresses: bool = option(False, parse=boolean)  # for linked documents
    # Sends failing for a transient reason are retried forever, at most this far apart.
    delivery_backoff: float = option(15 * 60.0, parse=duration)
    # `watcher run` keeps <topic>.xml Atom feeds here (relative to feeds.yml's directory).
    atom_dir: str | None = option(None, parse=text)
    backup_dir: str | None = option(None, parse=text)  # nightly online backups go here
    backup_keep: int = option(7, parse=_FEW)  # how many of them are kept
    # Unmatched items older than this are pruned.
    retention: float = option(2 * 365 * 86400.0, parse=duration)
    # A dossier whose law was published is followed this long for its decrees, then ends.
    follow_after_law: float = option(183 * 86400.0, parse=duration)


@dataclass(frozen=True)
class Config:
    """The whole of feeds.yml, validated."""

    path: Path
    settings: Settings
    topics: Mapping[str, TopicRules]
    sources: tuple[SourceConfig, ...]
    channels: tuple[ChannelConfig, ...]
    maintainers: frozenset[int]
    # A topic's former ids (``renamed_from:`` or ``aliases:``): old id -> current id.
    # Subscriptions to an old id follow it (watcher.renames).
    renamed: Mapping[str, str] = field(default_factory=dict)
    targets: tuple[TargetConfig, ...] = ()  # feeds.yml's targets: (empty: the default)

    def source(self, source_id: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.id == source_id), None)


def load_config(path: str | Path) -> Config:
    """Read and validate feeds.yml; raise ConfigError naming the key to fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found; pass --config PATH or set WATCHER_CONFIG"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    """Validate the YAML text of a feeds.yml (``path`` is used for messages only)."""
    reader = Reader(path.name)
    try:
        document = load_yaml(text)
    except ValueError as exc:
        raise reader.fail("", str(exc)) from None
    top = reader.section(document if document is not None else {}, "", _TOP_KEYS).data
    settings = _settings(reader, top.get("settings", {}))
    topics, renamed = read_topics(reader, top.get("topics"))
    sources = read_sources(reader, top.get("sources"), settings.interval, topics)
    channels = _channels(reader, top.get("channels", []), topics)
    maintainers = _maintainers(reader, top.get("maintainers", []))
    targets = read_targets(reader, top.get("targets"), list(topics))
    return Config(
        path, settings, topics, sources, channels, maintainers, renamed=renamed, targets=targets
    )


def _settings(reader: Reader, raw: object) -> Settings:
    """``settings:``, every key optional."""
    section = reader.section(raw if raw is not None else {}, "settings", keys_of(Settings))
    return section.build(Settings)


def user_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} must be a numeric user id")
    return value


def _channels(
    reader: Reader, raw: object, topics: Mapping[str, TopicRules]
) -> tuple[ChannelConfig, ...]:
    """The top-level ``channels:``, the Telegram target's (declared in ``telegram_kind``)."""
    channels = reader.value(raw if raw is not None else [], CHANNELS, "channels")
    error = unknown_topic(channels, topics)
    if error is not None:
        raise reader.fail("channels" + error.key, str(error))
    return channels


def _maintainers(reader: Reader, raw: object) -> frozenset[int]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise reader.fail("maintainers", "must be a list of Telegram user ids (numbers)")
    return frozenset(reader.value(raw, list_of(user_id, allow_empty=True), "maintainers"))
