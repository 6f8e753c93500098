"""feeds.yml's ``targets:``: where alerts go, each entry read through its kind's declaration.

The keys every target takes (``kind``, ``name``, ``topics``, ``territories``)
are read through feeds.yml's vocabulary; the rest are the kind's options, whose
dataclass (``TargetKind.options``) IS its keys and is built by ``fields.build``
like a source kind's, so a target's errors read like any other:
``feeds.yml: targets[0].url: 'ftp://x' must be an http(s) URL``. The topics an
option names (``fields.topic_ids``, a Telegram channel's) must be feeds.yml's.
"""

import dataclasses
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from watcher.config_reader import Reader, Section
from watcher.delivery.base import TargetConfig, TargetKind
from watcher.delivery.targets import KINDS
from watcher.fields import (
    FieldError,
    key_of,
    keys_of,
    list_of,
    territory,
    topic_ids,
    unlisted_topic,
)

COMMON_KEYS = ("kind", "name", "topics", "territories")
# A target's name is its alert rows' destination: it must not look like a chat id.
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_PLACES = list_of(territory, allow_empty=True)


def read_targets(reader: Reader, raw: object, topics: Collection[str]) -> tuple[TargetConfig, ...]:
    """The targets of feeds.yml (none: the default, chosen by the environment)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise reader.fail("targets", "must be a list of targets, each with a kind")
    targets = [_target(reader, entry, f"targets[{i}]", topics) for i, entry in enumerate(raw)]
    names = [target.name for target in targets]
    for i, target in enumerate(targets):
        if names.index(target.name) != i:
            raise reader.fail(
                f"targets[{i}].name",
                f"{target.name!r} is used twice; give each target its own name",
            )
    return tuple(targets)


def _target(reader: Reader, entry: object, path: str, topics: Collection[str]) -> TargetConfig:
    if not isinstance(entry, Mapping):
        raise reader.fail(path, f"must be a mapping with a kind ({', '.join(KINDS)})")
    kind_name = entry.get("kind")
    if not isinstance(kind_name, str) or kind_name not in KINDS:
        raise reader.fail(f"{path}.kind", f"{kind_name!r} must be one of {', '.join(KINDS)}")
    kind = KINDS[kind_name]
    data = reader.section(entry, path, COMMON_KEYS + keys_of(kind.options))
    wanted: tuple[str, ...] = data.get("topics", topic_ids, ())
    places: list[str] = data.get("territories", _PLACES, [])
    options = data.build(kind.options)
    _known_topics(data, wanted, options, topics)
    return TargetConfig(
        kind.name,
        _name(data, kind),
        frozenset(wanted) if wanted else None,
        frozenset(places),
        options,
    )


def _known_topics(
    data: Section, wanted: tuple[str, ...], options: object, topics: Collection[str]
) -> None:
    """The target's own ``topics:``, and those its options name, are feeds.yml's."""
    error = unlisted_topic(wanted, topics)
    if error is not None:
        raise data.fail("topics" + error.key, str(error))
    error = unknown_topic(options, topics)
    if error is not None:
        raise data.fail(error.key, str(error))


def _name(data: Section, kind: TargetKind) -> str:
    """Its name: the kind's unless given; never another kind's, nor a chat's id."""
    name = data.get("name", _short_name, kind.name)
    if name in KINDS and name != kind.name:
        raise data.fail("name", f"{name!r} is another kind's name; give the target its own")
    if kind.own_name and name != kind.name:
        raise data.fail("name", f"the {kind.name} target is named {kind.name} ({kind.own_name})")
    return name


def _short_name(value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(f"{value!r} must be a short lowercase name (letters, digits, - or _)")
    return value


def unknown_topic(options: object, topics: Collection[str]) -> FieldError | None:
    """The first topic named by options read by ``fields.topic_ids`` (a Telegram channel's)
    that feeds.yml does not define; ``options`` is a section's dataclass, or a list of them
    (its key then starts ``[i]``), nested lists' entries included."""
    for checker, key, value in _declared(options, ""):
        error = unlisted_topic(value, topics) if checker is topic_ids else None
        if error is not None:
            return FieldError(key + error.key, str(error))
    return None


def _declared(options: object, path: str) -> Iterator[tuple[object, str, Any]]:
    """(checker, key path, value) of each declared field, in lists' entries too."""
    if isinstance(options, list | tuple):
        for i, one in enumerate(options):
            yield from _declared(one, f"{path}[{i}]")
    elif dataclasses.is_dataclass(options) and not isinstance(options, type):
        for declared in dataclasses.fields(options):
            key = f"{path}.{key_of(declared)}" if path else key_of(declared)
            value = getattr(options, declared.name)
            yield declared.metadata.get("parse"), key, value
            yield from _declared(value, key)
