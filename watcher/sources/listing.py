"""Council portals with no feed (``kind: html``): the links of a listing page.

A maintainer points ``url`` at a listing (WebDélib+'s sittings page for
Auvergne-Rhône-Alpes, a town's "délibérations" page) and chooses the links by
``link_selector`` (CSS) and/or ``link_pattern`` (the link's URL with ``*``
wildcards). Each link is an item; with ``follow: true`` its document (PDF,
HTML) is fetched and matched too. Agendas ("ordre du jour") are items as well:
they are published before the vote, which is the early warning users need.
"""

import fnmatch
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from watcher.errors import EmptyListingError
from watcher.fields import boolean, option, whole_number
from watcher.items import Item, normalise_link
from watcher.matching.normalize import fold
from watcher.sources.base import (
    PollContext,
    PollResult,
    SourceConfig,
    SourceKind,
    SourceState,
    always,
)
from watcher.sources.conditional import poll_document
from watcher.sources.frenchdates import day_text, find_dates
from watcher.sources.options import pattern, selector
from watcher.sources.probing import Page, Probe, ProbeError, Shape, quote, rows
from watcher.textdecode import decode_bytes

_KINDS = (
    ("ordre du jour", "ordre du jour"),
    ("procès-verbal", "procès-verbal"),
    ("compte rendu", "compte rendu"),
    ("délibération", "délibération"),
    ("deliberation", "délibération"),
    ("arrêté", "arrêté"),
)


@dataclass(frozen=True)
class ListingOptions:
    link_selector: str = option("", parse=selector)  # CSS: the links (or their containers)
    link_pattern: str = option("", parse=pattern)  # the links' URLs, with * wildcards
    follow: bool = option(False, parse=boolean)  # read each linked document (PDF, HTML)
    max_links: int = option(200, parse=whole_number(1, 1000))

    def problem(self) -> str | None:
        if not self.link_selector and not self.link_pattern:
            return "kind html needs link_selector or link_pattern to choose its links"
        return None


def poll_listing(
    source: SourceConfig, options: ListingOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    return poll_document(
        source,
        state,
        ctx,
        lambda response: chosen_links(
            decode_bytes(response.body, response.content_type), response.url, source.id, options
        ),
        fulltext=source.fulltext or options.follow,
    )


def chosen_links(page: str, base_url: str, source_id: str, options: ListingOptions) -> list[Item]:
    """The page's chosen links; a page where none is chosen is an error, not a quiet success.

    A listing that moved (a redirect to a home page, a new template) still answers
    200: only the missing links tell, and an empty success would hide it for good.
    """
    items = listing_items(page, base_url, source_id, options)
    if not items:
        total = len(BeautifulSoup(page, "html.parser").find_all("a", href=True))
        chosen = " and ".join(
            f"{name} {value!r}"
            for name, value in (
                ("link_selector", options.link_selector),
                ("link_pattern", options.link_pattern),
            )
            if value
        )
        raise EmptyListingError(
            f"{base_url}: 0 links chosen by {chosen} among the page's {total}: "
            "has the page moved or changed? `watcher probe` it"
        )
    return items


def listing_items(page: str, base_url: str, source_id: str, options: ListingOptions) -> list[Item]:
    """One item per chosen link of the page, in page order, each link once."""
    soup = BeautifulSoup(page, "html.parser")
    chosen = soup.select(options.link_selector) if options.link_selector else soup.find_all("a")
    anchors = []
    for element in chosen:
        if element.name == "a":
            anchors.append(element)
        else:
            anchors.extend(element.find_all("a"))
    items: dict[str, Item] = {}
    for anchor in anchors:
        href = anchor.get("href")
        if not isinstance(href, str) or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = urljoin(base_url, href)
        if options.link_pattern and not fnmatch.fnmatch(url, options.link_pattern):
            continue
        key = normalise_link(url)
        if key in items:
            continue
        text = " ".join(anchor.get_text(" ").split()) or str(anchor.get("title") or "")
        context = " ".join(anchor.parent.get_text(" ").split()) if anchor.parent else text
        title = text if len(text) > 3 else (context or url.rsplit("/", 1)[-1])
        kind = _kind(f"{title} {context}")
        published = _date_in(title) or _date_in(context)
        sitting = published if kind == "ordre du jour" else None  # an agenda dates its sitting
        items[key] = Item(
            source_id=source_id,
            key=key,
            title=title[:500],
            url=url,
            published=published,
            summary=context[:1000] if context != title else "",
            kind=kind,
            schedule=f"séance du {day_text(sitting)}" if sitting else "",
            event_at=sitting,
            event="Séance du conseil" if sitting else "",
        )
        if len(items) >= options.max_links:
            break
    return list(items.values())


def _kind(text: str) -> str:
    """The kind a link's words name, accents and case folded ("ARRÊTÉ", "Arrete")."""
    folded = f" {fold(text)} "
    return next((kind for words, kind in _KINDS if f" {fold(words)}" in folded), "")


def _date_in(text: str) -> datetime | None:
    found = find_dates(text)
    return found[0].at if found else None


# -- what ``watcher probe`` recognises as a page of document links -------------------

_DOCUMENT = re.compile(r"\.(pdf|odt|docx?)$", re.IGNORECASE)
_CONTENT_LINKS = "a:not(nav a, header a, footer a, aside a)"


def _probe(page: Page) -> Probe | None:
    """Any HTML page: the documents it links to most, outside its menus if they have some."""
    if page.form != "html":
        return None
    # A page's menus, header and footer link to documents about the site (legal
    # notices, a guide): those are not the documents it publishes.
    base = page.response.url
    links = [urljoin(base, str(a.get("href"))) for a in page.soup.select(_CONTENT_LINKS)]
    extensions = Counter(
        found.group(1).lower() for link in links if (found := _DOCUMENT.search(urlsplit(link).path))
    )
    if not extensions:
        raise ProbeError(
            f"{page.url}: an HTML page with no document links: give a `link_selector` "
            "(kind: html) that picks the links to watch"
        )
    wanted = f"*.{extensions.most_common(1)[0][0]}"
    every = [urljoin(base, str(a.get("href"))) for a in page.soup.find_all("a", href=True)]
    in_menus = len(fnmatch.filter(every, wanted)) > len(fnmatch.filter(links, wanted))
    chosen = _CONTENT_LINKS if in_menus else ""
    items = listing_items(page.text, base, "probe", ListingOptions(chosen, wanted))
    options = {"link_selector": quote(chosen)} if chosen else {}
    options |= {"link_pattern": quote(wanted), "follow": "true"}
    return Probe(
        url=page.url,
        kind="html",
        what=f"an HTML page with {len(items)} document links ({wanted})",
        name=page.name,
        rows=rows(items),
        options=options,
        hints=['link_selector: "main a"   # narrow the links to a part of the page'],
    )


KIND = SourceKind(
    "html",
    ListingOptions,
    poll_listing,
    "page web",
    probe=Shape(page=_probe, generic=True),
    family="collectivites",
    whole_listing=always,  # the whole page each time
)
