"""The Sénat's coming sittings: "Textes discutés prochainement en séance publique".

The Sénat's feeds record a step after it happens; no feed announces a sitting.
The page ``https://www.senat.fr/dossiers-legislatifs/textes-recents.html`` opens
with a box listing the days to come and, under each day, the dossiers debated
then. Its shape, as recorded (../shared/fixtures/real/senat/textes-recents.html,
from betagouv/zam's tests, which read the page's ``.box.box-type-02`` links)::

    <h2 class="title-02">Textes discutés prochainement en séance publique</h2>
    <ul class="list-disc-02">
      <li>18 et 19 juin 2019<ul class="list-disc-02">
        <li> <a href='/dossier-legislatif/pjl18-532.html'>Projet de loi …</a> (éventuellement)</li>
      </ul></li>

A day reads "27 juin 2019", "18 et 19 juin 2019" or "4, 5 et 6 juin 2019". Each
dossier becomes one item keyed ``seance:{signet}``, in dossier ``senat:{signet}``,
whose event is its next sitting day (the latest when all are past): the alert
says "⏰ Examen en séance publique prévu le 15/12/2026, dans 8 jours". Its
revision is the list of its days, so that a new day is recorded.
"""

import re
from datetime import date, datetime
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from watcher.items import Item, content_revision
from watcher.sources.frenchdates import PARIS, find_dates

HEADING = "prochainement en séance publique"
EVENT = "Examen en séance publique"
_DOSSIER = re.compile(r"/dossier-legislatif/([a-z]{1,5}\d{2}-\d+)\.html", re.IGNORECASE)
_DAY_NUMBERS = re.compile(r"\b(\d{1,2})(?:er)?\b")


def is_agenda(page: str) -> bool:
    return HEADING in " ".join(page.split()).lower()


def agenda_items(page: str, base_url: str, source_id: str, around: date) -> list[Item]:
    """One item per dossier the page says will be debated, with its next sitting day."""
    soup = BeautifulSoup(page, "html.parser")
    heading = next(
        (h for h in soup.find_all(("h2", "h3")) if HEADING in h.get_text(" ").lower()), None
    )
    listing = heading.find_next("ul") if heading is not None else None
    if not isinstance(listing, Tag):
        return []
    sittings: dict[str, list[date]] = {}
    titles: dict[str, str] = {}
    maybe: dict[tuple[str, date], bool] = {}  # only "(éventuellement)" on that day
    for day_entry in listing.find_all("li", recursive=False):
        days = sitting_days(_own_text(day_entry))
        if not days:
            continue
        for entry in day_entry.find_all("li"):
            anchor = entry.find("a", href=_DOSSIER)
            if not isinstance(anchor, Tag):
                continue
            match = _DOSSIER.search(str(anchor.get("href")))
            if match is None:
                continue
            signet = match.group(1).lower()
            sittings.setdefault(signet, []).extend(days)
            title = " ".join(anchor.get_text(" ").split())
            if len(title) > len(titles.get(signet, "")):
                titles[signet] = title
            for day in days:
                possibly = "éventuellement" in entry.get_text()
                maybe[signet, day] = maybe.get((signet, day), True) and possibly
    items = []
    for signet, listed in sittings.items():
        days = sorted(set(listed))
        coming = [day for day in days if day >= around]
        day = coming[0] if coming else days[-1]
        event = f"{EVENT} (éventuellement)" if maybe[signet, day] else EVENT
        url = urljoin(base_url, f"/dossier-legislatif/{signet}.html")
        items.append(
            Item(
                source_id=source_id,
                key=f"seance:{signet}",
                title=titles[signet] or f"Dossier {signet}",
                url=url,
                summary=f"{event} : " + ", ".join(f"{d:%d/%m/%Y}" for d in days),
                kind="ordre du jour",
                schedule=f"{event} le {day:%d/%m/%Y}",
                revision=content_revision(*(d.isoformat() for d in days)),
                event_at=datetime(day.year, day.month, day.day, tzinfo=PARIS),
                event=event,
                dossier=f"senat:{signet}",
            )
        )
    return items


def sitting_days(text: str) -> list[date]:
    """The days of "27 juin 2019", "18 et 19 juin 2019", "4, 5 et 6 juin 2019"."""
    found = find_dates(text)
    if not found:
        return []
    last = found[-1].at
    head = text.split(str(last.year))[0]
    days = []
    for number in _DAY_NUMBERS.findall(head):
        try:
            days.append(date(last.year, last.month, int(number)))
        except ValueError:
            continue
    return days or [last.date()]


def _own_text(entry: Tag) -> str:
    """A list entry's text without its nested lists: the day it names."""
    parts = [str(child) for child in entry.children if isinstance(child, str)]
    return " ".join(" ".join(parts).split())
