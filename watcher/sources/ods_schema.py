"""An Opendatasoft dataset's schema, and which of its fields are watcher's.

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
Pure: the caller fetches.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from watcher.errors import ParseError

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


def parse_schema(body: bytes, url: str) -> list[Field]:
    """The fields a dataset description lists; ParseError when it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ParseError(f"{url}: the dataset description is not JSON") from None
    fields = data.get("fields") if isinstance(data, Mapping) else None
    if not isinstance(fields, list):
        raise ParseError(f"{url}: the dataset description lists no fields")
    return [
        Field(str(f["name"]), str(f.get("type") or ""))
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
