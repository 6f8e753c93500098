"""SCDL deliberations in an ArcGIS feature layer (``kind: arcgis``).

Normandie publishes its deliberations as a hosted ArcGIS layer. ``url`` is the
layer, ``.../FeatureServer/N``; watcher queries ``{url}/query`` the way public
clients of the ArcGIS REST API do: ``where``, ``outFields=*``,
``returnGeometry=false``, ``orderByFields`` for a stable order, ``f=json``, and
pages of ``resultRecordCount`` from ``resultOffset``. A layer answers at most its
``maxRecordCount`` (1,000 on hosted layers) per request and sets
``exceededTransferLimit`` while more remain. Errors come as HTTP 200 with
``{"error": {"code", "message", "details"}}``. Attributes carry the SCDL field
names in any case; ``DELIB_DATE`` is epoch milliseconds (ArcGIS date fields).
"""

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from watcher.dates import from_epoch, in_paris
from watcher.errors import ParseError
from watcher.fetch import FetchSession
from watcher.fields import option, text
from watcher.items import Item
from watcher.sources import dataset_schema
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.fulltext import attach_fulltext
from watcher.sources.options import field_map
from watcher.sources.probing import (
    SHOWN,
    Page,
    Probe,
    ProbeError,
    Shape,
    collectivity,
    get,
    json_of,
    rows,
)
from watcher.sources.scdl import DEFAULT_FIELDS, records_to_items, with_defaults

PAGE = 1000  # the usual maxRecordCount of a hosted layer
MAX_PAGES = 200  # 200,000 records: far more than any council's deliberations
DEFAULT_ORDER = "OBJECTID ASC"


@dataclass(frozen=True)
class ArcgisOptions:
    where: str = option("1=1", parse=text)  # ArcGIS SQL: "DELIB_DATE >= DATE '2024-01-01'"
    order_by: str = option(DEFAULT_ORDER, parse=text)  # a stable order for paging
    fields: Mapping[str, str] = option(parse=field_map, factory=dict)  # as for scdl


def read_arcgis(
    source: SourceConfig, options: ArcgisOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """Every record of the layer (identity keeps them from alerting twice)."""
    # The layer describes its fields at {url}?f=json: the mapping is checked at start-up.
    schema_url = f"{source.url.rstrip('/')}?f=json"
    defaults = with_defaults({})
    fields = dataset_schema.checked_fields(ctx, source.url, schema_url, options.fields, defaults)
    records = list(
        layer_records(ctx.fetcher, source.url, where=options.where, order_by=options.order_by)
    )
    items = records_to_items(
        [normalise_dates(r, fields["date"]) for r in records], source.id, fields
    )
    warnings: list[str] = []
    if source.fulltext and not ctx.backlog:  # the records' document links (fields.url)
        items = attach_fulltext(items, ctx, warnings)
    return PollResult(items, state, warnings=warnings)


def query_url(
    layer_url: str,
    *,
    where: str = "1=1",
    order_by: str = DEFAULT_ORDER,
    offset: int = 0,
    count: int = PAGE,
) -> str:
    query = {
        "where": where,
        "outFields": "*",
        "returnGeometry": "false",
        "orderByFields": order_by,
        "resultOffset": offset,
        "resultRecordCount": count,
        "f": "json",
    }
    return f"{layer_url.rstrip('/')}/query?{urlencode(query)}"


def layer_records(
    fetcher: FetchSession, layer_url: str, *, where: str = "1=1", order_by: str = DEFAULT_ORDER
) -> Iterator[dict[str, Any]]:
    """The attributes of every feature matching ``where``, page after page."""
    offset = 0
    for _ in range(MAX_PAGES):
        url = query_url(layer_url, where=where, order_by=order_by, offset=offset)
        response = fetcher.get(url)
        features, more = parse_page(response.body if response else b"", layer_url)
        yield from features
        # A server may cap a page below what was asked: advance by what came.
        if not more or not features:
            return
        offset += len(features)
    raise ParseError(f"{layer_url}: more than {MAX_PAGES} pages; narrow it with `where`")


def parse_page(body: bytes, layer_url: str) -> tuple[list[dict[str, Any]], bool]:
    """The attributes of a query answer's features, and whether more records remain."""
    try:
        data = json.loads(body)
    except ValueError:
        raise ParseError(
            f"{layer_url}: the answer is not JSON (is it a FeatureServer layer?)"
        ) from None
    if not isinstance(data, dict):
        raise ParseError(f"{layer_url}: expected a JSON object with features")
    error = data.get("error")
    if isinstance(error, Mapping):
        details = "; ".join(str(d) for d in error.get("details") or [] if d)
        message = str(error.get("message") or "unknown error") + (
            f" ({details})" if details else ""
        )
        raise ParseError(
            f"{layer_url}: ArcGIS error {error.get('code', '')}: {message}".replace(" :", ":")
        )
    features = data.get("features")
    if not isinstance(features, list):
        raise ParseError(f"{layer_url}: the answer has no features list")
    attributes = [
        dict(f["attributes"])
        for f in features
        if isinstance(f, Mapping) and isinstance(f.get("attributes"), Mapping)
    ]
    return attributes, bool(data.get("exceededTransferLimit"))


def normalise_dates(record: Mapping[str, Any], date_field: str) -> dict[str, Any]:
    """The record with its date field as ``YYYY-MM-DD`` in Paris time.

    ArcGIS date fields are epoch milliseconds in UTC; a council's midnight often
    arrives as 22:00 or 23:00 UTC the day before, which Paris time puts right.
    """
    result = dict(record)
    for key, value in record.items():
        if (
            key.upper() == date_field.upper()
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            # 9999-12-31 23:00 UTC, a "no end date", is year 10000 in Paris: clamped.
            moment = in_paris(from_epoch(value / 1000))
            result[key] = moment.date().isoformat()
    return result


def first_records(
    body: bytes, layer_url: str, source_id: str, fields: Mapping[str, str]
) -> list[Item]:
    """Items of one query answer (what ``watcher probe`` shows)."""
    features, _ = parse_page(body, layer_url)
    return records_to_items(
        [normalise_dates(r, fields["date"]) for r in features], source_id, fields
    )


# -- what ``watcher probe`` recognises as an ArcGIS layer ----------------------------

_LAYER = re.compile(r"^(.*/(?:FeatureServer|MapServer)/\d+)(?:/query)?/?$", re.IGNORECASE)


def _probe_layer(fetcher: FetchSession, url: str) -> Probe | None:
    """A layer's address (``…/FeatureServer/0``, its ``/query``): its first records."""
    layer = _LAYER.match(urlsplit(url)._replace(query="").geturl())
    if not layer:
        return None
    layer_url = layer.group(1)
    response = get(fetcher, query_url(layer_url, count=SHOWN))
    items = first_records(response.body, layer_url, "probe", DEFAULT_FIELDS)
    if not items:
        raise ProbeError(
            f"{layer_url}: an ArcGIS layer with no SCDL deliberation (no DELIB_OBJET) "
            "in its first records: map its fields with `fields: {title: ..., id: ..., date: ...}`"
        )
    return Probe(
        url=layer_url,
        kind="arcgis",
        what="an ArcGIS feature layer of SCDL deliberations (read in pages of 1,000)",
        name=collectivity(items) or layer_url.split("/services/")[-1].split("/")[0],
        rows=rows(items),
        hints=["where: \"DELIB_DATE >= DATE '2024-01-01'\"   # fewer records per poll"],
    )


def _probe_error(page: Page) -> Probe | None:
    """An ArcGIS error answer at another address: its message says what is wrong."""
    data = json_of(page.response) if page.form == "json" else None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        parse_page(page.response.body, page.url)  # raises the error's message
    return None


KIND = SourceKind(
    "arcgis",
    ArcgisOptions,
    read_arcgis,
    "données ouvertes (ArcGIS)",
    probe=Shape(address=_probe_layer, page=_probe_error),
    family="collectivites",  # read by date: 0 new features is no alarm (not whole_listing)
)
