"""Council deliberations in the SCDL "Délibérations" standard (``kind: scdl``).

The standard's CSV has ``COLL_NOM, COLL_SIRET, DELIB_ID, DELIB_DATE,
DELIB_MATIERE_CODE, DELIB_MATIERE_NOM, DELIB_OBJET`` and optional ``BUDGET_*``,
``PREF_*``, ``VOTE_*``, ``DELIB_URL``. Real files deviate: lower-case headers,
``;`` or ``,`` or tabs, extra columns, cp1252 or UTF-8 with a BOM, an Excel
``sep=;`` first line. Matching reads ``DELIB_OBJET``; identity is
``(COLL_SIRET, DELIB_ID)``. The record-to-item mapping is shared with the
Opendatasoft source, whose datasets carry the same fields.
"""

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from watcher.errors import ParseError
from watcher.fields import option
from watcher.items import Item, content_revision
from watcher.sources.base import (
    PollContext,
    PollResult,
    SourceConfig,
    SourceKind,
    SourceState,
    always,
)
from watcher.sources.conditional import poll_document
from watcher.sources.frenchdates import parse_date
from watcher.sources.options import field_map
from watcher.sources.probing import Page, Probe, Shape, collectivity, newest_first, rows
from watcher.textdecode import decode_bytes

DEFAULT_FIELDS = {
    "id": "DELIB_ID",
    "title": "DELIB_OBJET",
    "date": "DELIB_DATE",
    "url": "DELIB_URL",
    "collectivity": "COLL_NOM",
}
_SEPARATORS = (";", ",", "\t", "|")


def with_defaults(fields: Mapping[str, str]) -> dict[str, str]:
    """The dataset's field names: the standard's, except those a source maps otherwise."""
    return {**DEFAULT_FIELDS, **fields}


@dataclass(frozen=True)
class ScdlOptions:
    # Which columns hold watcher's fields, for files that do not use the standard's names.
    fields: Mapping[str, str] = option(parse=field_map, factory=dict)


def poll_scdl(
    source: SourceConfig, options: ScdlOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    fields = with_defaults(options.fields)
    return poll_document(
        source,
        state,
        ctx,
        lambda response: parse_scdl(response.body, source.id, response.content_type, fields),
    )


def parse_scdl(
    body: bytes, source_id: str, content_type: str = "", fields: Mapping[str, str] = DEFAULT_FIELDS
) -> list[Item]:
    """Items of an SCDL CSV, whatever its separator, case and encoding."""
    text = decode_bytes(body, content_type)
    lines = text.splitlines()
    if lines and lines[0].strip().lower().startswith("sep="):
        separator = lines[0].lstrip()[4:5] or ";"  # not strip(): the separator may be a tab
        lines = lines[1:]
    else:
        header = lines[0] if lines else ""
        separator = max(_SEPARATORS, key=header.count)
    rows = list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter=separator))
    if not rows:
        return []
    columns = {name.strip().lstrip("\ufeff").upper(): name for name in rows[0] if name}
    title_column = fields["title"].upper()
    if title_column not in columns:
        found = ", ".join(sorted(columns)[:8])
        raise ParseError(
            f"the CSV has no {fields['title']} column (found: {found}); "
            "map yours with fields: {title: ..., id: ..., date: ...}"
        )
    normalised = [
        {key: row.get(original) or "" for key, original in columns.items()} for row in rows
    ]
    return records_to_items(normalised, source_id, fields)


def records_to_items(
    records: Iterable[Mapping[str, object]], source_id: str, fields: Mapping[str, str]
) -> list[Item]:
    """Deliberation records (any key case) as items; records without a subject are skipped."""
    items = []
    for record in records:
        get = _getter(record)
        title = get(fields["title"])
        if not title:
            continue
        siret = get("COLL_SIRET")
        delib_id = get(fields["id"]) or title[:80]
        collectivity = get(fields.get("collectivity", "COLL_NOM"))
        matter = get("DELIB_MATIERE_NOM")
        voted = parse_french_date(get(fields["date"]))
        items.append(
            Item(
                source_id=source_id,
                key=f"{siret}:{delib_id}" if siret else delib_id,
                title=_clean_subject(title, delib_id),
                url=get(fields["url"]) or None,
                published=voted,
                summary=" · ".join(p for p in (collectivity, matter) if p),
                body=get(fields["body"]) if "body" in fields else "",
                kind="délibération",
                # A record corrected in place (its subject, its link) is a new revision.
                revision=content_revision(
                    json.dumps({str(k): v for k, v in record.items()}, sort_keys=True, default=str)
                ),
                event_at=voted,
                event="Délibération du conseil" if voted else "",
                dossier=f"{source_id}:{voted.date().isoformat()}" if voted else "",
            )
        )
    return items


def _getter(record: Mapping[str, object]):  # type: ignore[no-untyped-def]
    lowered = {str(key).upper(): value for key, value in record.items()}

    def get(name: str) -> str:
        value = lowered.get(name.upper())
        return "" if value is None else " ".join(str(value).split())

    return get


def _clean_subject(title: str, delib_id: str) -> str:
    """Some exports glue the deliberation number to its subject ("C23_205Action foncière")."""
    if delib_id and title.startswith(delib_id) and len(title) > len(delib_id):
        return title[len(delib_id) :].strip(" -–:")
    return title


def parse_french_date(value: str) -> datetime | None:
    """``2023-12-21``, ``2023-12-28 00:00:00`` or ``21/12/2023``, as a Paris date."""
    value = value.strip()
    return parse_date(value[:10]) if value else None


def _probe(page: Page) -> Probe | None:
    """What ``watcher probe`` shows of an SCDL CSV: its newest deliberations."""
    if page.form != "csv":
        return None
    items = parse_scdl(page.response.body, "probe", page.response.content_type)
    return Probe(
        url=page.url,
        kind="scdl",
        what=f"an SCDL deliberations CSV ({len(items)} deliberations)",
        name=collectivity(items) or urlsplit(page.url).netloc,
        rows=rows(sorted(items, key=newest_first)),
    )


KIND = SourceKind(
    "scdl",
    ScdlOptions,
    poll_scdl,
    "délibérations (données ouvertes)",
    probe=Shape(page=_probe),
    family="collectivites",
    whole_listing=always,  # the whole CSV each time
)
