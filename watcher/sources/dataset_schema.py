"""A dataset's schema (Opendatasoft dataset, ArcGIS layer), and which of its fields are watcher's.

Not every dataset is SCDL: Île-de-France's acts dataset publishes a decision
date, a title, a type, HTML text and a PDF link under its own names, and has no
``delib_date`` (the first query, ordered on it, got HTTP 400). ``fields:``
(``date``, ``title``, ``id``, ``url``) maps watcher's fields to the dataset's.
The Explore API v2.1 describes a dataset at ``…/catalog/datasets/{id}``:
``{"dataset_id", "fields": [{"name", "label", "type"}, …]}`` (the official
OpenAPI spec, ../shared/fixtures/real/opendatasoft/ods_explore_v2.1_openapi.json,
schema ``dataset-v2.1``). Before its first query a source checks its mapping
against that schema: a mapped field the dataset lacks is an error naming the
fields it has; a standard (SCDL) field it lacks is looked for among its fields
by name and type (a date field for ``date``, a file or URL field for ``url``).
An ArcGIS layer describes its fields at ``{layer}?f=json`` (``fields: [{name,
type: esriFieldTypeDate…}]``, as in tests/fixtures/arcgis_query_page.json) and
is checked the same way. ``checked_fields`` fetches a schema once per process
and source; the rest is pure.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from watcher.errors import FetchError, ParseError

if TYPE_CHECKING:
    from watcher.sources.base import PollContext

# What a dataset's own names for watcher's fields usually contain, best first.
_LIKELY = {
    "date": ("date_decision", "date_deliberation", "date_seance", "date_acte", "date"),
    "title": ("objet", "titre", "intitule", "libelle", "title", "nom"),
    "url": ("url", "lien", "pdf", "fichier", "document", "file"),
    "id": ("numero", "identifiant", "reference", "id"),
}
_DATE_TYPES = ("date", "datetime")
_REQUIRED = ("date", "title")


@dataclass(frozen=True)
class Field:
    name: str
    type: str


def dataset_url(records_url: str) -> str | None:
    """The dataset's description address for its ``records`` or ``exports/…`` address."""
    match = re.match(r"(.*?/catalog/datasets/[^/?]+)/(?:records|exports)(?:[/?]|$)", records_url)
    return match.group(1) if match else None


def checked_fields(
    ctx: "PollContext",
    source_url: str,
    schema_url: str | None,
    mapped: Mapping[str, str],
    defaults: Mapping[str, str],
) -> dict[str, str]:
    """Watcher's fields as the dataset names them, checked once against its schema.

    Checked at the source's first poll in this process (at start-up), then kept
    in the source's memory. A service that gives no schema (no description
    address, an answer that is no schema, a 400/401/403/404) is read with the
    fields as configured; a mapping the schema refutes is a ParseError.
    """
    memo = (tuple(sorted(mapped.items())), source_url)
    kept = ctx.memory.get("fields")
    if isinstance(kept, tuple) and kept[0] == memo:
        return dict(kept[1])
    resolved = dict(defaults) | dict(mapped)
    schema: list[Field] = []
    if schema_url is not None:
        try:
            response = ctx.fetcher.get(schema_url)
            schema = parse_schema(response.body if response else b"", schema_url)
        except FetchError as exc:
            if exc.status not in (400, 401, 403, 404):
                raise
        except ParseError:
            schema = []
    if schema:
        try:
            resolved = resolve(schema, mapped, dict(defaults) | dict(mapped))
        except ParseError as exc:
            raise ParseError(f"{source_url}: {exc}") from None
    ctx.memory["fields"] = (memo, resolved)
    return resolved


_ESRI_TYPES: dict[str, str] = {
    "esriFieldTypeDate": "date",
    "esriFieldTypeDateOnly": "date",
    "esriFieldTypeString": "text",
}


def parse_schema(body: bytes, url: str) -> list[Field]:
    """The fields a dataset or layer description lists; ParseError when it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ParseError(f"{url}: the dataset description is not JSON") from None
    fields = data.get("fields") if isinstance(data, Mapping) else None
    if not isinstance(fields, list):
        raise ParseError(f"{url}: the dataset description lists no fields")
    return [
        Field(str(f["name"]), _ESRI_TYPES.get(str(f.get("type")), str(f.get("type") or "")))
        for f in fields
        if isinstance(f, Mapping) and f.get("name")
    ]


def resolve(
    schema: Sequence[Field], mapped: Mapping[str, str], defaults: Mapping[str, str]
) -> dict[str, str]:
    """Watcher's fields as this dataset names them; ParseError saying what to map otherwise."""
    names = {field.name.lower(): field for field in schema}
    listing = ", ".join(field.name for field in schema)
    result: dict[str, str] = {}
    for key, default in {**defaults, **mapped}.items():
        if key in mapped:
            if mapped[key].lower() not in names:
                raise ParseError(
                    f"fields.{key}: {mapped[key]!r} is not a field of this dataset; "
                    f"its fields: {listing}"
                )
            result[key] = names[mapped[key].lower()].name
        elif default.lower() in names:
            result[key] = names[default.lower()].name
        elif (found := _likely(key, schema, taken=set(result.values()))) is not None:
            result[key] = found
        elif key in _REQUIRED:
            raise ParseError(
                f"the dataset has no field for {key} (no {default!r}): map it with "
                f"`fields: {{{key}: …}}`; its fields: {listing}"
            )
        else:
            result[key] = default  # optional: records without it read as empty
    return result


def _likely(key: str, schema: Sequence[Field], *, taken: set[str]) -> str | None:
    candidates = [f for f in schema if f.name not in taken]
    if key == "date":
        candidates = [f for f in candidates if f.type in _DATE_TYPES] or [
            f for f in candidates if "date" in f.name.lower()
        ]
    elif key == "url":
        files = [f for f in candidates if f.type == "file"]
        if files:
            return files[0].name
    elif key == "title":
        candidates = [f for f in candidates if f.type in ("text", "")]
    for word in _LIKELY.get(key, ()):
        for field in candidates:
            if word in field.name.lower():
                return field.name
    return None
