"""La Quadrature du Net's Attrap search API (``kind: attrap``): a second path to prefecture acts.

Attrap (attrap.fr) crawls every prefecture about hourly, OCRs the RAAs and
indexes them. Its public search, ``/api/v1/search?s=<boolean query>&
administration=pref77,ppparis&start_date=&end_date=&sort=desc&page=N``, answers
``{"elements": [...], "total": N}``, ten a page, each with ``administration``,
``administration_name``, ``content`` (snippets, hits in ``<em>``), ``date``,
``first_seen_on``, ``id`` (sha256 of the URL), ``name`` and ``url`` (a real
answer: ../shared/fixtures/real/raa/attrap_api_v1_search_response_2025-10-31.json,
saved by the public project noacharbogne1/Vdo-s). It also reaches the
Préfecture de police's own arrêtés (``ppparis``), which watcher cannot fetch.
Each element is an item keyed by its URL, so an RAA also read by ``kind: raa``
(uncut) is one text. A volunteer service, with no published terms: off in the
shipped feeds.yml; ask its authors before polling it often.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from watcher.errors import ParseError
from watcher.fields import option, text, whole_number
from watcher.items import Item, normalise_link
from watcher.matching.normalize import fold, strip_markup
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.xmlutil import PARIS

DEFAULT_URL = "https://attrap.fr/api/v1/search"


def _administrations(value: object) -> tuple[str, ...]:
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise ValueError("must list Attrap administrations, like [pref77, ppparis]")
    cleaned = tuple(n.strip() for n in names if n.strip())
    if not cleaned:
        raise ValueError("must list at least one Attrap administration, like pref77")
    return cleaned


@dataclass(frozen=True)
class AttrapOptions:
    # Attrap's boolean query: "drone OR aéronef OR (traitement AND algorithmique)".
    query: str = option("", parse=text)
    administrations: tuple[str, ...] = option((), parse=_administrations)
    days: int = option(7, parse=whole_number(1, 60))  # how far back each poll asks
    pages: int = option(2, parse=whole_number(1, 10))  # ten answers a page, newest first

    def problem(self) -> str | None:
        if not self.query:
            return "query: give Attrap's search, like 'drone OR aéronef'"
        return None


def read_attrap(
    source: SourceConfig, options: AttrapOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """The newest answers to the query, a page after another while they are new."""
    today = ctx.now.astimezone(PARIS).date()
    items: list[Item] = []
    for page in range(1, options.pages + 1):
        query = {
            "s": options.query,
            "start_date": (today - timedelta(days=options.days)).isoformat(),
            "end_date": today.isoformat(),
            "sort": "desc",
            "page": str(page),
        }
        if options.administrations:
            query["administration"] = ",".join(options.administrations)
        response = ctx.fetcher.get(f"{source.url}?{urlencode(query)}")
        if response is None:
            raise ParseError(f"{source.url}: the server answered 304 to an unconditional request")
        found, total = parse_search(response.body, source.id)
        items += found
        if page * 10 >= total or not found or not ctx.changed({i.key: "" for i in found}):
            break
    return PollResult(items, SourceState())


KIND = SourceKind(
    "attrap",
    AttrapOptions,
    read_attrap,
    "arrêtés préfectoraux (Attrap)",
    default_url=DEFAULT_URL,
    family="prefectures",
)


def parse_search(body: bytes, source_id: str) -> tuple[list[Item], int]:
    """The items of one answer page, and how many answers there are in all."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ParseError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("elements"), list):
        raise ParseError("not an Attrap search answer (no elements list)")
    items = []
    for element in data["elements"]:
        if not isinstance(element, dict) or not isinstance(element.get("url"), str):
            continue
        snippets = [strip_markup(s) for s in element.get("content") or [] if isinstance(s, str)]
        where = str(element.get("administration_name") or element.get("administration") or "")
        items.append(
            Item(
                source_id=source_id,
                key=normalise_link(element["url"]),
                title=f"{where} — {element.get('name') or element['url']}"[:500],
                url=element["url"],
                published=_when(element),
                summary=" … ".join(" ".join(s.split()) for s in snippets)[:1000],
                kind="arrêté" if fold(str(element.get("name"))).startswith("arrete") else "recueil",
            )
        )
    total = data.get("total")
    return items, total if isinstance(total, int) else len(items)


def _when(element: dict[str, object]) -> datetime | None:
    for key in ("first_seen_on", "date"):
        value = element.get(key)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)
    return None
