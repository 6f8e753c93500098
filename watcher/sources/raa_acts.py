"""Pure: an RAA's acts (from its "Sommaire" and page footers), their items, windows and places.

Many prefectures publish with the national RAA generator (producer "FPDF"): a
text cover, a "Sommaire" with one line per act ``<act id> - <title> (N pages)
Page P`` (act ids ``DD-YYYY-MM-DD-NNNNN``, ``D77-2024-07-25-00003``), a cover
page per act and a footer "<service> - <act id> - <title>" on every page
(measured on the real RAAs of ../shared/fixtures/real/raa/: Seine-et-Marne,
Var). Acts are cut from the sommaire's page numbers, else from the footers;
an RAA with neither (Val-de-Marne merges its PDFs by hand) is one whole item.

Drone and VSA authorisations give their window in words: "du mercredi 31
janvier 2024 à 10h00 au samedi 3 février 2024 à 23h59", or "le jeudi 19 mars
2025 de 14h30 à 20h00" (Var's drone arrêté 2025-BSP-OP-24, OCR text in the
fixtures), and the place: "sur la commune de Hyères".
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from watcher.items import Item, content_revision
from watcher.matching.normalize import fold
from watcher.sources.xmlutil import PARIS

if TYPE_CHECKING:
    from watcher.sources.raa_listing import Listed

MAX_BODY_CHARS = 400_000

_ACT_ID = r"[A-Z]?\d[0-9AB]\d?-\d{4}-\d{2}-\d{2}-\d{5}"
_ENTRY = re.compile(
    rf"(?P<id>{_ACT_ID})\s+-\s+(?P<title>.+?)\s*\(\s*(?P<count>\d+)\s*pages?\s*\)\s*Page\s+(?P<page>\d+)",
    re.IGNORECASE | re.DOTALL,
)
_ID = re.compile(rf"\b({_ACT_ID})\b")
_NUMBER = re.compile(r"\bn\s*[°ºo]\s*([A-Z0-9][\w/.\-]*\w)", re.IGNORECASE)
_MONTHS = [
    "janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre",
    "octobre", "novembre", "decembre",
]  # fmt: skip
_DAYS = "(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) "
_DATE = rf"(?:{_DAYS})?(\d{{1,2}})(?:er)? ({'|'.join(_MONTHS)}) (\d{{4}})"
_NUMERIC = r"(\d{1,2}) (\d{1,2}) (\d{4})"  # 31/01/2024, once folded
_TIME = r"(\d{1,2}) ?h ?(\d{2})?"
_WINDOWS = (
    # du [mercredi] 31 janvier 2024 [,] à 10h00 au [samedi] 3 février 2024 à 23h59
    re.compile(rf"\bdu {_DATE},? (?:a|des|de) {_TIME} (?:au|jusqu au) {_DATE},? a {_TIME}"),
    re.compile(rf"\bdu {_NUMERIC},? (?:a|des|de) {_TIME} (?:au|jusqu au) {_NUMERIC},? a {_TIME}"),
    # le [jeudi] 19 mars 2025 de 14h30 a 20h00
    re.compile(rf"\b(?:le )?{_DATE},? (?:de|entre) {_TIME} (?:a|et) {_TIME}"),
    # du 26 juillet 2024 au 12 aout 2024 (whole days), when no time is given
    re.compile(rf"\bdu {_DATE} (?:au|jusqu au) {_DATE}"),
)
_PLACE = re.compile(
    r"\b(?:sur (?:le territoire de )?(?:la|les) communes? d[e']\s*|s.applique (?:a|à) )"
    r"([A-ZÉÈ][\w'’\-]+"
    r"(?:[ \-](?:[A-ZÉÈ][a-zéèêàâîôûç'’\-][\w'’\-]*|d[eu']|sur|la|le|les|en)){0,4})"
)


@dataclass(frozen=True)
class Act:
    """One act of an RAA: its id, title, first page (1-based), page count and text."""

    act_id: str
    title: str
    page: int
    pages: int
    text: str
    service: str = ""

    @property
    def number(self) -> str:
        """The arrêté's own number ("2024-01101"), the same in every RAA that republishes it."""
        found = _NUMBER.search(self.title)
        return found.group(1).strip("./-") if found else ""


@dataclass(frozen=True)
class Window:
    """When an authorisation runs."""

    start: datetime
    end: datetime

    def label(self) -> str:
        return f"du {self.start:%d/%m/%Y %H:%M} au {self.end:%d/%m/%Y %H:%M}"


def split_acts(pages: list[str]) -> list[Act]:
    """The acts of an RAA; [] when it has neither a sommaire nor act footers."""
    entries = _sommaire(pages)
    if entries:
        acts = []
        for act_id, title, count, page in entries:
            if page < 1 or page + count - 1 > len(pages):
                break
            body = "\n".join(pages[page - 1 : page - 1 + count])
            acts.append(Act(act_id, title, page, count, body, _service(pages[page - 1], act_id)))
        else:
            return acts
    return _by_footers(pages)


def _sommaire(pages: list[str]) -> list[tuple[str, str, int, int]]:
    """(id, title, pages, first page) of each sommaire line, from the first pages."""
    entries: list[tuple[str, str, int, int]] = []
    for text in pages[:12]:
        found = [
            (m["id"].upper(), " ".join(m["title"].split()), int(m["count"]), int(m["page"]))
            for m in _ENTRY.finditer(text)
        ]
        if not found and entries:
            break
        entries += found
    return entries


def _by_footers(pages: list[str]) -> list[Act]:
    """Consecutive pages whose footer names the same act id (the generator's footer)."""
    runs: list[tuple[str, int, int]] = []  # (id, first page, count)
    for number, text in enumerate(pages, start=1):
        ids = _ID.findall(text)
        if not ids:
            continue
        act_id = ids[-1].upper()
        if runs and runs[-1][0] == act_id and runs[-1][1] + runs[-1][2] == number:
            runs[-1] = (act_id, runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((act_id, number, 1))
    acts = []
    for act_id, first, count in runs:
        body = "\n".join(pages[first - 1 : first - 1 + count])
        acts.append(Act(act_id, _footer_title(body, act_id), first, count, body))
    return acts


def _footer_title(text: str, act_id: str) -> str:
    found = re.search(re.escape(act_id) + r"\s+-\s+(.+)", text)
    return " ".join(found.group(1).split())[:300] if found else act_id


def _service(cover: str, act_id: str) -> str:
    """The service named above the act id on its cover page ("PREFECTURE DE POLICE DE PARIS")."""
    head = cover.split(act_id, 1)[0]
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    return lines[-1][:120] if lines else ""


def find_window(text: str) -> Window | None:
    """The first window with times the text gives (an authorisation's), else None."""
    folded = " ".join(fold(text).replace("'", " ").split())
    for number, pattern in enumerate(_WINDOWS):
        found = pattern.search(folded)
        if found is None:
            continue
        g = found.groups()
        if number == 3:
            start = _at(_day(g[0], g[1], g[2]), "0", "0")
            end = _at(_day(g[3], g[4], g[5]), "23", "59")
        elif number == 2:
            day = _day(g[0], g[1], g[2])
            start = _at(day, g[3], g[4])
            end = _at(day, g[5], g[6])
        elif number == 1:
            start = _at(_numeric(g[0], g[1], g[2]), g[3], g[4])
            end = _at(_numeric(g[5], g[6], g[7]), g[8], g[9])
        else:
            start = _at(_day(g[0], g[1], g[2]), g[3], g[4])
            end = _at(_day(g[5], g[6], g[7]), g[8], g[9])
        if start is not None and end is not None and end >= start:
            return Window(start, end)
    return None


def find_place(text: str) -> str:
    """The commune an authorisation names ("Hyères"), or ""."""
    found = _PLACE.search(" ".join(text.split()))
    if found is None:
        return ""
    words = found.group(1).split(" ")
    while words and words[-1] in ("de", "du", "d'", "sur", "la", "le", "les", "en"):
        words.pop()
    return " ".join(words).strip(" -'’")


def _day(day: str, month: str, year: str) -> tuple[int, int, int] | None:
    return (int(year), _MONTHS.index(month) + 1, int(day))


def _numeric(day: str, month: str, year: str) -> tuple[int, int, int] | None:
    return (int(year), int(month), int(day))


def _at(day: tuple[int, int, int] | None, hour: str, minute: str | None) -> datetime | None:
    if day is None:
        return None
    try:
        return datetime(*day, int(hour), int(minute or 0), tzinfo=PARIS)
    except ValueError:
        return None


def act_item(
    source_id: str, listed: "Listed", published: datetime, act: Act | None, body: str
) -> Item:
    """The item of an act (or of a whole RAA, ``act`` None): what is matched and alerted."""
    body = " ".join(body.split())[:MAX_BODY_CHARS]
    aliases: tuple[str, ...] = ()
    if act is None:
        key, title, url, kind = listed.key, listed.title, listed.url, "recueil"
        summary = f"Recueil des actes administratifs : {listed.title}"
    else:
        key, title = act.act_id, f"{act.act_id} - {act.title}"
        url = f"{listed.url}#page={act.page}"
        number = fold(act.number).replace(" ", "")
        signed = act.act_id.split("-", 1)[1][:10] if "-" in act.act_id else ""
        aliases = (f"arrete:{number}:{signed}",) if number and signed else ()
        kind = "arrêté" if fold(act.title).startswith("arrete") else "acte"
        pages = f"{act.pages} page{'s' if act.pages > 1 else ''}"
        summary = f"{act.service} · {listed.title}, p. {act.page} ({pages})".lstrip(" ·")
    event_at, event = authorisation(body)
    return Item(
        source_id=source_id,
        key=key,
        title=title[:500],
        url=url,
        published=published,
        summary=summary[:1000],
        body=body,
        kind=kind,
        revision=content_revision(title, body),
        event_at=event_at,
        event=event,
        aliases=aliases,
    )


def authorisation(body: str) -> tuple[datetime | None, str]:
    """A drone or VSA authorisation's window, as the alert's first line says it."""
    head = fold(body[:20000])
    if "traitement algorithmique" in head or "traitements algorithmiques" in head:
        label = "📹 Traitement algorithmique autorisé"
    elif "helicoptere" in head and "captation" in head:
        label = "🚁 Caméras sur hélicoptères autorisées"
    elif ("aeronef" in head or "drone" in head) and "captation" in head:
        label = "🚁 Drones autorisés"
    else:
        return None, ""
    window = find_window(body)
    if window is None:
        return None, ""
    place = find_place(body)
    return window.start, f"{label} {window.label()}" + (f" — {place}" if place else "")


def published_at(day: date | None, now: datetime) -> datetime:
    if day is None or day >= now.astimezone(PARIS).date():
        return now
    return datetime(day.year, day.month, day.day, tzinfo=PARIS)
