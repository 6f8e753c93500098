"""Pure reading of a prefecture's RAA listing pages: documents, cards, pagination, a select.

The departmental prefecture sites share one State CMS (DSFR design), but each
prefecture arranges its RAA tree its own way: year cards, then month, quarter
or semester cards, a flat list, a paginated list (``(offset)/N`` or ``?page=N``,
newest first on most sites, ascending on a few), or cards opening a detail page
that holds the PDF. The shapes and class names follow La Quadrature du Net's
Attrap crawler (fork mp-mayane/Attrap, ``Attrap_prefdpt.py``: grey cards
``div.fr-card--grey h2.fr-card__title a`` for navigation, horizontal "white"
cards and ``a.fr-link.fr-link--download`` for documents, ``fr-pagination``
links) and the reconstructed listing pages of ../shared/fixtures/real/raa/.
The period a card names is read by ``raa_periods``. Paris and the regional
prefectures (``prefectures-regions.gouv.fr``) use
``a.link-download`` "PDF - 8 487,18 ko". No I/O here: ``raa`` fetches.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import unquote, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from watcher.items import normalise_link
from watcher.matching.normalize import fold
from watcher.sources.raa_periods import MONTHS, classify

# Navigation cards (years, months...) and entries (a PDF or a detail page).
NAVIGATION = "div.fr-card--grey .fr-card__title a"
ENTRIES = (
    "div.fr-card--horizontal .fr-card__title a, a.fr-link--download, a.link-download, "
    "div.fr-downloads-group a"
)
# Some sites emit broken class attributes: any link to a PDF is a document too.
_PDF_LINKS = "a[href$='.pdf' i], a[href*='/telechargement/']"
_DETAIL = re.compile(r"\b(PDF|DOCX?|ODT)\s*-\s*([\d\s.,]+\s*(?:[KMG]?[bo]|ko|Mo|Mb|Kb))", re.I)
_DAY = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")


@dataclass(frozen=True)
class Listed:
    """One RAA PDF as a listing shows it: enough to know it is new without fetching it."""

    url: str
    title: str
    day: date | None  # the listing's date ("13/08/2026", "Publié le 13/08/2026")
    detail: str = ""  # "PDF - 0,64 Mb - 13/08/2026": changes when the file is replaced

    @property
    def key(self) -> str:
        return normalise_link(self.url)


@dataclass(frozen=True)
class Card:
    """A link to another listing page (a year, a period) or to a document's detail page."""

    url: str
    title: str
    day: date | None = None


@dataclass(frozen=True)
class Choice:
    """An option of a ``<select>`` that is POSTed to show one RAA (Meurthe-et-Moselle)."""

    field: str  # the select's name (or id): the form field to POST
    value: str
    label: str  # "RAA n° 143 du 3 août 2026"
    day: date | None


@dataclass(frozen=True)
class Listing:
    """What one listing page holds."""

    documents: list[Listed]
    navigation: list[Card]  # cards to other listing pages
    details: list[Card]  # entries that open a page holding the PDF
    next_url: str | None = None
    last_url: str | None = None
    prev_url: str | None = None
    is_raa_page: bool = False  # looks like the platform's RAA pages (for ``watcher probe``)
    choices: list[Choice] = field(default_factory=list)  # options of the ``select`` widget


def parse_listing(
    html: str, base_url: str, *, navigation: str, entries: str, select: str = ""
) -> Listing:
    """The documents, cards, pagination links (and ``select`` options) of a listing page."""
    soup = BeautifulSoup(html, "html.parser")
    main = soup.find("main") or soup
    documents: dict[str, Listed] = {}
    details: dict[str, Card] = {}
    cards: dict[str, Card] = {}
    for anchor in main.select(navigation):
        card = _card(anchor, base_url)
        if card is not None and not _is_document(card.url):
            cards.setdefault(normalise_link(card.url), card)
    for anchor in [*main.select(entries), *main.select(_PDF_LINKS)]:
        card = _card(anchor, base_url)
        if card is None or normalise_link(card.url) in cards:
            continue
        if _is_document(card.url):
            listed = _listed(anchor, card)
            documents.setdefault(listed.key, listed)
        elif _is_site_page(card.url, base_url):
            details.setdefault(normalise_link(card.url), card)
    # A horizontal card titled like a period ("Août 2026") is navigation, not a detail;
    # a card titled with a day ("RAA du 3 août 2026") opens one RAA's page: a detail.
    for key, card in list(details.items()):
        if classify(card.title, None) is not None and _title_day(card.title) is None:
            cards.setdefault(key, details.pop(key))
    for key, card in list(cards.items()):
        if (day := _title_day(card.title)) is not None:
            details.setdefault(key, Card(card.url, card.title, card.day or day))
            del cards[key]
    text = soup.get_text(" ")
    return Listing(
        documents=list(documents.values()),
        navigation=list(cards.values()),
        details=list(details.values()),
        next_url=_pager(soup, base_url, "next"),
        last_url=_pager(soup, base_url, "last"),
        prev_url=_pager(soup, base_url, "prev"),
        choices=_choices(soup, select) if select else [],
        is_raa_page=bool(re.search(r"recueils? des actes administratifs|\bRAA\b", text, re.I))
        and bool(documents or cards or details),
    )


def _card(anchor: Tag, base_url: str) -> Card | None:
    href = anchor.get("href")
    if not isinstance(href, str) or not href.strip() or href.startswith(("#", "javascript:")):
        return None
    url = urljoin(base_url, href.strip())
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    holder = anchor.find_parent("div", class_="fr-card__content") or anchor.parent
    context = " ".join((holder or anchor).get_text(" ").split())
    title = " ".join(anchor.get_text(" ").split())
    return Card(url=url, title=title, day=_day(context))


def _listed(anchor: Tag, card: Card) -> Listed:
    """A document link: its title without "Télécharger" and the size/date detail."""
    detail_tag = anchor.select_one(".fr-link__detail")
    detail = " ".join(detail_tag.get_text(" ").split()) if detail_tag else ""
    title = card.title
    if detail and detail in title:
        title = title.replace(detail, "")
    if not detail:
        found = _DETAIL.search(card.title)
        detail = found.group(0) if found else ""
        title = _DETAIL.sub("", title)
    title = re.sub(r"^\s*Télécharger\s+", "", title, flags=re.I).strip(" -")
    if not title:
        title = unquote(urlsplit(card.url).path.rsplit("/", 1)[-1]).removesuffix(".pdf")
    return Listed(url=card.url, title=title, day=card.day or _day(detail), detail=detail)


def _is_document(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith(".pdf") or "/telechargement/" in path


def _is_site_page(url: str, base_url: str) -> bool:
    return urlsplit(url).hostname == urlsplit(base_url).hostname


def _pager(soup: BeautifulSoup, base_url: str, which: str) -> str | None:
    anchor = soup.select_one(f"a.fr-pagination__link--{which}")
    if anchor is None:
        word = {"next": "suivant", "last": "dernière", "prev": "précédent"}[which]
        anchor = next(
            (a for a in soup.select("ul.pager a, nav a") if word in a.get_text().lower()),
            None,
        )
    href = anchor.get("href") if anchor is not None else None
    if not isinstance(href, str) or not href.strip():
        return None
    return urljoin(base_url, href.strip())


def _choices(soup: BeautifulSoup, select: str) -> list[Choice]:
    """The options of the selects matching ``select`` (Attrap's ``DptSelectWidget``: an
    option per RAA, titled with its date, POSTed as ``{select id: option value}``)."""
    found = []
    for widget in soup.select(select):
        name = widget.get("name") or widget.get("id")
        if not isinstance(name, str) or not name:
            continue
        for choice in widget.find_all("option"):
            value = choice.get("value")
            if not isinstance(value, str) or not value.strip():
                continue
            title = choice.get("title")
            label = " ".join((title if isinstance(title, str) else choice.get_text(" ")).split())
            found.append(Choice(name, value, label, _day(label) or _long_day(label)))
    return found


_LONG_DAY = re.compile(r"\b(\d{1,2})(?:er)? (" + "|".join(MONTHS) + r") (\d{4})\b")


def _title_day(title: str) -> date | None:
    return _day(title) or _long_day(title)


def _long_day(text: str) -> date | None:
    found = _LONG_DAY.search(fold(text))
    if found is None:
        return None
    try:
        return date(int(found.group(3)), MONTHS[found.group(2)], int(found.group(1)))
    except ValueError:
        return None


def _day(text: str) -> date | None:
    found = _DAY.search(text)
    if found is None:
        return None
    day, month, year = (int(part) for part in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None
