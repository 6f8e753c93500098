"""Deliberations published on Opendatasoft portals (``kind: opendatasoft``).

Bretagne, Pays de la Loire, Rennes… publish SCDL deliberations through the
Explore API v2.1; Île-de-France publishes acts under its own field names, mapped
by ``fields:`` and checked against the dataset's schema (``dataset_schema``).
``mode: records`` (default) reads ``…/datasets/{id}/records`` newest first with
an incremental ``where`` on the date field; ``mode: export`` reads
``…/datasets/{id}/exports/json``, a bare list. The API refuses ``offset + limit``
past 10,000 and answers 429 on quota.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from watcher.dates import in_paris
from watcher.errors import FetchError, ParseError
from watcher.fields import one_of, option, text, timespan
from watcher.items import Item
from watcher.sources import dataset_schema
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.conditional import poll_document
from watcher.sources.fulltext import attach_fulltext
from watcher.sources.options import field_map
from watcher.sources.probing import (
    SHOWN,
    Probe,
    ProbeError,
    Shape,
    collectivity,
    get,
    json_of,
    newest_first,
    rows,
)
from watcher.sources.scdl import DEFAULT_FIELDS, records_to_items, with_defaults

if TYPE_CHECKING:
    from watcher.fetch import FetchSession

PAGE = 100
MARGIN = timedelta(days=45)
MAX_OFFSET = 10_000


@dataclass(frozen=True)
class OpendatasoftOptions:
    mode: str = option("records", parse=one_of("records", "export"))
    fields: Mapping[str, str] = option(parse=field_map, factory=dict)  # as for scdl
    where: str = option("", parse=text)  # an ODSQL filter, e.g. "coll_nom = 'Rennes'"
    # How far before the newest vote seen each poll looks again: a deliberation is
    # often published (pref_date) a week or more after its vote (delib_date).
    margin: timedelta = option(MARGIN, parse=timespan)  # noqa: RUF009 (a field(), not a call)


def poll_opendatasoft(
    source: SourceConfig, options: OpendatasoftOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    fields = dataset_fields(source, options, ctx)
    if options.mode == "export":
        return poll_document(
            source,
            state,
            ctx,
            lambda response: records_to_items(
                _records(response.body, source.url), source.id, fields
            ),
        )
    since = state.cursor.get("since", "")
    date_field = fields["date"].lower()
    conditions = [f"({options.where})"] if options.where else []
    if since:
        # Not ``>= since``: a vote older than the newest one seen can be published
        # later. Identity keeps the deliberations read again from alerting twice.
        conditions.append(f"{date_field} >= date'{_minus(since, options.margin)}'")
    items: list[Item] = []
    newest = since
    today = in_paris(ctx.now).date().isoformat()
    offset = 0
    while offset + PAGE <= MAX_OFFSET:
        query = {"order_by": f"{date_field} desc", "limit": PAGE, "offset": offset}
        if conditions:
            query["where"] = " and ".join(conditions)
        response = ctx.fetcher.get(f"{source.url}?{urlencode(query)}")
        page = _records(response.body if response else b"", source.url)
        items.extend(records_to_items(page, source.id, fields))
        for record in page:
            value = str({k.lower(): v for k, v in record.items()}.get(date_field) or "")[:10]
            newest = max(newest, _cursor_day(value, today))
        # The first poll needs only the newest page: the backlog is not alerted.
        if len(page) < PAGE or ctx.backlog:
            break
        offset += PAGE
    cursor = dict(state.cursor)
    if newest:
        cursor["since"] = newest
    warnings: list[str] = []
    if source.fulltext and not ctx.backlog:  # the records' document links (fields.url)
        items = attach_fulltext(items, ctx, warnings)
    new_state = SourceState(state.etag, state.last_modified, None, cursor)
    return PollResult(items, new_state, warnings=warnings)


def dataset_fields(
    source: SourceConfig, options: OpendatasoftOptions, ctx: PollContext
) -> dict[str, str]:
    """Watcher's fields as the dataset names them, checked against its schema at start-up."""
    schema_url = dataset_schema.dataset_url(source.url)
    defaults = with_defaults({})
    return dataset_schema.checked_fields(ctx, source.url, schema_url, options.fields, defaults)


def _minus(day: str, margin: timedelta) -> str:
    try:
        return (date.fromisoformat(day) - margin).isoformat()
    except ValueError:  # a cursor from a dataset whose dates are not ISO: read it all
        return "1900-01-01"
    except OverflowError:  # a record dated in the first days of year 1
        return "0001-01-01"


def _cursor_day(value: str, today: str) -> str:
    """A record's ISO day as the cursor may keep it: never past today. A "9999-12-31"
    sentinel would otherwise make every later query ask for records from year 9999 on,
    and the dataset's new deliberations would never be read."""
    if value > today and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return today
    return value


def _records(body: bytes, url: str) -> list[dict[str, Any]]:
    """Records of a ``records`` answer ({results: [...]}) or of an ``exports/json`` list."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ParseError(f"{url}: the answer is not JSON") from None
    if isinstance(data, dict):
        if "error_code" in data or ("message" in data and "results" not in data):
            raise ParseError(f"{url}: Opendatasoft error: {data.get('message') or data}")
        data = data.get("results", [])
    if not isinstance(data, list):
        raise ParseError(f"{url}: expected a list of records")
    return [record for record in data if isinstance(record, dict)]


# -- what ``watcher probe`` recognises as an Opendatasoft dataset -------------------

_API = re.compile(r"/api/explore/v2\.[01]/catalog/datasets/([^/?#]+)")
_PAGE = re.compile(r"/explore/dataset/([^/?#]+)")


def _probe_dataset(fetcher: "FetchSession", url: str) -> Probe | None:
    """A dataset's page or API address: its newest records, and the fields to map."""
    dataset = _API.search(url) or _PAGE.search(url)
    if not dataset:
        return None
    parts = urlsplit(url)
    records = (
        f"{parts.scheme}://{parts.netloc}/api/explore/v2.1/catalog/datasets/"
        f"{dataset.group(1)}/records"
    )
    query = {"limit": SHOWN, "order_by": "delib_date desc"}
    try:
        try:
            response = get(fetcher, f"{records}?{urlencode(query)}")
        except FetchError as exc:
            if exc.status != 400:  # 400: no delib_date field to sort on; say which fields
                raise
            response = get(fetcher, f"{records}?limit={SHOWN}")
    except FetchError:
        if "/exports/" not in parts.path:
            raise
        # A portal (or proxy) that serves the export but not the records API: watch it.
        return _probe_export(fetcher, url, dataset.group(1))
    return _records_probe(fetcher, records, dataset.group(1), json_of(response))


def _records_probe(fetcher: "FetchSession", records: str, dataset: str, data: object) -> Probe:
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ParseError("not an Opendatasoft v2.1 records answer (no results list)")
    results = data["results"]
    found = sorted({str(k) for r in results if isinstance(r, dict) for k in r})
    fields, options = dict(DEFAULT_FIELDS), {}
    if results and "delib_objet" not in {f.lower() for f in found}:
        # Not SCDL (Île-de-France's acts): the dataset's schema says which fields to map.
        fields = _mapped_fields(fetcher, records, found)
        mapped = {k: v for k, v in fields.items() if v != DEFAULT_FIELDS.get(k)}
        options["fields"] = "{" + ", ".join(f"{k}: {v}" for k, v in mapped.items()) + "}"
    items = records_to_items([r for r in results if isinstance(r, dict)], "probe", fields)
    total = data.get("total_count", len(results))
    return Probe(
        url=records,
        kind="opendatasoft",
        what=f"an Opendatasoft dataset of {'SCDL ' if not options else ''}deliberations "
        f"({total} records)",
        name=collectivity(items) or dataset,
        rows=rows(items),
        options=options,
        hints=["mode: export   # read the whole dataset at once (small datasets)"],
    )


def _probe_export(fetcher: "FetchSession", url: str, dataset: str) -> Probe:
    """``exports/json``: a bare list of records (as ../shared/fixtures/real/regions/ has)."""
    data = json_of(get(fetcher, url))
    if not isinstance(data, list):
        raise ParseError("not an Opendatasoft export (a JSON list of records)")
    records = [r for r in data if isinstance(r, dict)]
    found = sorted({str(k) for r in records for k in r})
    if records and "delib_objet" not in {f.lower() for f in found}:
        raise ProbeError(
            f"{url}: an Opendatasoft export without SCDL fields (found: {', '.join(found[:10])}): "
            "map them with `fields: {title: ..., id: ..., date: ...}`"
        )
    items = records_to_items(records, "probe", DEFAULT_FIELDS)
    return Probe(
        url=url,
        kind="opendatasoft",
        what=f"an Opendatasoft export of SCDL deliberations ({len(records)} records, "
        "read whole at each poll)",
        name=collectivity(items) or dataset,
        rows=rows(sorted(items, key=newest_first)),
        options={"mode": "export"},
    )


def _mapped_fields(fetcher: "FetchSession", records: str, found: list[str]) -> dict[str, str]:
    """Watcher's fields in a non-SCDL dataset, from its schema; ProbeError when unclear."""
    described = dataset_schema.dataset_url(records)
    try:
        response = get(fetcher, described or records)
        schema = dataset_schema.parse_schema(response.body, described or records)
        return dataset_schema.resolve(schema, {}, DEFAULT_FIELDS)
    except (FetchError, ParseError):
        raise ProbeError(
            f"{records}: an Opendatasoft dataset without SCDL fields (found: "
            f"{', '.join(found[:10])}): map them with `fields: {{title: ..., id: ..., date: ...}}`"
        ) from None


KIND = SourceKind(
    "opendatasoft",
    OpendatasoftOptions,
    poll_opendatasoft,
    "données ouvertes",
    probe=Shape(address=_probe_dataset),
    family="collectivites",  # read by date: 0 new records is no alarm (not whole_listing)
)
