"""Walking a prefecture's RAA pages (``kind: raa``): what to read, what is listed.

The walk goes root -> year -> period (or a paginated list, detail pages, a
``<select>`` of dated RAAs that is POSTed: ``raa_listing`` reads the shapes) and
follows only the period holding today, and the previous one for ``boundary_days``
after it ends: never the whole archive. ``Memory`` is the source's cursor: the
listed PDFs and detail pages seen, the PDFs waiting for OCR, where the last walk
ended. Every request waits its host's turn (``hostpace``).
"""

import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from urllib.parse import urlsplit

from watcher.errors import FetchError, ParseError
from watcher.fetch import Response
from watcher.fields import duration, one_of, option, text, whole_number
from watcher.items import normalise_link
from watcher.sources.base import PollContext
from watcher.sources.hostpace import PACER
from watcher.sources.options import selector
from watcher.sources.raa_listing import (
    ENTRIES,
    NAVIGATION,
    Listed,
    Listing,
    parse_listing,
)
from watcher.sources.raa_periods import classify
from watcher.textdecode import decode_bytes

MIN_PAUSE = 5.0  # seconds between two requests to one prefecture host, on the internet
MAX_PAGES_PER_WALK = 40
FORGET_DAYS = 120  # what was last listed this long ago is forgotten
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# A page of the walk: (its address, the year of the card that led there, how many
# list pages before it through the list's pagination).
_Page = tuple[str, int | None, int]


@dataclass(frozen=True)
class RaaOptions:
    # Seconds between two requests to the host (at least 5 s, except on this machine).
    pause: float = option(MIN_PAUSE, parse=duration)
    # CSS selectors of navigation cards (years, periods) and of entries (PDFs, detail pages).
    navigation: str = option(NAVIGATION, parse=selector)
    entries: str = option(ENTRIES, parse=selector)
    # A <select> whose options (one per RAA, titled with its date) are POSTed to the page.
    select: str = option("", parse=selector)
    # How the period cards are named, when the built-in reading fails: a regular
    # expression with named groups year, month, quarter or semester.
    period_pattern: str = option("", parse=text)
    # A paginated list: newest first (most sites) or ascending (02, 05).
    order: str = option("newest-first", parse=one_of("newest-first", "ascending"))
    pages: int = option(3, parse=whole_number(1, 20))  # list pages read at most, newest first
    # The previous period is read for this many days after it ends (late publications).
    boundary_days: int = option(7, parse=whole_number(0, 60))
    downloads: int = option(20, parse=whole_number(1, 200))  # new PDFs read per poll at most
    ocr_budget: float = option(120.0, parse=duration)

    def problem(self) -> str | None:
        if self.period_pattern:
            import re

            try:
                re.compile(self.period_pattern)
            except re.error as exc:
                return f"period_pattern: {exc}"
        return None


@dataclass
class Memory:
    """The cursor: listed PDFs and detail pages seen, PDFs waiting, where to start."""

    seen: dict[str, str] = field(default_factory=dict)  # key -> "last listed|detail"
    details: dict[str, str] = field(default_factory=dict)  # detail page key -> last listed
    pending: list[dict[str, str]] = field(default_factory=list)
    leaves: list[str] = field(default_factory=list)
    walked: str = ""

    @classmethod
    def load(cls, cursor: dict[str, str]) -> "Memory":
        def parsed(key: str, default: object) -> object:
            try:
                return json.loads(cursor[key]) if key in cursor else default
            except ValueError:
                return default

        return cls(
            seen=dict(parsed("seen", {})),  # type: ignore[call-overload]
            details=dict(parsed("details", {})),  # type: ignore[call-overload]
            pending=list(parsed("pending", [])),  # type: ignore[call-overload]
            leaves=list(parsed("leaves", [])),  # type: ignore[call-overload]
            walked=cursor.get("walked", ""),
        )

    def dump(self, today: date) -> dict[str, str]:
        horizon = (today - timedelta(days=FORGET_DAYS)).isoformat()
        seen = {k: v for k, v in self.seen.items() if v.split("|", 1)[0] >= horizon}
        details = {k: v for k, v in self.details.items() if v >= horizon}
        return {
            "seen": json.dumps(seen, sort_keys=True),
            "details": json.dumps(details, sort_keys=True),
            "pending": json.dumps(self.pending),
            "leaves": json.dumps(self.leaves),
            "walked": self.walked,
        }

    def known(self, listed: Listed) -> bool:
        stamp = self.seen.get(listed.key)
        return stamp is not None and stamp.split("|", 1)[1] == listed.detail


class Site:
    """Paced GETs to one prefecture site, counted."""

    def __init__(self, ctx: PollContext, url: str, pause: float) -> None:
        host = (urlsplit(url).hostname or "").lower()
        self.ctx = ctx
        self.pause = pause if host in _LOCAL_HOSTS else max(pause, MIN_PAUSE)
        self.requests = 0

    def get(
        self, url: str, *, max_bytes: int | None = None, form: dict[str, str] | None = None
    ) -> Response:
        """GET ``url`` (POST ``form`` to it when given), in the host's turn."""
        fetcher = self.ctx.fetcher
        deadline = getattr(fetcher, "deadline", None)
        budget = None if deadline is None else deadline - fetcher.loop.time()
        host = (urlsplit(url).hostname or "").lower()
        with PACER.turn(host, self.pause, budget=budget):
            self.requests += 1
            if form is None:
                response = fetcher.get(url, max_bytes=max_bytes)
            else:
                response = fetcher.request("POST", url, data=form, max_bytes=max_bytes)
        if response is None:
            raise ParseError(f"{url}: the server answered 304 to an unconditional request")
        return response


class Walk:
    """One walk of the site from its start pages: the RAAs listed, the detail pages read."""

    def __init__(
        self,
        site: Site,
        options: RaaOptions,
        memory: Memory,
        today: date,
        *,
        backlog: bool,
        warnings: list[str],
    ) -> None:
        self.site, self.options, self.memory, self.today = site, options, memory, today
        self.backlog, self.warnings = backlog, warnings
        self.queue: list[_Page] = []
        self.found: dict[str, Listed] = {}
        self.details: set[str] = set()  # detail pages (and POSTed choices) read or noted
        self.leaves: list[str] = []  # where the walk ended: the next polls start there
        self.read_details = 0

    def run(self, starts: list[str]) -> list[Listed]:
        """The listed PDFs of the current period(s); a start page failing fails the walk."""
        self.queue = [(url, None, 0) for url in starts]
        visited: set[str] = set()
        while self.queue and len(visited) < MAX_PAGES_PER_WALK:
            url, year, paged = self.queue.pop(0)
            if normalise_link(url) in visited:
                continue
            visited.add(normalise_link(url))
            try:
                listing = self.listing(url)
            except (FetchError, ParseError) as exc:
                if url in starts and not paged:
                    raise  # the root (or a leaf) itself failing is the source failing
                self.warnings.append(f"{url}: {exc}")
                continue
            self._page(listing, url, year, paged)
        return list(self.found.values())

    def listing(self, url: str, form: dict[str, str] | None = None) -> Listing:
        response = self.site.get(url, form=form)
        html = decode_bytes(response.body, response.content_type)
        return parse_listing(
            html,
            response.url,
            navigation=self.options.navigation,
            entries=self.options.entries,
            select=self.options.select,
        )

    def _page(self, listing: Listing, url: str, year: int | None, paged: int) -> None:
        followed = self._cards(listing, year)
        fresh = [d for d in listing.documents if not self.memory.known(d)]
        for listed in listing.documents:
            self.found.setdefault(listed.key, listed)
        fresh += self._detail_pages(listing)
        self._choices(listing, url)
        if not followed and not paged:
            self.leaves.append(url)
        _paginate(
            self.queue, listing, url, year, paged, self.options, bool(fresh) and not self.backlog
        )

    def _cards(self, listing: Listing, year: int | None) -> int:
        """Queue the period cards worth following; how many."""
        followed = 0
        for card in listing.navigation:
            # A month card under no year card ("Janvier") is of the current year.
            period = classify(card.title, self.options.period_pattern, year or self.today.year)
            if period is not None and period.wanted(self.today, self.options.boundary_days):
                self.queue.append((card.url, period.year, 0))
                followed += 1
        return followed

    def _detail_pages(self, listing: Listing) -> list[Listed]:
        """Open the detail pages not seen yet (within ``downloads``); those pages, as listed."""
        fresh = []
        for card in listing.details:
            key = normalise_link(card.url)
            if key in self.memory.details or key in self.details:
                self.details.add(key)
                continue
            fresh.append(Listed(card.url, card.title, card.day))
            if self.backlog:  # the first poll notes where the list stands, opens nothing
                self.details.add(key)
            elif self.read_details < self.options.downloads:
                self.read_details += 1
                self._open_detail(card.url, card.title, card.day, key)
        return fresh

    def _open_detail(self, url: str, title: str, day: date | None, key: str) -> None:
        try:
            page = self.listing(url)
        except (FetchError, ParseError) as exc:
            self.warnings.append(f"{url}: {exc}")
            return
        self.details.add(key)
        for listed in page.documents:
            listed = listed if listed.day else replace(listed, day=day)
            self.found.setdefault(listed.key, replace(listed, title=title or listed.title))

    def _choices(self, listing: Listing, url: str) -> None:
        """POST the recent options of a ``<select>`` of dated RAAs not seen yet."""
        since = self.today - timedelta(days=self.options.boundary_days)
        for choice in listing.choices:
            key = normalise_link(f"{url}#{choice.field}={choice.value}")
            recent = choice.day is not None and choice.day >= since
            if not recent or key in self.memory.details or key in self.details:
                continue
            if self.backlog:
                self.details.add(key)
                continue
            try:
                answer = self.listing(url, form={choice.field: choice.value})
            except (FetchError, ParseError) as exc:
                self.warnings.append(f"{url} ({choice.label}): {exc}")
                continue
            self.details.add(key)
            for listed in answer.documents:
                self.found.setdefault(listed.key, replace(listed, day=listed.day or choice.day))


def _paginate(
    queue: list[_Page],
    listing: Listing,
    url: str,
    year: int | None,
    paged: int,
    options: RaaOptions,
    fresh: bool,
) -> None:
    """Queue the list pages worth reading: the newest ones, while they bring news."""
    if options.order == "ascending":
        last = listing.last_url
        if not paged and last and normalise_link(last) != normalise_link(url):
            queue.append((last, year, 1))
        elif paged and fresh and listing.prev_url:
            # Something new on the last page: the one before may hold more of it.
            queue.append((listing.prev_url, year, paged + 1))
        return
    if fresh and listing.next_url and paged + 1 < options.pages:
        queue.append((listing.next_url, year, paged + 1))
