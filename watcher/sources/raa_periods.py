"""The period a prefecture's navigation card names: a year, a semester, a quarter, a month.

Cards read "2026", "RAA 2026", "Janvier", "1er trimestre 2026", "T1 2026",
"Second semestre"... (the shapes of La Quadrature du Net's Attrap crawler and of
../shared/fixtures/real/raa/); a card whose title holds anything else is not a
period. A source's ``period_pattern`` replaces this reading. Pure.
"""

import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta

from watcher.matching.normalize import fold

MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
}
_ORDINALS = {
    "1": 1, "1er": 1, "premier": 1, "1ere": 1, "2": 2, "2e": 2, "2eme": 2, "deuxieme": 2,
    "second": 2, "3": 3, "3e": 3, "3eme": 3, "troisieme": 3, "4": 4, "4e": 4, "4eme": 4,
    "quatrieme": 4,
}  # fmt: skip
# Words a year or period card may hold besides its period ("RAA 2026", "Année 2026").
_FILLERS = frozenset({
    "raa", "r", "a", "recueil", "recueils", "des", "de", "du", "d", "l", "la", "le", "les",
    "actes", "acte", "administratif", "administratifs", "annee", "mois", "publication",
    "publications", "et", "special", "speciaux", "speciale", "speciales", "trimestre",
    "semestre", "t", "s", "er", "e", "eme",
})  # fmt: skip


@dataclass(frozen=True)
class Period:
    """The months a navigation card covers: a year, a semester, a quarter, a month."""

    year: int
    first: int
    last: int

    @property
    def start(self) -> date:
        return date(self.year, self.first, 1)

    @property
    def end(self) -> date:
        following = date(self.year + (self.last == 12), self.last % 12 + 1, 1)
        return following - timedelta(days=1)

    def wanted(self, today: date, boundary_days: int) -> bool:
        """Whether it holds today, or ended less than ``boundary_days`` ago."""
        return self.start <= today and self.end >= today - timedelta(days=boundary_days)


def classify(title: str, pattern: str | None, year: int | None = None) -> Period | None:
    """The period a navigation card's title names, or None when it names something else.

    ``pattern`` (feeds.yml ``period_pattern``) replaces the built-in reading: a
    regular expression with named groups ``year``, ``month`` (a number or a name),
    ``quarter`` or ``semester``.
    """
    if pattern:
        return _by_pattern(title, pattern, year)
    words = re.findall(r"[a-z]+\d*|\d+[a-z]*", fold(title))
    found_year = next((int(w) for w in words if len(w) == 4 and w[:2] in ("19", "20")), None)
    month = next((MONTHS[w] for w in words if w in MONTHS), None)
    quarter = _ordinal_before(words, "trimestre") or _prefixed(words, "t")
    semester = _ordinal_before(words, "semestre") or _prefixed(words, "s")
    leftover = [
        w
        for w in words
        if w not in _FILLERS
        and w not in MONTHS
        and w not in _ORDINALS
        and not (w.isdigit() and (len(w) == 4 or (len(w) <= 2 and int(w) <= 12)))
        and not re.fullmatch(r"[ts][1-4]", w)
    ]
    if leftover:
        return None
    year = found_year or year
    if year is None:
        return None
    if month:
        return Period(year, month, month)
    if quarter:
        return Period(year, 3 * quarter - 2, 3 * quarter)
    if semester:
        return Period(year, 6 * semester - 5, 6 * semester)
    if found_year is not None:
        return Period(year, 1, 12)
    return None


def _by_pattern(title: str, pattern: str, year: int | None) -> Period | None:
    match = re.search(pattern, title, re.IGNORECASE)
    if match is None:
        return None
    groups = {k: v for k, v in match.groupdict().items() if v}
    year = int(groups["year"]) if "year" in groups else year
    if year is None:
        return None
    if "month" in groups:
        value = fold(groups["month"])
        month = int(value) if value.isdigit() else MONTHS.get(value)
        return Period(year, month, month) if month and 1 <= month <= 12 else None
    if "quarter" in groups and groups["quarter"].isdigit():
        quarter = int(groups["quarter"])
        return Period(year, 3 * quarter - 2, 3 * quarter)
    if "semester" in groups and groups["semester"].isdigit():
        semester = int(groups["semester"])
        return Period(year, 6 * semester - 5, 6 * semester)
    return Period(year, 1, 12)


def _ordinal_before(words: list[str], noun: str) -> int | None:
    for before, word in itertools.pairwise(words):
        if word == noun and before in _ORDINALS:
            return _ORDINALS[before]
    for word, after in itertools.pairwise(words):
        if word == noun and after in _ORDINALS:
            return _ORDINALS[after]
    return None


def _prefixed(words: list[str], letter: str) -> int | None:
    for word in words:
        if re.fullmatch(letter + r"[1-4]", word):
            return int(word[1])
    return None
