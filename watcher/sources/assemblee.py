"""The Assemblée nationale's open data (``kind: assemblee``).

Each day has a publication list,
``…/dyn/opendata/list-publication/publication_YYYY-MM-DD``, one ``timestamp;URL``
line per document published (dossiers, texts, amendments, sittings and their
agendas), each URL an XML document named by its UID (``.json`` gives the same
document as JSON). watcher reads today's and yesterday's lists (Paris dates) and
fetches each new document, and each document listed again with a newer timestamp.
The AN answers 429 to rapid requests: the source then backs off by Retry-After.
"""

import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from watcher.errors import FetchError, ParseError
from watcher.items import Item
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.options import option, whole_number
from watcher.sources.xmlutil import PARIS, local, parse_xml
from watcher.textdecode import decode_bytes

logger = logging.getLogger(__name__)
MAX_BODY_CHARS = 200_000
MAX_CARRIED = 14  # days of lists whose unread documents are carried to the next poll
TITLE_KEYS = ("titrePrincipal", "titre", "titreDossier", "libelle", "objet")
DATE_KEYS = ("dateDepot", "dateActe", "timeStampDebut", "dateSeance", "datePublication", "date")
# A sitting's start: ``timeStampDebut`` (capital S) and ``identifiants/DateSeance``
# (``YYYY-MM-DD+01:00``), read in any case. Public readers of the AN's reunion
# documents read them so: a Python parser of Agenda_XV.json
# (``r["timeStampDebut"]``, ``r["ODJ"]["pointsODJ"]["pointODJ"]``), and TypeScript
# types of data.assemblee-nationale.fr's Agenda.json (``timeStampDebut``,
# ``identifiants.DateSeance``, ``pointODJ.dossiersLegislatifsRefs.dossierRef``);
# both found through the code index, which did not name their repositories.
SITTING_KEYS = ("timeStampDebut", "DateSeance")
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


@dataclass(frozen=True)
class _Listed:
    """One document of a publication list: its latest timestamp is its revision."""

    uid: str
    url: str
    stamp: str
    day: date


def poll_assemblee(
    source: SourceConfig, options: AssembleeOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """Documents of the last days' publication lists that are new or were republished.

    A UID listed again with another timestamp was changed (a sitting whose agenda
    was completed) and is read again. Past ``max_documents`` (or a 429), the days
    whose lists still hold unread documents are kept in the cursor and read again
    at the next poll, even once they are older than ``days``.
    """
    today = ctx.now.astimezone(PARIS).date()
    recent = [today - timedelta(days=offset) for offset in range(options.days - 1, -1, -1)]
    carried = [d for d in _days(state.cursor.get("pending", "")) if d not in recent]
    listed: dict[str, _Listed] = {}
    warnings: list[str] = []
    for day in sorted(carried) + recent:
        try:
            response = ctx.fetcher.get(f"{source.url.rstrip('/')}/publication_{day.isoformat()}")
        except FetchError as exc:
            if exc.status == 404 and day == today:
                continue  # today's list does not exist until the first publication
            if exc.status == 404 and day in carried:
                warnings.append(f"the list of {day.isoformat()} is gone: its unread documents too")
                continue
            raise
        text = decode_bytes(response.body, response.content_type) if response else ""
        for stamp, url in publication_lines(text):
            uid = uid_of(url)
            earlier = listed.get(uid)
            if earlier is None or _later(stamp, earlier.stamp):
                listed[uid] = _Listed(uid, url, stamp, day)
    revisions = {uid: entry.stamp for uid, entry in listed.items()}
    changed = ctx.changed(revisions)
    # Busy days list thousands of amendments: sittings, dossiers and texts are read
    # first, so a sitting agenda published late never waits behind them.
    todo = sorted((e for uid, e in listed.items() if uid in changed), key=_reading_order)
    # Noted, not read: the backlog, and documents stored before revisions existed.
    unrevised = ctx.unrevised(revisions)
    noted = [entry for uid, entry in listed.items() if uid in unrevised]
    if ctx.backlog:
        noted, todo = noted + todo, []
    items = [Item(source.id, e.uid, e.uid, e.url, _stamp(e.stamp), revision=e.stamp) for e in noted]
    read_count = 0
    left: list[_Listed] = []
    for index, entry in enumerate(todo):
        if read_count >= options.max_documents:
            left = todo[index:]
            warnings.append(
                f"document limit ({options.max_documents}) reached: "
                f"{len(left)} document(s) left for the next poll"
            )
            break
        read_count += 1
        try:
            response = ctx.fetcher.get(entry.url)
        except FetchError as exc:
            if exc.status == 429:
                left = todo[index:]
                warnings.append(
                    f"rate limited after {read_count - 1} document(s), "
                    f"{len(left)} left for the next poll: {exc}"
                )
                break
            warnings.append(f"{entry.url}: {exc}")
            continue
        try:
            items.extend(
                parse_document(
                    response.body if response else b"",
                    source.id,
                    entry.uid,
                    entry.url,
                    _stamp(entry.stamp),
                    revision=entry.stamp,
                )
            )
        except ParseError as exc:
            warnings.append(str(exc))
    cursor = {k: v for k, v in state.cursor.items() if k != "pending"}
    if left:
        cursor["pending"] = ",".join(sorted({e.day.isoformat() for e in left})[-MAX_CARRIED:])
    new_state = SourceState(state.etag, state.last_modified, state.content_hash, cursor)
    return PollResult(items, new_state, warnings=warnings)


def _reading_order(entry: _Listed) -> int:
    """Sittings (``RUAN…``) first, then dossiers and texts, amendments (``AMAN…``) last.

    UID prefixes as the open data names them (``AMANR5L15PO744107B0806P0D1N26`` in
    betagouv/zam's tests; ``RUANR5L15S2018IDC428849`` and ``PRJLANR5L15B0764`` in the
    recorded dossier ../shared/fixtures/real/assemblee/opendata_dossier-DLR5L15N36460.json).
    """
    uid = entry.uid.upper()
    if uid.startswith("RU"):
        return 0
    if uid.startswith("AM"):
        return 3
    if uid.startswith(("DL", "PION", "PRJL", "PNRE", "RAPP", "AVIS", "TA")):
        return 1
    return 2


def _days(text: str) -> list[date]:
    days = []
    for part in text.split(","):
        try:
            days.append(date.fromisoformat(part.strip()))
        except ValueError:
            continue
    return days


def _later(stamp: str, than: str) -> bool:
    first, second = _stamp(stamp), _stamp(than)
    if first is None or second is None:
        return stamp > than
    return first > second


KIND = SourceKind(
    "assemblee",
    AssembleeOptions,
    poll_assemblee,
    default_url="https://www.assemblee-nationale.fr/dyn/opendata/list-publication",
    no_fulltext="reads each document whole already; remove fulltext",
)


def _stamp(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=PARIS)


def parse_document(
    body: bytes,
    source_id: str,
    uid: str,
    url: str,
    listed_at: datetime | None,
    *,
    revision: str = "",
) -> list[Item]:
    """An AN open-data document, in its XML form (what the lists give) or JSON, as items:
    the document, and for a sitting one item per agenda point naming a dossier.

    The JSON form is the XML converted element for element, so the XML is read
    into the same shape and both go through one path.
    """
    if body.lstrip().startswith((b"{", b"[")):
        try:
            data = json.loads(body)
        except ValueError:
            raise ParseError(f"{url}: not valid JSON") from None
    else:
        root = parse_xml(body, url)
        data = {local(root.tag): _element_data(root)}
    root_name, document = _root(data)
    strings = list(_strings(document))
    title = _first(document, TITLE_KEYS)
    dated = _first(document, DATE_KEYS)
    if root_name in ("reunion", "amendement") or not isinstance(document, Mapping):
        kind = DOCUMENT_KINDS.get(root_name, "")
    else:
        kind = _first(document, ("denominationStructurelle", "libelle"))
        kind = kind or DOCUMENT_KINDS.get(root_name, "")
    published = _stamp(dated) or listed_at
    schedule = event = ""
    event_at = None
    points: list[Item] = []
    body_strings = strings
    if root_name == "reunion" and isinstance(document, Mapping):
        # A sitting's agenda: its items say what will be debated, and when: the
        # sitting's own time, never the list's publication time.
        event_at = _sitting_time(document)
        event = _sitting_kind(uid)
        published = event_at or listed_at
        points = _agenda_points(document, source_id, uid, url, event_at, event, revision)
        taken = {point.title for point in points}
        agenda = [t for t in _strings(document.get("ODJ")) if " ".join(t.split()) not in taken]
        body_strings = [t for t in strings if " ".join(t.split()) not in taken]
        title = f"Ordre du jour : {agenda[0]}" if agenda else title
        if event_at:
            timed = bool(_first(document, SITTING_KEYS[:1]))  # DateSeance is a day only
            shape = "%d/%m/%Y à %H:%M" if timed else "%d/%m/%Y"
            schedule = f"réunion du {event_at.astimezone(PARIS).strftime(shape)}"
    elif root_name == "scrutin" and isinstance(document, Mapping):
        event_at = _stamp(_first(document, ("dateScrutin",)))
        event = "Vote" if event_at else ""
    dossier = uid if root_name == "dossierParlementaire" else _first(document, ("dossierRef",))
    if root_name == "reunion":
        dossier = ""  # a sitting's dossiers are its points' (below)
    item = Item(
        source_id=source_id,
        key=uid,
        title=" ".join((title or uid).split())[:1000],
        url=url,
        published=published,
        summary=kind,
        body=" ".join(" ".join(body_strings).split())[:MAX_BODY_CHARS],
        kind=kind.lower() if kind else "",
        schedule=schedule,
        revision=revision,
        event_at=event_at,
        event=event,
        dossier=f"an:{dossier}" if dossier else "",
        aliases=(f"an:{uid}",),
    )
    return [item, *points]


def _sitting_time(reunion: Mapping[str, Any]) -> datetime | None:
    """When a sitting starts: ``timeStampDebut``, else the day of ``DateSeance``."""
    start = _stamp(_first(reunion, SITTING_KEYS[:1]))
    if start is not None:
        return start
    day = _first(reunion, SITTING_KEYS[1:])[:10]
    try:
        return datetime.combine(date.fromisoformat(day), datetime.min.time(), PARIS)
    except ValueError:
        return None


def _agenda_points(
    reunion: Mapping[str, Any],
    source_id: str,
    uid: str,
    url: str,
    at: datetime | None,
    event: str,
    revision: str,
) -> list[Item]:
    """One item per agenda point naming a dossier: the text it debates gets the sitting date."""
    agenda = reunion.get("ODJ")
    holder = agenda.get("pointsODJ") if isinstance(agenda, Mapping) else None
    found = holder.get("pointODJ") if isinstance(holder, Mapping) else None
    listed = found if isinstance(found, list) else [found] if isinstance(found, Mapping) else []
    items = []
    for number, point in enumerate(listed, start=1):
        if not isinstance(point, Mapping):
            continue
        refs = point.get("dossiersLegislatifsRefs")
        dossiers = refs.get("dossierRef") if isinstance(refs, Mapping) else None
        names = dossiers if isinstance(dossiers, list) else [dossiers]
        subject = " ".join(str(point.get("objet") or "").split())
        for dossier in (str(name).strip() for name in names if isinstance(name, str)):
            if not dossier or not subject:
                continue
            point_uid = str(point.get("uid") or f"{uid}PT{number}")
            items.append(
                Item(
                    source_id=source_id,
                    key=f"{point_uid}:{dossier}",
                    title=subject[:1000],
                    url=url,
                    published=at,
                    summary=event,
                    kind="ordre du jour",
                    revision=revision,
                    event_at=at,
                    event=_point_event(event),
                    dossier=f"an:{dossier}",
                )
            )
    return items


def _point_event(sitting: str) -> str:
    # Alerts say "⏰ Examen en séance publique prévu le 15/12/2026, dans 8 jours".
    if sitting == "Séance publique":
        return "Examen en séance publique"
    if sitting == "Réunion de commission":
        return "Examen en commission"
    return "Examen"


def _sitting_kind(uid: str) -> str:
    # Sitting UIDs end in IDS<n> for a public sitting and IDC<n> for a committee
    # meeting (seen in the UIDs of the open data; not documented).
    if re.search(r"IDS\d+$", uid):
        return "Séance publique"
    if re.search(r"IDC\d+$", uid):
        return "Réunion de commission"
    return "Réunion"


def _element_data(element: ET.Element) -> Any:
    """An element as the AN's JSON form writes it: text, or a mapping of children
    (a child that repeats becomes a list); ``xsi:nil`` elements are None."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        if any(local(name) == "nil" for name in element.attrib):
            return None
        return (element.text or "").strip()
    data: dict[str, Any] = {}
    for child in children:
        name, value = local(child.tag), _element_data(child)
        if name not in data:
            data[name] = value
        elif isinstance(data[name], list):
            data[name].append(value)
        else:
            data[name] = [data[name], value]
    return data


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
    wanted = [key.lower() for key in keys]
    while queue:
        current = queue.pop(0)
        if isinstance(current, Mapping):
            lowered = {str(name).lower(): child for name, child in current.items()}
            for key in wanted:
                found = lowered.get(key)
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
