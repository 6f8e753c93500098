"""Dates as French public sources write them, and the event a sentence dates.

"mardi 15 décembre 2026", "1er juillet 2026", "15/12/2026", "2026-12-15", with
an optional time ("à 14 h 30", "à 9h"). A date without its year ("1er juillet")
takes the year that puts it nearest to a reference day, as a reader would.
Every result is an aware datetime in Paris time (midnight when no time is given).
Pure: no clock, no I/O.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from watcher.dates import in_paris

PARIS = ZoneInfo("Europe/Paris")

_MONTHS = {
    "janvier": 1,
    "janv": 1,
    "février": 2,
    "fevrier": 2,
    "févr": 2,
    "fevr": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "août": 8,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "décembre": 12,
    "decembre": 12,
    "déc": 12,
    "dec": 12,
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+"
_TIME = r"(?:\s*(?:,\s*)?à\s+(?P<hour>\d{1,2})\s*h(?:eures?)?\s*(?P<minute>\d{2})?)?"
_DATE = re.compile(
    r"(?<![\w/])(?:"
    rf"(?:{_WEEKDAY})?(?P<day>\d{{1,2}})(?:er|ᵉʳ|e)?\s+(?P<month>{_MONTH})\.?(?:\s+(?P<year>\d{{4}}))?"
    r"|(?P<nday>\d{1,2})/(?P<nmonth>\d{1,2})/(?P<nyear>\d{4})"
    r"|(?P<iyear>\d{4})-(?P<imonth>\d{2})-(?P<iday>\d{2})"
    rf"){_TIME}(?![\w/])",
    re.IGNORECASE,
)
# What usually sits between an event's label and its date.
_LINK_WORDS = re.compile(r"[\s,]*(?:\b(?:prévue?s?|prévu|fixée?|le|la|du|au|en date du)\b[\s,]*)+$")
_CLAUSE_START = re.compile(r".*(?:[.;:!?(\n]|\s[-–—]\s)", re.DOTALL)


@dataclass(frozen=True)
class DatedEvent:
    """A date found in a text, with what the text says happens then."""

    at: datetime
    label: str  # "Examen en séance publique"; "" when the text names nothing
    has_time: bool = False


def parse_date(text: str, *, around: date | None = None) -> datetime | None:
    """The date that ``text`` is (nothing else around it), or None."""
    match = _DATE.fullmatch(text.strip())
    return _moment(match, around) if match else None


def find_dates(text: str, *, around: date | None = None) -> list[DatedEvent]:
    """Every date in ``text``, in order, each with the words that announce it."""
    found = []
    for match in _DATE.finditer(text):
        moment = _moment(match, around)
        if moment is not None:
            label = _label(text[: match.start()])
            found.append(DatedEvent(moment, label, match.group("hour") is not None))
    return found


def find_event(text: str, *, around: date | None = None) -> DatedEvent | None:
    """The first date in ``text`` that the text gives a label, else its first date."""
    dates = find_dates(text, around=around)
    return next((d for d in dates if d.label), dates[0] if dates else None)


def day_text(moment: datetime) -> str:
    """``15/12/2026``: how alerts write a day."""
    return in_paris(moment).strftime("%d/%m/%Y")


def _moment(match: re.Match[str], around: date | None) -> datetime | None:
    if match.group("day"):
        day = int(match.group("day"))
        month = _MONTHS[match.group("month").lower()]
        written = match.group("year")
        year = int(written) if written else _nearest_year(day, month, around)
    elif match.group("nday"):
        day, month, year = (int(match.group(g)) for g in ("nday", "nmonth", "nyear"))
    else:
        day, month, year = (int(match.group(g)) for g in ("iday", "imonth", "iyear"))
    if year is None:
        return None
    hour = int(match.group("hour") or 0)
    minute = int(match.group("minute") or 0)
    try:
        return datetime(year, month, day, hour, minute, tzinfo=PARIS)
    except ValueError:  # 31/02, 25 h
        return None


def _nearest_year(day: int, month: int, around: date | None) -> int | None:
    if around is None:
        return None
    candidates = []
    for year in (around.year - 1, around.year, around.year + 1):
        try:
            candidates.append(date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs((d - around).days)).year


def _label(before: str) -> str:
    """The clause that leads to a date: "Examen en séance publique le" -> its label."""
    clause = _LINK_WORDS.sub("", _CLAUSE_START.sub("", before))
    # "Texte de Mme X, ministre de…, déposé à l'Assemblée" is dated by its last part.
    clause = clause.rsplit(", ", 1)[-1].strip(" ,-–—(")
    if not clause or not re.search(r"[^\W\d_]", clause):
        return ""
    return clause[0].upper() + clause[1:]
