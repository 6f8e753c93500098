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
import logging
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from watcher.errors import FetchError, ParseError
from watcher.items import Item
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.pdfpages import OcrBudget, read_pages
from watcher.sources.probing import Page, Probe, Shape, quote
from watcher.sources.raa_acts import act_item, published_at, split_acts
from watcher.sources.raa_listing import ENTRIES, NAVIGATION, Listed, parse_listing
from watcher.sources.raa_periods import classify
from watcher.sources.raa_walk import Memory, RaaOptions, Site, Walk
from watcher.sources.xmlutil import PARIS

logger = logging.getLogger(__name__)
MAX_PDF_BYTES = 40 * 1024 * 1024  # the largest RAAs seen are 8.5 MB


def read_raa(
    source: SourceConfig, options: RaaOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """New RAAs of a prefecture, each cut into its acts."""
    today = ctx.now.astimezone(PARIS).date()
    memory = Memory.load(dict(state.cursor))
    site = Site(ctx, source.url, options.pause)
    warnings: list[str] = []
    found = _walk(source, options, memory, site, today, ctx.backlog, warnings)
    stamp = today.isoformat()
    new = [d for d in found if not memory.known(d)]
    for listed in found:  # still listed: refreshed, so never forgotten while listed
        if memory.known(listed) or ctx.backlog:  # the backlog: where the listing stands
            memory.seen[listed.key] = f"{stamp}|{listed.detail}"
    if ctx.backlog:  # its RAAs, noted (not downloaded)
        items = [act_item(source.id, d, published_at(d.day, ctx.now), None, "") for d in found]
        return PollResult(items, SourceState(cursor=memory.dump(today)), warnings=warnings)
    items = _download(source, options, memory, site, new, ctx, warnings)
    if memory.pending:
        warnings.append(
            f"{len(memory.pending)} RAA(s) left for the next poll (OCR budget or downloads)"
        )
    return PollResult(items, SourceState(cursor=memory.dump(today)), warnings=warnings)


def _walk(
    source: SourceConfig,
    options: RaaOptions,
    memory: Memory,
    site: Site,
    today: date,
    backlog: bool,
    warnings: list[str],
) -> list[Listed]:
    """The RAAs listed now, from the root once a day (and every poll in a month's first two
    days, when new cards appear), else from where the last walk ended."""
    from_root = memory.walked != today.isoformat() or today.day <= 2 or not memory.leaves
    starts = [source.url] if from_root else memory.leaves
    walk = Walk(site, options, memory, today, backlog=backlog, warnings=warnings)
    try:
        found = walk.run(starts)
    except (FetchError, ParseError):
        if from_root:
            raise
        from_root = True  # a listing page moved: start from the root
        walk = Walk(site, options, memory, today, backlog=backlog, warnings=warnings)
        found = walk.run([source.url])
    if from_root:
        memory.walked, memory.leaves = today.isoformat(), walk.leaves or memory.leaves
    for key in walk.details:
        memory.details[key] = today.isoformat()
    return found


def _download(
    source: SourceConfig,
    options: RaaOptions,
    memory: Memory,
    site: Site,
    new: list[Listed],
    ctx: PollContext,
    warnings: list[str],
) -> list[Item]:
    """The acts of the RAAs waiting and of the new ones, within ``downloads`` and the OCR
    budget; those left wait in ``memory.pending`` for the next poll."""
    today = ctx.now.astimezone(PARIS).date()
    stamp = today.isoformat()
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
        acts_items, complete = _acts(source, listed, body, ctx, budget, warnings)
        if complete:
            items += acts_items
            memory.seen[listed.key] = f"{stamp}|{listed.detail}"
            _cached_pdf(ctx.cache_dir, listed).unlink(missing_ok=True)
        else:
            pending.append(listed)
    memory.pending = [_to_json(p) for p in pending]
    return items


def _cached_pdf(cache_dir: Path, listed: Listed) -> Path:
    name = hashlib.sha1(listed.key.encode()).hexdigest()[:20]
    return cache_dir / "raa" / f"{name}.pdf"


def _pdf(site: Site, listed: Listed, cache_dir: Path) -> bytes:
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


def _acts(
    source: SourceConfig,
    listed: Listed,
    body: bytes,
    ctx: PollContext,
    budget: OcrBudget,
    warnings: list[str],
) -> tuple[list[Item], bool]:
    """The RAA's acts; a PDF that cannot be read is kept by its title: nothing listed is lost."""
    try:
        return _items(source, listed, body, ctx, budget)
    except ParseError as exc:
        warnings.append(f"{listed.url}: {exc}")
        return [act_item(source.id, listed, published_at(listed.day, ctx.now), None, "")], True


def _items(
    source: SourceConfig,
    listed: Listed,
    body: bytes,
    ctx: PollContext,
    budget: OcrBudget,
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


# -- what ``watcher probe`` recognises as a prefecture's RAA page ---------------------

# "… - Les services de l'État dans les Hautes-Alpes" (the platform's page titles)
_PLACE = re.compile(r"services de l.[ÉE]tat (?:dans |en )(?:les |le |la |l'|l’)?(.+)$")


def _probe(page: Page) -> Probe | None:
    """A prefecture's RAA page on the State platform (root, year, period or list), if it is."""
    path = urlsplit(page.url).path.lower()
    if page.form != "html" or not any(w in path for w in ("recueil", "raa", "/publications/")):
        return None
    listing = parse_listing(
        page.text, page.response.url, navigation=NAVIGATION, entries=ENTRIES, select="select"
    )
    dated = [choice for choice in listing.choices if choice.day]  # a <select> of RAAs
    if not listing.is_raa_page and not dated:
        return None
    cards = [
        (p.start.strftime("%m/%Y") if p.first == p.last else str(p.year), f"→ {card.title}")
        for card in listing.navigation
        if (p := classify(card.title, None)) is not None
    ]
    found = [
        *cards,
        *((_day(d.day), d.title) for d in listing.documents),
        *((_day(d.day), f"(page) {d.title}") for d in listing.details),
        *((_day(c.day), f"(option) {c.label}") for c in dated),
    ]
    what = (
        f"a prefecture's RAA page ({len(cards)} year or period cards, "
        f"{len(listing.documents)} RAA PDFs, {len(listing.details)} detail pages"
        f"{f', {len(dated)} dated options to POST' if dated else ''}); only the "
        "current period is walked, 5 s between requests"
    )
    options = {}
    if dated:
        name = dated[0].field
        options["select"] = quote(f"select[name='{name}'], select[id='{name}']")
    place = _PLACE.search(page.name)
    return Probe(
        url=page.url,
        kind="raa",
        territory=place.group(1).strip() if place else "",
        what=what,
        name=page.name.split(" - ")[-1] if " - " in page.name else page.name,
        rows=found,
        options=options,
        hints=[
            "order: ascending   # when the list is oldest first (its newest on the last page)",
            "period_pattern: '(?P<month>\\d{2})-(?P<year>\\d{4})'   # when cards are not "
            "read as periods",
        ],
    )


def _day(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


KIND = SourceKind(
    "raa",
    RaaOptions,
    read_raa,
    "recueils des actes administratifs",
    probe=Shape(page=_probe),
    family="prefectures",
    scans=True,  # prefectures scan many of their RAAs' pages
)
