"""What ``watcher probe`` sees at an address, and how a kind says the shape is its own.

A kind recognises its shape through ``SourceKind.probe``, a ``Shape``: by the
address, before anything is fetched (an ArcGIS layer, an Opendatasoft dataset),
or by the ``Page`` the address answers (its bytes and their form: JSON, a Sénat
index, a feed, HTML, CSV). A ``generic`` shape (any feed, any HTML page) is
asked after the specific ones. Each answers a ``Probe`` (the kind, one line for
the maintainer, the first items, the options worth writing), None when the shape
is not its own, or ``ProbeError`` with one line when it is but cannot be watched
as it is. Parsing is the readers' own, so what probe shows is what polling finds.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from watcher.errors import ParseError, WatcherError
from watcher.items import Item
from watcher.sources.xmlutil import PARIS
from watcher.textdecode import decode_bytes

if TYPE_CHECKING:  # not at run time: parsing processes import readers without httpx
    from watcher.fetch import FetchSession, Response

SHOWN = 5  # items shown, and asked of the APIs that page


class ProbeError(WatcherError):
    """The address answered, but not with anything watcher can watch."""


@dataclass(frozen=True)
class Probe:
    """What an address is and how to watch it."""

    url: str  # the address for feeds.yml (a dataset's records API, a layer...)
    kind: str
    what: str  # one line for the maintainer
    name: str
    rows: list[tuple[str, str]]  # (date, title) of the first items
    options: dict[str, str] = field(default_factory=dict)  # kind options, as YAML values
    hints: list[str] = field(default_factory=list)  # commented options worth knowing
    territory: str = ""  # the place it covers, when the page says it


class Page:
    """What an address answered, and the form its first bytes say it has."""

    def __init__(self, url: str, response: "Response") -> None:
        self.url = url  # the address asked
        self.response = response

    @cached_property
    def form(self) -> str:
        """``json``, ``texts`` (a Sénat Akoma Ntoso index), ``feed``, ``html``, ``csv`` or ''."""
        head = self.response.body[:1024].lstrip().lower()
        content_type = self.response.content_type.lower()
        if head.startswith((b"{", b"[")) or "json" in content_type:
            return "json"
        if re.search(rb"<texts[\s>]", head):
            return "texts"
        if re.search(rb"<(rss|feed|rdf:rdf)[\s>]", head) or any(
            t in content_type for t in ("rss", "atom")
        ):
            return "feed"
        if head.startswith((b"<!doctype html", b"<html")) or "html" in content_type:
            return "html"
        if "csv" in content_type or b"delib_objet" in head or head.startswith(b"sep="):
            return "csv"
        return ""

    @cached_property
    def text(self) -> str:
        return decode_bytes(self.response.body, self.response.content_type)

    @cached_property
    def soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.text, "html.parser")

    @cached_property
    def name(self) -> str:
        """An HTML page's title, else its host."""
        title = self.soup.title
        return (" ".join(title.get_text(" ").split()) if title else "") or urlsplit(self.url).netloc


@dataclass(frozen=True)
class Shape:
    """How ``watcher probe`` recognises a kind: by address, by page, or both."""

    address: "Callable[[FetchSession, str], Probe | None] | None" = None
    page: Callable[[Page], Probe | None] | None = None
    generic: bool = False  # any page of its form: asked after the specific shapes


def get(fetcher: "FetchSession", url: str) -> "Response":
    """An unconditional GET that must bring a body."""
    response = fetcher.get(url)
    if response is None:
        raise ParseError("the server answered 304 to an unconditional request")
    if not response.body.strip():
        raise ParseError("the server answered with an empty body")
    return response


def json_of(response: "Response") -> object:
    try:
        return json.loads(response.body)
    except ValueError:
        raise ParseError("the answer is not JSON") from None


def rows(items: list[Item]) -> list[tuple[str, str]]:
    """(date, title) of each item, as ``watcher probe`` lists them."""
    return [
        (
            item.published.astimezone(PARIS).strftime("%d/%m/%Y") if item.published else "",
            item.title,
        )
        for item in items
    ]


def newest_first(item: Item) -> float:
    return -(item.published or datetime.min.replace(tzinfo=PARIS)).timestamp()


def collectivity(items: list[Item]) -> str:
    """The council's name, which SCDL records carry first in the summary."""
    return items[0].summary.split(" · ")[0] if items and items[0].summary else ""


def quote(value: str) -> str:
    """A string as YAML reads it back (JSON is a double-quoted YAML scalar)."""
    return json.dumps(value, ensure_ascii=False)
