"""Reading and validating feeds.yml into frozen dataclasses.

``load_config(path)`` is the only way in: it either returns a complete, valid
``Config`` or raises one ``ConfigError`` whose message names the file, the key
path and what to fix, e.g. ``feeds.yml: sources[senat-textes].interval: "5 min" is not a
duration like 30s, 15m, 2h, 1d``.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from watcher.config_yaml import load_yaml
from watcher.delivery.base import OptionError as TargetOptionError
from watcher.delivery.base import TargetConfig
from watcher.delivery.targets import parse_targets
from watcher.delivery.telegram_kind import ChannelConfig
from watcher.durations import parse_duration, parse_size
from watcher.errors import ConfigError, RuleError
from watcher.matching.rules import TopicRules, compile_topic
from watcher.sources.base import SourceConfig, SourceKind
from watcher.sources.catalog import KINDS
from watcher.sources.options import OptionError, build_options, option_names, territory

__all__ = [
    "ChannelConfig",
    "Config",
    "Settings",
    "SourceConfig",
    "TargetConfig",
    "load_config",
    "parse_config",
]

_COMMON_KEYS = (
    "id",
    "name",
    "kind",
    "url",
    "interval",
    "topics",
    "backfill",
    "fulltext",
    "territory",
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Settings:
    """Defaults for every source, and the bot's global knobs."""

    interval: float = 900.0
    timeout: float = 30.0
    max_response_bytes: int = 20 * 1024 * 1024
    max_backoff: float = 6 * 3600.0
    digest_time: str = "08:00"
    timezone: str = "Europe/Paris"
    concurrency: int = 4
    per_host: int = 4  # requests in flight to one host, whatever the source
    poll_timeout: float = 300.0  # a poll's hard deadline, all its requests included
    allow_private_addresses: bool = False  # fetch linked documents on private addresses
    delivery_backoff: float = 15 * 60.0  # sends failing for a transient reason: retried
    # forever, at most this far apart
    atom_dir: str | None = None  # `watcher run` keeps <topic>.xml Atom feeds here
    # (relative to feeds.yml's directory)
    backup_dir: str | None = None  # nightly online backups of the database go here
    backup_keep: int = 7  # how many of them are kept
    retention: float = 2 * 365 * 86400.0  # unmatched items older than this are pruned
    # A dossier whose law was published is followed this long for its decrees, then ends.
    follow_after_law: float = 183 * 86400.0


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


class _Reader:
    """Walks the parsed YAML, raising ConfigError at the first mistake with its key path."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def fail(self, path: str, message: str) -> ConfigError:
        where = f"{self.filename}: {path}: " if path else f"{self.filename}: "
        return ConfigError(where + message)

    def mapping(self, value: object, path: str, allowed: Sequence[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be a mapping of keys ({', '.join(allowed)})")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    f"{path}.{key}" if path else str(key),
                    f"unknown key; expected one of {', '.join(allowed)}",
                )
        return value

    def string(self, value: object, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "must be a non-empty string")
        return value.strip()

    def boolean(self, value: object, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"{value!r} must be true or false")
        return value

    def duration(self, value: object, path: str) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None

    def size(self, value: object, path: str) -> int:
        try:
            return parse_size(value)
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None

    def url(self, value: object, path: str) -> str:
        text = self.string(value, path)
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail(path, f"{text!r} must be an http(s) URL")
        return text

    def string_list(self, value: object, path: str, *, allow_empty: bool = False) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or (not value and not allow_empty):
            raise self.fail(path, "must be a non-empty list")
        return [self.string(item, f"{path}[{i}]") for i, item in enumerate(value)]


def load_config(path: str | Path) -> Config:
    """Read and validate feeds.yml; raise ConfigError naming the key to fix."""
    path = Path(path)
    reader = _Reader(path.name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found; pass --config PATH or set WATCHER_CONFIG"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return parse_config(text, path, reader)


def parse_config(text: str, path: Path, reader: _Reader | None = None) -> Config:
    """Validate the YAML text of a feeds.yml (``path`` is used for messages only)."""
    reader = reader or _Reader(path.name)
    try:
        document = load_yaml(text)
    except ValueError as exc:
        raise reader.fail("", str(exc)) from None
    top = reader.mapping(
        document if document is not None else {},
        "",
        ("settings", "topics", "sources", "channels", "maintainers", "targets"),
    )
    settings = _settings(reader, top.get("settings", {}))
    topics = _topics(reader, top.get("topics"))
    sources = _sources(reader, top.get("sources"), settings, topics)
    channels = _channels(reader, top.get("channels", []), topics)
    maintainers = _maintainers(reader, top.get("maintainers", []))
    renamed = _renamed(reader, top.get("topics"), topics)
    try:
        targets = parse_targets(top.get("targets"), list(topics))
    except TargetOptionError as exc:
        raise reader.fail(f"targets{exc.key}", str(exc)) from None
    return Config(
        path, settings, topics, sources, channels, maintainers, renamed=renamed, targets=targets
    )


def _settings(reader: _Reader, raw: object) -> Settings:
    keys = (
        "interval",
        "timeout",
        "max_response_size",
        "max_backoff",
        "digest_time",
        "timezone",
        "concurrency",
        "per_host",
        "poll_timeout",
        "allow_private_addresses",
        "delivery_backoff",
        "atom_dir",
        "backup_dir",
        "backup_keep",
        "retention",
        "follow_after_law",
    )
    data = reader.mapping(raw if raw is not None else {}, "settings", keys)
    defaults = Settings()
    digest_time = data.get("digest_time", defaults.digest_time)
    if isinstance(digest_time, int) and not isinstance(digest_time, bool):
        hours, minutes = divmod(digest_time, 60)  # YAML 1.1 reads 8:00 as 480 (base 60)
        raise reader.fail(
            "settings.digest_time",
            f"{hours}:{minutes:02d} without quotes is read as the number {digest_time}; "
            f'write it in quotes, like digest_time: "{hours:02d}:{minutes:02d}"',
        )
    digest_time = str(digest_time)
    if not _CLOCK.match(digest_time):
        raise reader.fail("settings.digest_time", f"{digest_time!r} must be a time like 08:00")
    timezone = reader.string(data.get("timezone", defaults.timezone), "settings.timezone")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(timezone)
    except (KeyError, ValueError):
        raise reader.fail("settings.timezone", f"{timezone!r} is not a time zone") from None
    return Settings(
        interval=reader.duration(data.get("interval", defaults.interval), "settings.interval"),
        timeout=reader.duration(data.get("timeout", defaults.timeout), "settings.timeout"),
        max_response_bytes=reader.size(
            data.get("max_response_size", defaults.max_response_bytes),
            "settings.max_response_size",
        ),
        max_backoff=reader.duration(
            data.get("max_backoff", defaults.max_backoff), "settings.max_backoff"
        ),
        digest_time=digest_time,
        timezone=timezone,
        concurrency=_whole(reader, data.get("concurrency", defaults.concurrency), "concurrency"),
        per_host=_whole(reader, data.get("per_host", defaults.per_host), "per_host"),
        poll_timeout=reader.duration(
            data.get("poll_timeout", defaults.poll_timeout), "settings.poll_timeout"
        ),
        allow_private_addresses=reader.boolean(
            data.get("allow_private_addresses", defaults.allow_private_addresses),
            "settings.allow_private_addresses",
        ),
        follow_after_law=reader.duration(
            data.get("follow_after_law", defaults.follow_after_law), "settings.follow_after_law"
        ),
        delivery_backoff=reader.duration(
            data.get("delivery_backoff", defaults.delivery_backoff), "settings.delivery_backoff"
        ),
        atom_dir=reader.string(data["atom_dir"], "settings.atom_dir")
        if "atom_dir" in data
        else None,
        backup_dir=reader.string(data["backup_dir"], "settings.backup_dir")
        if "backup_dir" in data
        else None,
        backup_keep=_whole(reader, data.get("backup_keep", defaults.backup_keep), "backup_keep"),
        retention=reader.duration(data.get("retention", defaults.retention), "settings.retention"),
    )


def _whole(reader: _Reader, value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 64:
        raise reader.fail(f"settings.{key}", f"{value!r} must be a whole number from 1 to 64")
    return value


TOPIC_KEYS = (
    "label",
    "keywords",
    "exclude",
    "weak",
    "weak_min",
    "weak_repeat",
    "weak_title",
    "negation",
)


def _topics(reader: _Reader, raw: object) -> dict[str, TopicRules]:
    if not isinstance(raw, Mapping) or not raw:
        raise reader.fail("topics", "must map at least one topic id to {label, keywords}")
    topics: dict[str, TopicRules] = {}
    for topic_id, body in raw.items():
        path = f"topics.{topic_id}"
        if not isinstance(topic_id, str) or not _SLUG.match(topic_id):
            raise reader.fail(path, "topic id must be a lower-case slug like biometrie")
        data = reader.mapping(
            body,
            path,
            (*TOPIC_KEYS, "renamed_from", "aliases"),
        )
        if "keywords" not in data:
            raise reader.fail(f"{path}.keywords", "is missing; list the words that alert")
        keywords = data["keywords"]
        if not isinstance(keywords, list) or not keywords:
            raise reader.fail(f"{path}.keywords", "must be a non-empty list")
        weak_min = data.get("weak_min", 2)
        if isinstance(weak_min, bool) or not isinstance(weak_min, int) or weak_min < 1:
            raise reader.fail(f"{path}.weak_min", f"{weak_min!r} must be a whole number >= 1")
        weak_repeat = data.get("weak_repeat", 0)
        if isinstance(weak_repeat, bool) or not isinstance(weak_repeat, int) or weak_repeat < 0:
            raise reader.fail(
                f"{path}.weak_repeat", f"{weak_repeat!r} must be a whole number (0: off)"
            )
        weak_title = data.get("weak_title", False)
        if not isinstance(weak_title, bool):
            raise reader.fail(f"{path}.weak_title", f"{weak_title!r} must be true or false")
        negation = data.get("negation")
        if negation is not None and not isinstance(negation, Mapping):
            raise reader.fail(
                f"{path}.negation", "must be a mapping {words: [...], bans: [...], within: N}"
            )
        try:
            topics[topic_id] = compile_topic(
                topic_id,
                label=reader.string(data.get("label", topic_id), f"{path}.label"),
                keywords=keywords,
                exclude=_rule_list(reader, data.get("exclude", []), f"{path}.exclude"),
                weak=reader.string_list(data.get("weak", []), f"{path}.weak", allow_empty=True),
                weak_min=weak_min,
                weak_repeat=weak_repeat,
                weak_title=weak_title,
                negation=negation,
            )
        except RuleError as exc:
            raise reader.fail(path, str(exc)) from None
    return topics


def _renamed(reader: _Reader, raw: object, topics: Mapping[str, TopicRules]) -> dict[str, str]:
    """Each former topic id (``renamed_from:``, or its synonym ``aliases:``) -> its topic."""
    renamed: dict[str, str] = {}
    assert isinstance(raw, Mapping)  # _topics checked it
    for topic_id, body in raw.items():
        for key in ("renamed_from", "aliases"):
            path = f"topics.{topic_id}.{key}"
            for i, old in enumerate(reader.string_list(body.get(key, []), path, allow_empty=True)):
                if not _SLUG.match(old):
                    raise reader.fail(f"{path}[{i}]", "a former topic id is a lower-case slug")
                if old in topics:
                    raise reader.fail(f"{path}[{i}]", f"{old!r} is still a topic of its own")
                if renamed.get(old, topic_id) != topic_id:
                    raise reader.fail(f"{path}[{i}]", f"{old!r} is claimed by {renamed[old]!r} too")
                renamed[old] = topic_id
    return renamed


def _rule_list(reader: _Reader, value: object, path: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise reader.fail(path, "must be a list of phrases or {near, with, within} rules")
    return value


def _sources(
    reader: _Reader, raw: object, settings: Settings, topics: Mapping[str, TopicRules]
) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise reader.fail("sources", "must be a non-empty list of {id, name, kind, url}")
    seen: dict[str, int] = {}
    sources = []
    for index, entry in enumerate(raw):
        path = _source_path(entry, index)
        if not isinstance(entry, Mapping):
            raise reader.fail(path, "must be a mapping with id, name, kind, url")
        kind_name = entry.get("kind", "rss")
        if kind_name not in KINDS:
            raise reader.fail(
                f"{path}.kind", f"{kind_name!r} is not one of {', '.join(sorted(KINDS))}"
            )
        kind: SourceKind[Any] = KINDS[kind_name]
        data = reader.mapping(entry, path, _COMMON_KEYS + option_names(kind.options))
        source_id = reader.string(data.get("id"), f"{path}.id")
        if not _SLUG.match(source_id):
            raise reader.fail(f"{path}.id", f"{source_id!r} must be a lower-case slug")
        if source_id in seen:
            raise reader.fail(
                f"sources[#{index + 1}].id",
                f"duplicate id {source_id!r} (source #{seen[source_id] + 1} has it too); "
                "ids must be unique",
            )
        seen[source_id] = index
        if "url" not in data and kind.default_url is None:
            raise reader.fail(f"{path}.url", "is missing; give the address to watch")
        url = reader.url(data.get("url", kind.default_url), f"{path}.url")
        topic_ids = tuple(reader.string_list(data.get("topics", list(topics)), f"{path}.topics"))
        for i, topic_id in enumerate(topic_ids):
            if topic_id not in topics:
                raise reader.fail(f"{path}.topics[{i}]", f"unknown topic {topic_id!r}")
        try:
            options = build_options(kind.options, data)
        except OptionError as exc:
            raise reader.fail(f"{path}.{exc.key}" if exc.key else path, str(exc)) from None
        fulltext = reader.boolean(data.get("fulltext", False), f"{path}.fulltext")
        if fulltext and kind.no_fulltext:
            raise reader.fail(f"{path}.fulltext", f"kind {kind_name} {kind.no_fulltext}")
        sources.append(
            SourceConfig(
                id=source_id,
                name=reader.string(data.get("name", source_id), f"{path}.name"),
                kind=kind_name,
                url=url,
                interval=reader.duration(
                    data.get("interval", settings.interval), f"{path}.interval"
                ),
                topics=topic_ids,
                backfill=reader.boolean(data.get("backfill", False), f"{path}.backfill"),
                fulltext=fulltext,
                options=options,
                territory=_territory(reader, data, f"{path}.territory"),
            )
        )
    return tuple(sources)


def _source_path(entry: object, index: int) -> str:
    """How errors name a source: by its id (``sources[senat]``), else by its
    position counted from 1 (``sources[#3]``), as a maintainer counts."""
    source_id = entry.get("id") if isinstance(entry, Mapping) else None
    if isinstance(source_id, str) and _SLUG.match(source_id.strip()):
        return f"sources[{source_id.strip()}]"
    return f"sources[#{index + 1}]"


# What `watcher probe` writes for a territory to fill in, and other such fillers.
_PLACEHOLDER = re.compile(
    r"^(\W*|todo|tbd|xxx+|à compléter|a completer|<[^>]*>|\.\.\..*|….*)$", re.I
)


def _territory(reader: _Reader, data: Mapping[str, Any], path: str) -> str:
    if "territory" not in data:
        return ""
    try:
        place = territory(data["territory"])
    except ValueError as exc:
        raise reader.fail(path, str(exc)) from None
    if _PLACEHOLDER.match(place):
        raise reader.fail(
            path,
            f"{place!r} is a placeholder; write the place the source covers, like "
            "Rennes Métropole, or remove the line",
        )
    return place


def _channels(
    reader: _Reader, raw: object, topics: Mapping[str, TopicRules]
) -> tuple[ChannelConfig, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise reader.fail("channels", "must be a list of {chat_id, topics}")
    channels = []
    for index, entry in enumerate(raw):
        path = f"channels[{index}]"
        data = reader.mapping(entry, path, ("chat_id", "topics"))
        chat_id = data.get("chat_id")
        # Quoted ids are common, "-100555" copied as is from a message link or a bot.
        if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id.strip()):
            chat_id = int(chat_id)
        if isinstance(chat_id, bool) or not (
            isinstance(chat_id, int) or (isinstance(chat_id, str) and chat_id.startswith("@"))
        ):
            raise reader.fail(
                f"{path}.chat_id", f"{chat_id!r} must be a numeric chat id or an @channelname"
            )
        topic_ids = tuple(reader.string_list(data.get("topics", list(topics)), f"{path}.topics"))
        for i, topic_id in enumerate(topic_ids):
            if topic_id not in topics:
                raise reader.fail(f"{path}.topics[{i}]", f"unknown topic {topic_id!r}")
        channels.append(ChannelConfig(chat_id, topic_ids))
    return tuple(channels)


def _maintainers(reader: _Reader, raw: object) -> frozenset[int]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise reader.fail("maintainers", "must be a list of Telegram user ids (numbers)")
    for index, user_id in enumerate(raw):
        if isinstance(user_id, bool) or not isinstance(user_id, int):
            raise reader.fail(f"maintainers[{index}]", f"{user_id!r} must be a numeric user id")
    return frozenset(raw)
