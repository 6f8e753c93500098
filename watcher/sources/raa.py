"""Prefecture RAA listings (``kind: raa``): only what is new, politely, one item per act.

``url`` is a prefecture's RAA root page. The walk goes root -> year -> month
(or quarter, semester, flat or paginated list, detail page, a ``<select>`` of
dated RAAs that is POSTed: ``raa_listing`` reads the shapes) but follows only
the period holding today, and the previous one for ``boundary_days`` after it
ends: never the whole archive. Once a day (and every poll in a month's first
two days, when new cards appear) it starts from the root; otherwise from the
pages where its last walk ended. The first poll notes the listed RAAs as items
without downloading them.
A listed PDF is known by its address and its "PDF - 0,64 Mb - 13/08/2026"
detail: what was seen is remembered in the cursor and never downloaded again.
Every request waits its host's turn (``hostpace``): ``pause`` seconds apart,
at least 5 s on the internet.

Each new PDF is read page by page (``pdfpages``: text layer, OCR for scans
within ``ocr_budget``; a PDF whose scans are not all read yet waits in the
cursor, kept on disk, for the next poll) and cut into acts (``raa_acts``):
each act is an item keyed by its act id, linked to its page (``#page=P``),
with the arrêté's number as an alias (the Préfecture de police's acts come
again in the RAAs of 75, 92, 93, 94 and 77: one text, later sightings linked),
and a drone or VSA authorisation's window as its event.
"""

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from watcher.errors import FetchError, ParseError
from watcher.fetch import Response
from watcher.items import Item, normalise_link
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.hostpace import PACER
from watcher.sources.options import duration, one_of, option, selector, text, whole_number
from watcher.sources.pdfpages import OcrBudget, read_pages
from watcher.sources.raa_acts import act_item, published_at, split_acts
from watcher.sources.raa_listing import (
    ENTRIES,
    NAVIGATION,
    Listed,
    Listing,
    classify,
    parse_listing,
)
from watcher.sources.xmlutil import PARIS
from watcher.textdecode import decode_bytes

logger = logging.getLogger(__name__)
MIN_PAUSE = 5.0  # seconds between two requests to one prefecture host, on the internet
MAX_PDF_BYTES = 40 * 1024 * 1024  # the largest RAAs seen are 8.5 MB
MAX_PAGES_PER_WALK = 40
FORGET_DAYS = 120  # what was last listed this long ago is forgotten
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class RaaOptions:
    # Seconds between two requests to the host (at least 5 s, except on this machine).
    pause: float = option(MIN_PAUSE, parse=lambda v: duration(v).total_seconds())
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
    ocr_budget: float = option(120.0, parse=lambda v: duration(v).total_seconds())

    def problem(self) -> str | None:
        if self.period_pattern:
            import re

            try:
                re.compile(self.period_pattern)
            except re.error as exc:
                return f"period_pattern: {exc}"
        return None


@dataclass
class _Memory:
    """The cursor: listed PDFs and detail pages seen, PDFs waiting, where to start."""

    seen: dict[str, str] = field(default_factory=dict)  # key -> "last listed|detail"
    details: dict[str, str] = field(default_factory=dict)  # detail page key -> last listed
    pending: list[dict[str, str]] = field(default_factory=list)
    leaves: list[str] = field(default_factory=list)
    walked: str = ""

    @classmethod
    def load(cls, cursor: dict[str, str]) -> "_Memory":
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


class _Site:
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


def read_raa(
    source: SourceConfig, options: RaaOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """New RAAs of a prefecture, each cut into its acts."""
    today = ctx.now.astimezone(PARIS).date()
    memory = _Memory.load(dict(state.cursor))
    site = _Site(ctx, source.url, options.pause)
    warnings: list[str] = []
    from_root = memory.walked != today.isoformat() or today.day <= 2 or not memory.leaves
    starts = [source.url] if from_root else memory.leaves
    try:
        found, details, leaves = _walk(site, starts, options, memory, today, ctx.backlog, warnings)
    except (FetchError, ParseError):
        if from_root:
            raise
        from_root, starts = True, [source.url]  # a listing page moved: start from the root
        found, details, leaves = _walk(site, starts, options, memory, today, ctx.backlog, warnings)
    if from_root:
        memory.walked, memory.leaves = today.isoformat(), leaves or memory.leaves
    stamp = today.isoformat()
    for key in details:
        memory.details[key] = stamp
    new = [d for d in found if not memory.known(d)]
    for listed in found:  # still listed: refreshed, so never forgotten while listed
        if memory.known(listed):
            memory.seen[listed.key] = f"{stamp}|{listed.detail}"
    if ctx.backlog:  # where the listing stands: its RAAs, noted (not downloaded)
        for listed in new:
            memory.seen[listed.key] = f"{stamp}|{listed.detail}"
        listed_items = [
            act_item(source.id, d, published_at(d.day, ctx.now), None, "") for d in found
        ]
        return PollResult(listed_items, SourceState(cursor=memory.dump(today)), warnings=warnings)
    waiting = [_from_json(p) for p in memory.pending]
    queue = {d.key: d for d in [*waiting, *sorted(new, key=lambda d: d.day or today)]}
    budget = OcrBudget(options.ocr_budget)
    items: list[Item] = []
    pending: list[Listed] = []
    for number, listed in enumerate(queue.values()):
        if number >= options.downloads:
            if listed in waiting:  # a new one not read yet is still listed: it comes again
                pending.append(listed)
            continue
        try:
            body = _pdf(site, listed, ctx.cache_dir)
        except FetchError as exc:
            warnings.append(f"{listed.url}: {exc}")  # not marked seen: tried again next poll
            if listed in waiting:
                pending.append(listed)
            continue
        try:
            acts_items, complete = _items(source, listed, body, ctx, budget, warnings)
        except ParseError as exc:  # kept, by its title: nothing listed is lost
            warnings.append(f"{listed.url}: {exc}")
            published = published_at(listed.day, ctx.now)
            acts_items, complete = [act_item(source.id, listed, published, None, "")], True
        if complete:
            items += acts_items
            memory.seen[listed.key] = f"{stamp}|{listed.detail}"
            _cached_pdf(ctx.cache_dir, listed).unlink(missing_ok=True)
        else:
            pending.append(listed)
    memory.pending = [_to_json(p) for p in pending]
    if pending:
        warnings.append(f"{len(pending)} RAA(s) left for the next poll (OCR budget or downloads)")
    return PollResult(items, SourceState(cursor=memory.dump(today)), warnings=warnings)


KIND = SourceKind("raa", RaaOptions, read_raa)


def _walk(
    site: _Site,
    starts: list[str],
    options: RaaOptions,
    memory: _Memory,
    today: date,
    backlog: bool,
    warnings: list[str],
) -> tuple[list[Listed], set[str], list[str]]:
    """The listed PDFs of the current period(s), detail pages opened, and the leaf pages."""
    # (page, year of the card that led there, how many list pages before it)
    queue: list[tuple[str, int | None, int]] = [(url, None, 0) for url in starts]
    visited: set[str] = set()
    found: dict[str, Listed] = {}
    details: set[str] = set()
    leaves: list[str] = []
    read_details = 0
    while queue and len(visited) < MAX_PAGES_PER_WALK:
        url, year, paged = queue.pop(0)  # paged: reached through the list's pagination
        if normalise_link(url) in visited:
            continue
        visited.add(normalise_link(url))
        try:
            listing = _listing(site, url, options)
        except (FetchError, ParseError) as exc:
            if url in starts and not paged:
                raise  # the root (or a leaf) itself failing is the source failing
            warnings.append(f"{url}: {exc}")
            continue
        followed = 0
        for card in listing.navigation:
            # A month card under no year card ("Janvier") is of the current year.
            period = classify(card.title, options.period_pattern, year or today.year)
            if period is not None and period.wanted(today, options.boundary_days):
                queue.append((card.url, period.year, 0))
                followed += 1
        fresh = [d for d in listing.documents if not memory.known(d)]
        for listed in listing.documents:
            found.setdefault(listed.key, listed)
        for card in listing.details:
            key = normalise_link(card.url)
            if key in memory.details or key in details:
                details.add(key)
                continue
            fresh.append(Listed(card.url, card.title, card.day))
            if backlog:  # the first poll notes where the list stands, opens nothing
                details.add(key)
                continue
            if read_details >= options.downloads:
                continue
            read_details += 1
            try:
                page = _listing(site, card.url, options)
            except (FetchError, ParseError) as exc:
                warnings.append(f"{card.url}: {exc}")
                continue
            details.add(key)
            for listed in page.documents:
                listed = listed if listed.day else replace(listed, day=card.day)
                found.setdefault(listed.key, replace(listed, title=card.title or listed.title))
        for choice in listing.choices:
            key = normalise_link(f"{url}#{choice.field}={choice.value}")
            recent = choice.day is not None and choice.day >= today - timedelta(
                days=options.boundary_days
            )
            if not recent or key in memory.details or key in details:
                continue
            if backlog:
                details.add(key)
                continue
            try:
                answer = _listing(site, url, options, form={choice.field: choice.value})
            except (FetchError, ParseError) as exc:
                warnings.append(f"{url} ({choice.label}): {exc}")
                continue
            details.add(key)
            for listed in answer.documents:
                found.setdefault(listed.key, replace(listed, day=listed.day or choice.day))
        if not followed and not paged:  # where the walk ends: the next polls start here
            leaves.append(url)
        _paginate(queue, listing, url, year, paged, options, bool(fresh) and not backlog)
    return list(found.values()), details, leaves


def _paginate(
    queue: list[tuple[str, int | None, int]],
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


def _listing(
    site: _Site, url: str, options: RaaOptions, form: dict[str, str] | None = None
) -> Listing:
    response = site.get(url, form=form)
    html = decode_bytes(response.body, response.content_type)
    return parse_listing(
        html,
        response.url,
        navigation=options.navigation,
        entries=options.entries,
        select=options.select,
    )


def _cached_pdf(cache_dir: Path, listed: Listed) -> Path:
    name = hashlib.sha1(listed.key.encode()).hexdigest()[:20]
    return cache_dir / "raa" / f"{name}.pdf"


def _pdf(site: _Site, listed: Listed, cache_dir: Path) -> bytes:
    """The PDF's bytes: from the disk when a previous poll downloaded it, else fetched once."""
    path = _cached_pdf(cache_dir, listed)
    if path.is_file():
        return path.read_bytes()
    body = site.get(listed.url, max_bytes=MAX_PDF_BYTES).body
    if not body.startswith(b"%PDF"):
        raise FetchError("not a PDF (an anti-bot page?)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return body


def _items(
    source: SourceConfig,
    listed: Listed,
    body: bytes,
    ctx: PollContext,
    budget: OcrBudget,
    warnings: list[str],
) -> tuple[list[Item], bool]:
    """One item per act of the RAA (or one for the whole RAA); False: scans still to OCR."""
    pages = read_pages(body, cache_dir=ctx.cache_dir, budget=budget)
    if pages.pending:
        return [], False
    published = published_at(listed.day, ctx.now)
    acts = split_acts(pages.texts)
    if not acts:
        whole = "\n".join(pages.texts)
        return [act_item(source.id, listed, published, None, whole)], True
    return [act_item(source.id, listed, published, act, act.text) for act in acts], True


def _to_json(listed: Listed) -> dict[str, str]:
    day = listed.day.isoformat() if listed.day else ""
    return {"url": listed.url, "title": listed.title, "day": day, "detail": listed.detail}


def _from_json(data: dict[str, str]) -> Listed:
    day = date.fromisoformat(data["day"]) if data.get("day") else None
    return Listed(data["url"], data.get("title", ""), day, data.get("detail", ""))
