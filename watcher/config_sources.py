"""feeds.yml's ``sources:``: where to look, how often, and each kind's own options.

The keys every source takes (``id``, ``url``, ``interval``, ``topics``...) are
read through feeds.yml's vocabulary; the rest are the kind's options, whose
dataclass (``SourceKind.options``) IS its keys and is built by ``fields.build``
like any section. A source is named in errors by its id (``sources[senat]``),
else by its position counted from 1 (``sources[#3]``), as a maintainer counts.
"""

import re
from collections.abc import Mapping
from typing import Any

from watcher.config_reader import Reader, Section
from watcher.fields import (
    SLUG,
    boolean,
    duration,
    keys_of,
    slug,
    territory,
    text,
    topic_ids,
    unlisted_topic,
    url,
)
from watcher.matching.rules import TopicRules
from watcher.sources.base import SourceConfig, SourceKind
from watcher.sources.catalog import KINDS

COMMON_KEYS = (
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
# What `watcher probe` writes for a territory to fill in, and other such fillers.
_PLACEHOLDER = re.compile(
    r"^(\W*|todo|tbd|xxx+|à compléter|a completer|<[^>]*>|\.\.\..*|….*)$", re.I
)


def read_sources(
    reader: Reader, raw: object, interval: float, topics: Mapping[str, TopicRules]
) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list) or not raw:
        raise reader.fail("sources", "must be a non-empty list of {id, name, kind, url}")
    seen: dict[str, int] = {}
    sources = []
    for index, entry in enumerate(raw):
        source = _source(reader, entry, _source_path(entry, index), interval, topics)
        if source.id in seen:
            raise reader.fail(
                f"sources[#{index + 1}].id",
                f"duplicate id {source.id!r} (source #{seen[source.id] + 1} has it too); "
                "ids must be unique",
            )
        seen[source.id] = index
        sources.append(source)
    return tuple(sources)


def _source(
    reader: Reader, entry: object, path: str, interval: float, topics: Mapping[str, TopicRules]
) -> SourceConfig:
    if not isinstance(entry, Mapping):
        raise reader.fail(path, "must be a mapping with id, name, kind, url")
    kind_name = entry.get("kind", "rss")
    if not isinstance(kind_name, str) or kind_name not in KINDS:
        raise reader.fail(f"{path}.kind", f"{kind_name!r} is not one of {', '.join(sorted(KINDS))}")
    kind: SourceKind[Any] = KINDS[kind_name]
    data = reader.section(entry, path, COMMON_KEYS + keys_of(kind.options))
    source_id = data.get("id", slug, missing="give the source a lower-case id, like senat")
    if "url" not in data and kind.default_url is None:
        raise data.fail("url", "is missing; give the address to watch")
    wanted = data.get("topics", topic_ids, tuple(topics))
    unknown = unlisted_topic(wanted, topics)
    if unknown is not None:
        raise data.fail("topics" + unknown.key, str(unknown))
    options = data.build(kind.options)
    fulltext = data.get("fulltext", boolean, False)
    if fulltext and kind.no_fulltext:
        raise data.fail("fulltext", f"kind {kind_name} {kind.no_fulltext}")
    return SourceConfig(
        id=source_id,
        name=data.get("name", text, source_id),
        kind=kind_name,
        url=data.get("url", url, kind.default_url or ""),
        interval=data.get("interval", duration, interval),
        topics=wanted,
        backfill=data.get("backfill", boolean, False),
        fulltext=fulltext,
        options=options,
        territory=_territory(data),
    )


def _source_path(entry: object, index: int) -> str:
    """How errors name a source: by its id, else by its position counted from 1."""
    source_id = entry.get("id") if isinstance(entry, Mapping) else None
    if isinstance(source_id, str) and SLUG.match(source_id.strip()):
        return f"sources[{source_id.strip()}]"
    return f"sources[#{index + 1}]"


def _territory(data: Section) -> str:
    place = data.get("territory", territory, "")
    if place and _PLACEHOLDER.match(place):
        raise data.fail(
            "territory",
            f"{place!r} is a placeholder; write the place the source covers, like "
            "Rennes Métropole, or remove the line",
        )
    return place
