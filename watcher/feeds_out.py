"""Alerts for people outside Telegram: an Atom 1.0 feed per topic, CSV and JSONL exports.

``watcher feed`` and ``watcher export`` write them once; ``watcher run`` keeps one
Atom file per topic up to date in ``settings.atom_dir`` after each poll that
matched something. Files are written to a temporary name and renamed, so a
feed reader never reads half a file.

Entry ids are stable (derived from the source and the item's key), so a feed
reader shows each text once even when it changes (its ``updated`` moves).
"""

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from xml.etree import ElementTree as ET

from watcher.config import Config
from watcher.delivery.render import format_date, words_found
from watcher.errors import WatcherError
from watcher.store.db import Database
from watcher.store.search import Found, Search

ATOM = "http://www.w3.org/2005/Atom"
FEED_LIMIT = 50
EXPORT_FIELDS = (
    "date",
    "source",
    "territory",
    "topics",
    "title",
    "url",
    "words",
    "excerpt",
    "kind",
    "first_seen",
)


@dataclass(frozen=True)
class Row:
    """One matched item as exports show it."""

    date: str
    source: str
    territory: str
    topics: str
    title: str
    url: str
    words: str
    excerpt: str
    kind: str
    first_seen: str


def entry_id(found: Found) -> str:
    digest = hashlib.sha256(f"{found.item.source_id}\0{found.item.key}".encode()).hexdigest()
    return f"urn:watcher:item:{digest[:32]}"


def _stamp(moment: datetime | None) -> str:
    moment = moment or datetime(1970, 1, 1, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _updated(found: Found) -> datetime | None:
    return found.updated or found.seen or found.item.published


def atom_feed(config: Config, topic: str, found: Iterable[Found]) -> bytes:
    """An Atom 1.0 document of one topic's latest matched items."""
    if topic not in config.topics:
        raise WatcherError(f"unknown topic {topic!r}; feeds.yml has: {', '.join(config.topics)}")
    label = config.topics[topic].label
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    entries = list(found)
    _text(feed, "id", f"urn:watcher:topic:{topic}")
    _text(feed, "title", f"watcher — {label}")
    _text(feed, "subtitle", f"Textes publics sur le sujet « {label} », repérés par watcher")
    newest = max((u for f in entries if (u := _updated(f))), default=None)
    _text(feed, "updated", _stamp(newest))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "watcher")
    _text(feed, "generator", "watcher")
    for entry in entries:
        feed.append(_entry(config, topic, label, entry))
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _entry(config: Config, topic: str, label: str, found: Found) -> ET.Element:
    item = found.item
    entry = ET.Element(f"{{{ATOM}}}entry")
    _text(entry, "id", entry_id(found))
    _text(entry, "title", item.title or "(sans titre)")
    if item.url:
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=item.url)
    _text(entry, "updated", _stamp(_updated(found)))
    if item.published:
        _text(entry, "published", _stamp(item.published))
    ET.SubElement(entry, f"{{{ATOM}}}category", term=topic, label=label)
    row = export_row(config, found)
    summary = [p for p in (row.source, row.territory, row.date) if p]
    lines = [" · ".join(summary)]
    if row.words:
        lines.append(f"Mots trouvés : {row.words}")
    if row.excerpt:
        lines.append(f"Extrait : {row.excerpt}")
    _text(entry, "summary", "\n".join(lines)).set("type", "text")
    return entry


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = text
    return element


def export_row(config: Config, found: Found) -> Row:
    item = found.item
    source = config.source(item.source_id)
    excerpt = next((m.excerpt.marked() for m in found.matches if m.excerpt), "")
    return Row(
        date=format_date(item.published, config.settings.timezone),
        source=source.name if source else item.source_id,
        territory=source.territory if source else "",
        topics=", ".join(m.topic for m in found.matches),
        title=item.title,
        url=item.url or "",
        words=", ".join(words_found(found.matches)),
        excerpt=excerpt,
        kind=item.kind,
        first_seen=_stamp(found.seen) if found.seen else "",
    )


def write_export(config: Config, found: Iterable[Found], out: TextIO, fmt: str) -> int:
    """Every matched item as CSV (with a header) or JSONL; the count written."""
    rows: Iterator[Row] = (export_row(config, f) for f in found)
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.__dict__)
            count += 1
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row.__dict__, ensure_ascii=False) + "\n")
            count += 1
    else:
        raise WatcherError(f"unknown export format {fmt!r}; use csv or jsonl")
    return count


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary file and a rename: readers see old or new, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atom_dir(config: Config, database: Database, directory: Path) -> list[Path]:
    """One ``<topic>.xml`` per topic in ``directory`` (``settings.atom_dir``)."""
    search = Search(database)
    written = []
    for topic in config.topics:
        path = directory / f"{topic}.xml"
        found = search.matched(topic=topic, limit=FEED_LIMIT)
        write_atomically(path, atom_feed(config, topic, found))
        written.append(path)
    return written


def render_search(config: Config, found: Iterable[Found]) -> str:
    """`watcher search` results: one block per item."""
    out = io.StringIO()
    for f in found:
        row = export_row(config, f)
        labels = ", ".join(
            config.topics[m.topic].label for m in f.matches if m.topic in config.topics
        )
        about = " · ".join(p for p in (row.date, row.source, row.territory, labels) if p)
        out.write(f"{row.title}\n  {about}\n")
        if row.url:
            out.write(f"  {row.url}\n")
        if row.words:
            out.write(f"  mots trouvés : {row.words}\n")
    return out.getvalue()
