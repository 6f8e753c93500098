"""A local prefecture site in the State platform's shapes, serving RAAs, recording requests.

Shapes and classes are those of the reconstructed listing pages in
../shared/fixtures/real/raa/reconstructed/ (hautes-alpes_05_racine: grey year
cards; ain_01_mois-aout-2026: ``a.fr-link--download`` with "PDF - 0,64 Mb -
13/08/2026"; aisne_02_annee-2026_page1 and aisne_02_detail-011: an ascending
list of horizontal cards opening detail pages, ``(offset)/N`` pagination with
a "last page" link) and of Attrap's crawler (mp-mayane/Attrap,
``Attrap_prefdpt.py``). ``cards`` builds root -> year -> month; ``ascending``
builds root -> year list (2 entries a page, oldest first) -> detail pages.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import date

from tests.feed_server import FeedServer, Route, Seen

MONTHS = [
    "Janvier",
    "Février",
    "Mars",
    "Avril",
    "Mai",
    "Juin",
    "Juillet",
    "Août",
    "Septembre",
    "Octobre",
    "Novembre",
    "Décembre",
]
# Addresses are ASCII on the real sites ("08-AOUT", "Annee-2026"); titles are not.
SLUGS = [
    f"{n:02d}-{m.upper().replace('É', 'E').replace('Û', 'U')}" for n, m in enumerate(MONTHS, 1)
]
PAGE_SIZE = 2


@dataclass
class Raa:
    name: str
    body: bytes
    day: date

    def detail(self) -> str:
        size = f"{len(self.body) / 1_048_576:.2f}".replace(".", ",")
        return f"PDF - {size} Mb - {self.day:%d/%m/%Y}"


@dataclass
class PrefectureSite:
    server: FeedServer
    prefix: str  # "/p01": two sites can share the server's host
    shape: str = "cards"  # or "ascending"
    today: date = field(default_factory=date.today)
    # Month (year, month) -> RAAs listed there, newest first ("cards"); all, oldest first
    # ("ascending").
    raas: dict[tuple[int, int], list[Raa]] = field(default_factory=dict)
    times: list[tuple[str, float, float]] = field(default_factory=list)  # path, start, end
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def root(self) -> str:
        return self.server.url(f"{self.prefix}/Publications/RAA")

    def publish(self, raa: Raa) -> None:
        """Put an RAA on the site (and register its PDF's path)."""
        month = (raa.day.year, raa.day.month)
        self.raas.setdefault(month, []).insert(0, raa)
        self._route(self._pdf_path(raa), lambda: Route(raa.body, content_type="application/pdf"))
        if self.shape == "ascending":
            path = f"{self.prefix}/Publications/RAA/{raa.name}"
            self._route(path, lambda: self._page(self._detail(raa)))

    def hits(self, fragment: str) -> list[str]:
        return [path for path, _, _ in self.times if fragment in path]

    def pdf_hits(self, raa: Raa) -> int:
        return len(self.hits(self._pdf_path(raa)))

    def start(self) -> None:
        base = f"{self.prefix}/Publications/RAA"
        self._route(base, lambda: self._page(self._root()))
        for year in (self.today.year - 1, self.today.year):
            self._route(f"{base}/RAA-{year}", lambda y=year: self._page(self._year(y)))
            for month in range(1, 13):
                self._route(
                    f"{base}/RAA-{year}/{SLUGS[month - 1]}",
                    lambda y=year, m=month: self._page(self._month(y, m)),
                )
        self._route(f"{self.prefix}/Mentions-legales", lambda: self._page("<p>Mentions</p>"))

    # -- pages -------------------------------------------------------------------

    def _root(self) -> str:
        cards = "".join(
            _grey(f"{self.prefix}/Publications/RAA/RAA-{y}", f"RAA {y}")
            for y in (self.today.year, self.today.year - 1)
        )
        # Menus and archive cards: never followed, never items.
        cards += _grey(f"{self.prefix}/Publications/RAA/Archives", "Archives")
        return cards + f'<a href="{self.prefix}/Mentions-legales">Mentions légales</a>'

    def _year(self, year: int) -> str:
        if self.shape == "ascending":
            return ""  # answered by _list
        last = self.today.month if year == self.today.year else 12
        return "".join(
            _grey(f"{self.prefix}/Publications/RAA/RAA-{year}/{SLUGS[m - 1]}", MONTHS[m - 1])
            for m in range(last, 0, -1)
        )

    def _month(self, year: int, month: int) -> str:
        links = "".join(
            f'<div class=""><a class="fr-link fr-link--download" href="{self._pdf_path(r)}">'
            f'Télécharger {r.name} <span class="fr-link__detail">{r.detail()}</span></a></div>'
            for r in self.raas.get((year, month), [])
        )
        return f'<div class="fr-text--lead fr-my-3w">{links}</div>'

    def _list(self, seen: Seen) -> Route:
        """The ascending year list: oldest first, PAGE_SIZE a page, ``(offset)/N``."""
        everything = sorted(
            (r for raas in self.raas.values() for r in raas), key=lambda r: (r.day, r.name)
        )
        offset = int(seen.path.rsplit("/", 1)[1]) if "(offset)" in seen.path else 0
        shown = everything[offset : offset + PAGE_SIZE]
        cards = "".join(
            '<div class="fr-card fr-card--horizontal fr-card--sm fr-enlarge-link fr-mb-3w">'
            '<div class="fr-card__body"><div class="fr-card__content"><h3 class="fr-card__title">'
            f'<a href="{self.prefix}/Publications/RAA/{r.name}">{r.name}</a></h3>'
            "</div></div></div>"
            for r in shown
        )
        last = max(0, (len(everything) - 1) // PAGE_SIZE * PAGE_SIZE)
        base = f"{self.prefix}/Publications/RAA/RAA-{self.today.year}/(offset)"
        pager = (
            '<nav class="fr-pagination"><ul class="fr-pagination__list">'
            f'<li><a class="fr-pagination__link fr-pagination__link--prev" '
            f'href="{base}/{max(0, offset - PAGE_SIZE)}">Précédent</a></li>'
            f'<li><a class="fr-pagination__link fr-pagination__link--last" '
            f'href="{base}/{last}">Dernière page</a></li></ul></nav>'
        )
        return self._page(cards + pager)

    def _detail(self, raa: Raa) -> str:
        return (
            f"<h1>{raa.name}</h1>"
            f'<a class="fr-link fr-link--download" href="{self._pdf_path(raa)}">'
            f'Télécharger {raa.name} <span class="fr-link__detail">{raa.detail()}</span></a>'
        )

    def _page(self, main: str) -> Route:
        html = (
            '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Recueil des '
            f"actes administratifs</title></head><body><header><nav>"
            f'<a href="{self.prefix}/Mentions-legales">Mentions légales</a></nav></header>'
            f"<main><h1>Recueil des actes administratifs</h1>{main}</main></body></html>"
        )
        return Route(html.encode(), content_type="text/html; charset=utf-8", etag=False)

    # -- plumbing ----------------------------------------------------------------

    def _pdf_path(self, raa: Raa) -> str:
        number = abs(hash(raa.name)) % 100000
        return f"{self.prefix}/contenu/telechargement/{number}/1/file/{raa.name}.pdf"

    def _route(self, path: str, answer: object) -> None:
        def handler(seen: Seen) -> Route:
            started = time.monotonic()
            route = answer() if path != self._year_path() else self._list(seen)  # type: ignore[operator]
            with self._lock:
                self.times.append((seen.path, started, time.monotonic()))
            return route

        self.server.handle(path, handler)
        if self.shape == "ascending" and path == self._year_path():
            for offset in range(0, 40, PAGE_SIZE):
                self.server.handle(f"{path}/(offset)/{offset}", handler)

    def _year_path(self) -> str:
        if self.shape != "ascending":
            return ""
        return f"{self.prefix}/Publications/RAA/RAA-{self.today.year}"


def _grey(href: str, title: str) -> str:
    return (
        '<div class="fr-card fr-card--sm fr-card--grey fr-enlarge-link"><div class="fr-card__body">'
        f'<div class="fr-card__content"><h2 class="fr-card__title"><a href="{href}">{title}</a>'
        "</h2></div></div></div>"
    )
