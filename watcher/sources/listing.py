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
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from bs4 import BeautifulSoup

from watcher.items import Item, normalise_link
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.conditional import poll_document
from watcher.sources.options import boolean, option, pattern, selector, whole_number
from watcher.sources.scdl import parse_french_date
from watcher.sources.xmlutil import PARIS
from watcher.textdecode import decode_bytes

_MONTH_NAMES = (
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
)
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES.split(), start=1)}
_LONG_DATE = re.compile(r"(\d{1,2})(?:er)? (" + "|".join(_MONTHS) + r") (\d{4})", re.IGNORECASE)
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
        lambda response: listing_items(
            decode_bytes(response.body, response.content_type), response.url, source.id, options
        ),
        fulltext=source.fulltext or options.follow,
    )


KIND = SourceKind("html", ListingOptions, poll_listing)


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
        items[key] = Item(
            source_id=source_id,
            key=key,
            title=title[:500],
            url=url,
            published=published,
            summary=context[:1000] if context != title else "",
            kind=kind,
            schedule=f"séance du {published.strftime('%d/%m/%Y')}"
            if kind == "ordre du jour" and published
            else "",
        )
        if len(items) >= options.max_links:
            break
    return list(items.values())


def _kind(text: str) -> str:
    lowered = text.lower()
    return next((kind for words, kind in _KINDS if words in lowered), "")


def _date_in(text: str) -> datetime | None:
    numeric = re.search(r"\b(\d{2}/\d{2}/\d{4})\b", text)
    if numeric:
        return parse_french_date(numeric.group(1))
    long = _LONG_DATE.search(text)
    if long:
        day, month, year = int(long.group(1)), _MONTHS[long.group(2).lower()], int(long.group(3))
        try:
            return datetime(year, month, day, tzinfo=PARIS)
        except ValueError:
            return None
    return None
