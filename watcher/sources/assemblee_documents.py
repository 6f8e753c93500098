"""The Assemblée's open-data documents, as items (the reader of ``kind: assemblee``).

A document comes as XML (what the publication lists give) or as JSON (the same
UID with ``.json``); the JSON is the XML converted element for element, so both
are read into one shape. A sitting (``reunion``) is dated by its ``timeStampDebut``
(capital S) or ``identifiants/DateSeance`` (``YYYY-MM-DD+01:00``), read in any
case, never by the list's publication time; each of its agenda points naming a
dossier (``ODJ/pointsODJ/pointODJ/dossiersLegislatifsRefs/dossierRef``) is an item
of its own, so that the dossier gets the sitting's date. Public readers of the
AN's reunion documents read them so: a Python parser of Agenda_XV.json
(``r["timeStampDebut"]``, ``r["ODJ"]["pointsODJ"]["pointODJ"]``), and TypeScript
types of data.assemblee-nationale.fr's Agenda.json (``timeStampDebut``,
``identifiants.DateSeance``, ``pointODJ.dossiersLegislatifsRefs.dossierRef``),
both found through the code index, which did not name their repositories.
"""

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from watcher.dates import in_paris
from watcher.errors import ParseError
from watcher.items import Item
from watcher.sources.xmlutil import PARIS, local, parse_xml

MAX_BODY_CHARS = 200_000
TITLE_KEYS = ("titrePrincipal", "titre", "titreDossier", "libelle", "objet")
DATE_KEYS = ("dateDepot", "dateActe", "timeStampDebut", "dateSeance", "datePublication", "date")
# A sitting's start, read in any case (see the module's docstring).
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


def parse_stamp(value: str) -> datetime | None:
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
    published = parse_stamp(dated) or listed_at
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
            schedule = f"réunion du {in_paris(event_at).strftime(shape)}"
    elif root_name == "scrutin" and isinstance(document, Mapping):
        event_at = parse_stamp(_first(document, ("dateScrutin",)))
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
    start = parse_stamp(_first(reunion, SITTING_KEYS[:1]))
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
            key = f"{point_uid}:{dossier}"
            # The sitting's document, marked with the point: a link of its own, so that
            # a point is never taken for its sitting, or for another point, by its link.
            items.append(
                Item(
                    source_id=source_id,
                    key=key,
                    title=subject[:1000],
                    url=f"{url}?point={quote(key)}",
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
