"""``watcher probe URL``: what a council's address is, and the feeds.yml entry to watch it.

For the maintainer who adds the next council: one fetch (two when an
Opendatasoft dataset has no SCDL date to sort on), then the shape it has (an
RSS/Atom feed, an SCDL CSV, an Opendatasoft dataset, an ArcGIS layer, a
WebDélib+ portal, an HTML page with document links), the first items the
matching kind would produce, and an entry to paste under ``sources:``. Parsing
is the readers' own, so what probe shows is what polling will find. An address
that cannot be watched raises ``ProbeError`` with one line saying why.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode, urljoin, urlsplit

from bs4 import BeautifulSoup

from watcher.errors import FetchError, ParseError, WatcherError
from watcher.fetch import FetchSession, Response
from watcher.items import Item
from watcher.sources import arcgis, dataset_schema, senat_agenda
from watcher.sources import raa_listing as raa
from watcher.sources.listing import ListingOptions, listing_items
from watcher.sources.raa_listing import classify, parse_listing
from watcher.sources.rss import parse_feed
from watcher.sources.scdl import DEFAULT_FIELDS, parse_scdl, records_to_items
from watcher.sources.senat import kind_of_signet, signet_of
from watcher.sources.webdelib import parse_sittings
from watcher.sources.xmlutil import PARIS, find, local, parse_xml, text_of
from watcher.textdecode import decode_bytes

SHOWN = 5
_ARCGIS_LAYER = re.compile(r"^(.*/(?:FeatureServer|MapServer)/\d+)(?:/query)?/?$", re.IGNORECASE)
_ODS_API = re.compile(r"/api/explore/v2\.[01]/catalog/datasets/([^/?#]+)")
_ODS_PAGE = re.compile(r"/explore/dataset/([^/?#]+)")
_DOCUMENT = re.compile(r"\.(pdf|odt|docx?)$", re.IGNORECASE)


class ProbeError(WatcherError):
    """The address answered, but not with anything watcher can watch."""


@dataclass(frozen=True)
class Probe:
    """What an address is and how to watch it."""

    url: str  # the address for feeds.yml (a dataset's records API, a layer...)
    kind: str
    what: str  # one line for the maintainer
    name: str
    rows: list[tuple[str, str]]  # (date, title) of the first items
    options: dict[str, str] = field(default_factory=dict)  # kind options, as YAML values
    hints: list[str] = field(default_factory=list)  # commented options worth knowing
    territory: str = ""  # the place it covers, when the page says it


def probe(fetcher: FetchSession, url: str) -> Probe:
    """Fetch ``url`` and say what it is; ProbeError (one line) when it cannot be watched."""
    try:
        layer = _ARCGIS_LAYER.match(urlsplit(url)._replace(query="").geturl())
        if layer:
            return _arcgis(fetcher, layer.group(1))
        dataset = _ODS_API.search(url) or _ODS_PAGE.search(url)
        if dataset:
            return _opendatasoft(fetcher, url, dataset.group(1))
        response = _get(fetcher, url)
        return _by_content(response, url)
    except (FetchError, ParseError) as exc:
        raise ProbeError(f"{url}: {_reason(exc, url)}") from None


def render(found: Probe) -> str:
    """What ``watcher probe`` prints: the shape, the first items, the entry to paste."""
    lines = [f"{found.url}: {found.what}"]
    for when, title in found.rows[:SHOWN]:
        lines.append(f"  {when or 'no date':<10}  {_cut(title, 100)}")
    if len(found.rows) > SHOWN:
        lines.append(f"  … and {len(found.rows) - SHOWN} more")
    lines += ["", "feeds.yml entry (under sources:):", *feeds_entry(found)]
    return "\n".join(lines)


def feeds_entry(found: Probe) -> list[str]:
    """A ready-to-paste entry; strings as JSON, which YAML reads as double-quoted scalars."""
    lines = [
        f"  - id: {_slug(found.url)}",
        f"    name: {_quote(found.name)}",
        f"    kind: {found.kind}",
        f"    url: {_quote(found.url)}",
        f"    territory: {_quote(found.territory)}"
        if found.territory
        else '    territory: "…"   # the place it covers: Auvergne-Rhône-Alpes, Rennes Métropole…',
    ]
    lines += [f"    {key}: {value}" for key, value in found.options.items()]
    lines += [f"    # {hint}" for hint in found.hints]
    return lines


# -- each shape ---------------------------------------------------------------


def _arcgis(fetcher: FetchSession, layer_url: str) -> Probe:
    response = _get(fetcher, arcgis.query_url(layer_url, count=SHOWN))
    items = arcgis.first_records(response.body, layer_url, "probe", DEFAULT_FIELDS)
    if not items:
        raise ProbeError(
            f"{layer_url}: an ArcGIS layer with no SCDL deliberation (no DELIB_OBJET) "
            "in its first records: map its fields with `fields: {title: ..., id: ..., date: ...}`"
        )
    return Probe(
        url=layer_url,
        kind="arcgis",
        what="an ArcGIS feature layer of SCDL deliberations (read in pages of 1,000)",
        name=_collectivity(items) or layer_url.split("/services/")[-1].split("/")[0],
        rows=_rows(items),
        hints=["where: \"DELIB_DATE >= DATE '2024-01-01'\"   # fewer records per poll"],
    )


def _opendatasoft(fetcher: FetchSession, url: str, dataset: str) -> Probe:
    parts = urlsplit(url)
    records = f"{parts.scheme}://{parts.netloc}/api/explore/v2.1/catalog/datasets/{dataset}/records"
    query = {"limit": SHOWN, "order_by": "delib_date desc"}
    try:
        response = _get(fetcher, f"{records}?{urlencode(query)}")
    except FetchError as exc:
        if exc.status != 400:  # 400: no delib_date field to sort on; say which fields it has
            raise
        response = _get(fetcher, f"{records}?limit={SHOWN}")
    data = _json(response)
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
        name=_collectivity(items) or dataset,
        rows=_rows(items),
        options=options,
        hints=["mode: export   # read the whole dataset at once (small datasets)"],
    )


def _mapped_fields(fetcher: FetchSession, records: str, found: list[str]) -> dict[str, str]:
    """Watcher's fields in a non-SCDL dataset, from its schema; ProbeError when unclear."""
    described = dataset_schema.dataset_url(records)
    try:
        response = _get(fetcher, described or records)
        schema = dataset_schema.parse_schema(response.body, described or records)
        return dataset_schema.resolve(schema, {}, DEFAULT_FIELDS)
    except (FetchError, ParseError):
        raise ProbeError(
            f"{records}: an Opendatasoft dataset without SCDL fields (found: "
            f"{', '.join(found[:10])}): map them with `fields: {{title: ..., id: ..., date: ...}}`"
        ) from None


def _by_content(response: Response, url: str) -> Probe:
    head = response.body[:1024].lstrip().lower()
    content_type = response.content_type.lower()
    if head.startswith((b"{", b"[")) or "json" in content_type:
        data = _json(response)
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            arcgis.parse_page(response.body, url)  # raises the error's message
        raise ProbeError(f"{url}: a JSON document that is not a known dataset or layer API")
    if re.search(rb"<texts[\s>]", head):
        return _senat_index(response, url)
    if re.search(rb"<(rss|feed|rdf:rdf)[\s>]", head) or any(
        t in content_type for t in ("rss", "atom")
    ):
        return _feed(response, url)
    if head.startswith((b"<!doctype html", b"<html")) or "html" in content_type:
        return _html(response, url)
    if "csv" in content_type or b"delib_objet" in head or head.startswith(b"sep="):
        items = parse_scdl(response.body, "probe", response.content_type)
        return Probe(
            url=url,
            kind="scdl",
            what=f"an SCDL deliberations CSV ({len(items)} deliberations)",
            name=_collectivity(items) or urlsplit(url).netloc,
            rows=_rows(sorted(items, key=_newest_first)),
        )
    raise ProbeError(
        f"{url}: not a feed, an SCDL CSV, a dataset, an ArcGIS layer or an HTML page "
        f"({response.content_type or 'no content type'})"
    )


def _feed(response: Response, url: str) -> Probe:
    items = parse_feed(response.body, "probe", response.content_type)
    host = urlsplit(url).netloc
    kind = "senat" if host.endswith("senat.fr") else "rss"
    title = re.search(rb"<title[^>]*>([^<]{1,200})</title>", response.body)
    name = decode_bytes(title.group(1), response.content_type).strip() if title else host
    return Probe(
        url=url,
        kind=kind,
        what=f"an RSS/Atom feed ({len(items)} items)",
        name=name or host,
        rows=_rows(sorted(items, key=_newest_first)),
        hints=["fulltext: true   # also match each item's page or PDF"],
    )


def _senat_index(response: Response, url: str) -> Probe:
    """The Sénat's Akoma Ntoso index (``depots.xml``, ``adoptions.xml``), newest first."""
    root = parse_xml(response.body, "Sénat Akoma Ntoso index")
    rows = []
    for entry in root.iter():
        signet = signet_of(text_of(find(entry, "url"))) if local(entry.tag) == "text" else None
        if signet:
            stamp = text_of(find(entry, "lastModifiedDateTime"))
            kind = kind_of_signet(signet) or "texte"
            rows.append((stamp, f"{kind[:1].upper()}{kind[1:]} {signet}"))
    if not rows:
        raise ProbeError(f"{url}: a Sénat Akoma Ntoso index that lists no text")
    rows.sort(reverse=True)
    shown = [(f"{s[8:10]}/{s[5:7]}/{s[:4]}" if len(s) >= 10 else "", title) for s, title in rows]
    return Probe(
        url=url,
        kind="senat",
        what=f"the Sénat's Akoma Ntoso index ({len(rows)} texts; each new one is read in full)",
        name="Sénat — " + ("textes adoptés" if "adoption" in url else "textes déposés"),
        rows=shown,
        hints=["max_texts: 50   # full texts read per poll"],
    )


def _html(response: Response, url: str) -> Probe:
    page = decode_bytes(response.body, response.content_type)
    soup = BeautifulSoup(page, "html.parser")
    name = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    name = name or urlsplit(url).netloc
    if senat_agenda.is_agenda(page):
        today = datetime.now(PARIS).date()
        items = senat_agenda.agenda_items(page, response.url, "probe", today)
        return Probe(
            url=url,
            kind="senat",
            what=f"the Sénat's coming sittings ({len(items)} texts, each with its sitting day)",
            name="Sénat — textes discutés prochainement en séance publique",
            rows=[(f"{i.event_at:%d/%m/%Y}" if i.event_at else "", i.title) for i in items],
        )
    if "seance_agenda.jsp" in page or "/webdelibplus/" in urlsplit(url).path:
        sittings = parse_sittings(page, response.url)
        if not sittings:
            raise ProbeError(f"{url}: a WebDélib+ page that lists no sitting (use seances.jsp)")
        today = datetime.now(PARIS).date()
        rows = [
            (
                s.day.strftime("%d/%m/%Y"),
                f"{s.label}{' (coming)' if s.day >= today else ''}: "
                + (_last(s.url) or s.documents[0].title),
            )
            for s in sittings
        ]
        return Probe(
            url=url,
            kind="webdelib",
            what=f"a WebDélib+ portal ({len(sittings)} sittings; each sitting's documents "
            "are read from its page)",
            name=name,
            rows=rows,
            hints=["recheck_days: 30   # sittings read again until this long after they are held"],
        )
    raa = _raa(page, response.url, url, name)
    if raa is not None:
        return raa
    links = [urljoin(response.url, str(a.get("href"))) for a in soup.find_all("a", href=True)]
    extensions = Counter(
        found.group(1).lower() for link in links if (found := _DOCUMENT.search(urlsplit(link).path))
    )
    if not extensions:
        raise ProbeError(
            f"{url}: an HTML page with no document links: give a `link_selector` "
            "(kind: html) that picks the links to watch"
        )
    pattern = f"*.{extensions.most_common(1)[0][0]}"
    items = listing_items(page, response.url, "probe", ListingOptions(link_pattern=pattern))
    return Probe(
        url=url,
        kind="html",
        what=f"an HTML page with {len(items)} document links ({pattern})",
        name=name,
        rows=_rows(items),
        options={"link_pattern": _quote(pattern), "follow": "true"},
        hints=['link_selector: "main a"   # narrow the links to a part of the page'],
    )


def _raa(page: str, base_url: str, url: str, name: str) -> Probe | None:
    """A prefecture's RAA page on the State platform (root, year, period or list), if it is."""
    path = urlsplit(url).path.lower()
    if not any(word in path for word in ("recueil", "raa", "/publications/")):
        return None
    listing = parse_listing(
        page, base_url, navigation=raa.NAVIGATION, entries=raa.ENTRIES, select="select"
    )
    dated = [choice for choice in listing.choices if choice.day]  # a <select> of RAAs
    if not listing.is_raa_page and not dated:
        return None
    rows = [
        (p.start.strftime("%m/%Y") if p.first == p.last else str(p.year), f"→ {card.title}")
        for card in listing.navigation
        if (p := classify(card.title, None)) is not None
    ]
    rows += [(d.day.strftime("%d/%m/%Y") if d.day else "", d.title) for d in listing.documents]
    rows += [
        (d.day.strftime("%d/%m/%Y") if d.day else "", f"(page) {d.title}") for d in listing.details
    ]
    what = (
        f"a prefecture's RAA page ({len(rows) - len(listing.documents) - len(listing.details)} "
        f"year or period cards, {len(listing.documents)} RAA PDFs, {len(listing.details)} "
        f"detail pages{f', {len(dated)} dated options to POST' if dated else ''}); only the "
        "current period is walked, 5 s between requests"
    )
    rows += [(c.day.strftime("%d/%m/%Y") if c.day else "", f"(option) {c.label}") for c in dated]
    options = {}
    if dated:
        field = dated[0].field
        options["select"] = _quote(f"select[name='{field}'], select[id='{field}']")
    # "… - Les services de l'État dans les Hautes-Alpes" (the platform's page titles)
    place = re.search(r"services de l.[ÉE]tat (?:dans |en )(?:les |le |la |l'|l’)?(.+)$", name)
    return Probe(
        url=url,
        kind="raa",
        territory=place.group(1).strip() if place else "",
        what=what,
        name=name.split(" - ")[-1] if " - " in name else name,
        rows=rows,
        options=options,
        hints=[
            "order: ascending   # when the list is oldest first (its newest on the last page)",
            "period_pattern: '(?P<month>\\d{2})-(?P<year>\\d{4})'   # when cards are not "
            "read as periods",
        ],
    )


# -- helpers ------------------------------------------------------------------


def _get(fetcher: FetchSession, url: str) -> Response:
    response = fetcher.get(url)
    if response is None:
        raise ParseError("the server answered 304 to an unconditional request")
    if not response.body.strip():
        raise ParseError("the server answered with an empty body")
    return response


def _json(response: Response) -> object:
    try:
        return json.loads(response.body)
    except ValueError:
        raise ParseError("the answer is not JSON") from None


def _reason(exc: WatcherError, url: str) -> str:
    """The error without the address, which the line already starts with."""
    message = re.sub(r"^https?://\S+: ", "", str(exc))
    return re.sub(r" from \S+$", "", message)


def _rows(items: list[Item]) -> list[tuple[str, str]]:
    return [
        (
            item.published.astimezone(PARIS).strftime("%d/%m/%Y") if item.published else "",
            item.title,
        )
        for item in items
    ]


def _newest_first(item: Item) -> float:
    return -(item.published or datetime.min.replace(tzinfo=PARIS)).timestamp()


def _collectivity(items: list[Item]) -> str:
    """The council's name, which SCDL records carry first in the summary."""
    return items[0].summary.split(" · ")[0] if items and items[0].summary else ""


def _slug(url: str) -> str:
    host = (urlsplit(url).hostname or "source").lower().removeprefix("www.")
    labels = host.split(".")
    if len(labels) > 1 and not host.replace(".", "").isdigit():
        labels = labels[:-1]  # the TLD says nothing
    slug = re.sub(r"[^a-z0-9]+", "-", "-".join(labels)).strip("-")
    return (slug or "source")[:63]


def _last(url: str | None) -> str:
    """A sitting page's name and query (``seance_agenda.jsp?date=...``)."""
    return url.rsplit("/", 1)[-1] if url else ""


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
