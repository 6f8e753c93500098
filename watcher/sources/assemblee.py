"""The Assemblée nationale's open data (``kind: assemblee``).

Each day has a publication list,
``…/dyn/opendata/list-publication/publication_YYYY-MM-DD``, one ``timestamp;URL``
line per document published (dossiers, texts, amendments, sittings and their
agendas), each URL a JSON or XML document named by its UID. watcher reads
today's and yesterday's lists (Paris dates) and fetches each new document.
The AN answers 429 to rapid requests: the source then backs off by Retry-After.
"""

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from watcher.errors import FetchError, ParseError
from watcher.items import Item
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.options import option, whole_number
from watcher.sources.xmlutil import PARIS, local, parse_xml, text_of
from watcher.textdecode import decode_bytes

logger = logging.getLogger(__name__)
MAX_BODY_CHARS = 200_000
TITLE_KEYS = ("titrePrincipal", "titre", "titreDossier", "libelle", "objet")
DATE_KEYS = ("dateDepot", "dateActe", "timestampDebut", "dateSeance", "datePublication", "date")
DOCUMENT_KINDS = {
    "dossierParlementaire": "dossier législatif",
    "document": "document parlementaire",
    "amendement": "amendement",
    "reunion": "ordre du jour",
    "compteRendu": "compte rendu",
    "question": "question",
    "scrutin": "scrutin",
}


def publication_lines(text: str) -> Iterator[tuple[str, str]]:
    """(timestamp, url) pairs of a publication list; other lines are ignored."""
    for line in text.splitlines():
        stamp, _, url = line.strip().partition(";")
        if url.startswith(("http://", "https://")):
            yield stamp.strip(), url.strip()


def uid_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]


@dataclass(frozen=True)
class AssembleeOptions:
    days: int = option(2, parse=whole_number(1, 14))  # publication lists read, today included
    max_documents: int = option(300, parse=whole_number(1, 2000))  # documents read per poll


def poll_assemblee(
    source: SourceConfig, options: AssembleeOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """Documents of the last days' publication lists that were not seen yet."""
    today = ctx.now.astimezone(PARIS).date()
    days = options.days
    listed: dict[str, tuple[str, str]] = {}
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        try:
            response = ctx.fetcher.get(f"{source.url.rstrip('/')}/publication_{day.isoformat()}")
        except FetchError as exc:
            if exc.status == 404 and offset == 0:
                continue  # today's list does not exist until the first publication
            raise
        text = decode_bytes(response.body, response.content_type) if response else ""
        for stamp, url in publication_lines(text):
            listed[uid_of(url)] = (stamp, url)
    known = ctx.known(listed)
    budget = options.max_documents
    items = []
    warnings = []
    for uid, (stamp, url) in listed.items():
        if uid in known:
            continue
        if ctx.backlog:
            items.append(Item(source.id, uid, uid, url, _stamp(stamp)))  # backlog: seen only
            continue
        if budget <= 0:
            warnings.append("document limit reached, the rest next poll")
            break
        budget -= 1
        try:
            response = ctx.fetcher.get(url)
        except FetchError as exc:
            if exc.status == 429:
                warnings.append(f"rate limited after {len(items)} document(s): {exc}")
                break
            warnings.append(f"{url}: {exc}")
            continue
        try:
            items.append(
                parse_document(
                    response.body if response else b"", source.id, uid, url, _stamp(stamp)
                )
            )
        except ParseError as exc:
            warnings.append(str(exc))
    return PollResult(items, state, warnings=warnings)


KIND = SourceKind(
    "assemblee",
    AssembleeOptions,
    poll_assemblee,
    default_url="https://www.assemblee-nationale.fr/dyn/opendata/list-publication",
)


def _stamp(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def parse_document(
    body: bytes, source_id: str, uid: str, url: str, listed_at: datetime | None
) -> Item:
    """An AN open-data document (JSON, or XML) as an item."""
    stripped = body.lstrip()
    if stripped.startswith((b"{", b"[")):
        try:
            data = json.loads(body)
        except ValueError:
            raise ParseError(f"{url}: not valid JSON") from None
        root_name, document = _root(data)
        strings = list(_strings(document))
        title = _first(document, TITLE_KEYS)
        date = _first(document, DATE_KEYS)
    else:
        root = parse_xml(body, url)
        root_name, document = local(root.tag), root
        strings = [text_of(root)]
        title = next(
            (text_of(e) for e in root.iter() if local(e.tag) in TITLE_KEYS and text_of(e)), ""
        )
        date = next(
            (text_of(e) for e in root.iter() if local(e.tag) in DATE_KEYS and text_of(e)), ""
        )
    if root_name in ("reunion", "amendement") or not isinstance(document, Mapping):
        kind = DOCUMENT_KINDS.get(root_name, "")
    else:
        kind = _first(document, ("denominationStructurelle", "libelle")) or DOCUMENT_KINDS.get(
            root_name, ""
        )
    published = _stamp(date) or listed_at
    schedule = ""
    if root_name == "reunion" and isinstance(document, Mapping):
        # A sitting's agenda: its items say what will be debated, and when.
        agenda = [text for text in _strings(document.get("ODJ")) if text]
        title = f"Ordre du jour : {agenda[0]}" if agenda else title
        if published:
            schedule = f"réunion du {published.astimezone(PARIS).strftime('%d/%m/%Y à %H:%M')}"
    return Item(
        source_id=source_id,
        key=uid,
        title=" ".join((title or uid).split())[:1000],
        url=url,
        published=published,
        summary=kind,
        body=" ".join(" ".join(strings).split())[:MAX_BODY_CHARS],
        kind=kind.lower() if kind else "",
        schedule=schedule,
    )


def _root(data: Any) -> tuple[str, Any]:
    if isinstance(data, Mapping) and len(data) == 1:
        name, value = next(iter(data.items()))
        return str(name), value
    return "", data


def _strings(value: Any) -> Iterator[str]:
    """Every text value of a JSON document, in order (identifiers and codes skipped)."""
    if isinstance(value, str):
        if " " in value.strip():
            yield value
    elif isinstance(value, Mapping):
        for child in value.values():
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)


def _first(value: Any, keys: tuple[str, ...]) -> str:
    """The first text found under any of these keys, searching breadth-first."""
    queue = [value]
    while queue:
        current = queue.pop(0)
        if isinstance(current, Mapping):
            for key in keys:
                found = current.get(key)
                if isinstance(found, str) and found.strip():
                    return found
                if isinstance(found, Mapping):
                    nested = _first(found, keys)
                    if nested:
                        return nested
            queue.extend(v for v in current.values() if isinstance(v, Mapping | list))
        elif isinstance(current, list):
            queue.extend(current)
    return ""
