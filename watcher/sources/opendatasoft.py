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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from watcher.errors import ParseError
from watcher.items import Item
from watcher.sources import dataset_schema
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.conditional import poll_document
from watcher.sources.fulltext import attach_fulltext
from watcher.sources.options import duration, field_map, one_of, option, text
from watcher.sources.scdl import records_to_items, with_defaults

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
    margin: timedelta = option(MARGIN, parse=duration)  # noqa: RUF009 (a field(), not a call)


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
            newest = max(newest, value)
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


KIND = SourceKind("opendatasoft", OpendatasoftOptions, poll_opendatasoft, "données ouvertes")


def _minus(day: str, margin: timedelta) -> str:
    try:
        return (date.fromisoformat(day) - margin).isoformat()
    except ValueError:  # a cursor from a dataset whose dates are not ISO: read it all
        return "1900-01-01"


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
