"""The Assemblée nationale's open data (``kind: assemblee``).

Each day has a publication list,
``…/dyn/opendata/list-publication/publication_YYYY-MM-DD``, one ``timestamp;URL``
line per document published (dossiers, texts, amendments, sittings and their
agendas), each URL an XML document named by its UID (``.json`` gives the same
document as JSON). watcher reads today's and yesterday's lists (Paris dates) and
fetches each new document, and each document listed again with a newer timestamp.
The AN answers 429 to rapid requests: the source then backs off by Retry-After.
Sittings are read first and amendments last (see ``_reading_order``); each
document becomes items in ``assemblee_documents``.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from watcher.errors import FetchError, ParseError
from watcher.fields import option, whole_number
from watcher.items import Item
from watcher.sources.assemblee_documents import parse_document, parse_stamp
from watcher.sources.assemblee_dossier import dossier_url, read_an_dossier
from watcher.sources.base import (
    DossierStream,
    PollContext,
    PollResult,
    SourceConfig,
    SourceKind,
    SourceState,
)
from watcher.sources.xmlutil import PARIS
from watcher.textdecode import decode_bytes

logger = logging.getLogger(__name__)
MAX_CARRIED = 14  # days of lists whose unread documents are carried to the next poll


def publication_lines(text: str) -> Iterator[tuple[str, str]]:
    """(timestamp, url) pairs of a publication list; other lines are ignored."""
    for line in text.splitlines():
        stamp, _, url = line.strip().partition(";")
        if url.startswith(("http://", "https://")):
            yield stamp.strip(), url.strip()


def uid_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]


@dataclass(frozen=True)
class AssembleeOptions:
    days: int = option(2, parse=whole_number(1, 14))  # publication lists read, today included
    max_documents: int = option(300, parse=whole_number(1, 2000))  # documents read per poll


@dataclass(frozen=True)
class _Listed:
    """One document of a publication list: its latest timestamp is its revision."""

    uid: str
    url: str
    stamp: str
    day: date


def poll_assemblee(
    source: SourceConfig, options: AssembleeOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """Documents of the last days' publication lists that are new or were republished.

    A UID listed again with another timestamp was changed (a sitting whose agenda
    was completed) and is read again. Past ``max_documents`` (or a 429), the days
    whose lists still hold unread documents are kept in the cursor and read again
    at the next poll, even once they are older than ``days``.
    """
    warnings: list[str] = []
    listed = _listed(source, options, state, ctx, warnings)
    revisions = {uid: entry.stamp for uid, entry in listed.items()}
    changed = ctx.changed(revisions)
    # Busy days list thousands of amendments: sittings, dossiers and texts are read
    # first, so a sitting agenda published late never waits behind them.
    todo = sorted((e for uid, e in listed.items() if uid in changed), key=_reading_order)
    # Noted, not read: the backlog, and documents stored before revisions existed.
    unrevised = ctx.unrevised(revisions)
    noted = [entry for uid, entry in listed.items() if uid in unrevised]
    if ctx.backlog:
        noted, todo = noted + todo, []
    items = [
        Item(source.id, e.uid, e.uid, e.url, parse_stamp(e.stamp), revision=e.stamp) for e in noted
    ]
    left = _read(source, options, todo, ctx, items, warnings)
    cursor = {k: v for k, v in state.cursor.items() if k != "pending"}
    if left:
        cursor["pending"] = ",".join(sorted({e.day.isoformat() for e in left})[-MAX_CARRIED:])
    new_state = SourceState(state.etag, state.last_modified, state.content_hash, cursor)
    return PollResult(items, new_state, warnings=warnings)


def _listed(
    source: SourceConfig,
    options: AssembleeOptions,
    state: SourceState,
    ctx: PollContext,
    warnings: list[str],
) -> dict[str, _Listed]:
    """Each document of the lists read (the recent days', and those carried), by UID."""
    today = ctx.now.astimezone(PARIS).date()
    recent = [today - timedelta(days=offset) for offset in range(options.days - 1, -1, -1)]
    carried = [d for d in _days(state.cursor.get("pending", "")) if d not in recent]
    listed: dict[str, _Listed] = {}
    for day in sorted(carried) + recent:
        try:
            response = ctx.fetcher.get(f"{source.url.rstrip('/')}/publication_{day.isoformat()}")
        except FetchError as exc:
            if exc.status == 404 and day == today:
                continue  # today's list does not exist until the first publication
            if exc.status == 404 and day in carried:
                warnings.append(f"the list of {day.isoformat()} is gone: its unread documents too")
                continue
            raise
        text = decode_bytes(response.body, response.content_type) if response else ""
        for stamp, url in publication_lines(text):
            uid = uid_of(url)
            earlier = listed.get(uid)
            if earlier is None or _later(stamp, earlier.stamp):
                listed[uid] = _Listed(uid, url, stamp, day)
    return listed


def _read(
    source: SourceConfig,
    options: AssembleeOptions,
    todo: list[_Listed],
    ctx: PollContext,
    items: list[Item],
    warnings: list[str],
) -> list[_Listed]:
    """Read the documents to do in order, into ``items``; those left for the next poll."""
    for index, entry in enumerate(todo):
        if index >= options.max_documents:
            warnings.append(
                f"document limit ({options.max_documents}) reached: "
                f"{len(todo) - index} document(s) left for the next poll"
            )
            return todo[index:]
        try:
            response = ctx.fetcher.get(entry.url)
        except FetchError as exc:
            if exc.status == 429:
                warnings.append(
                    f"rate limited after {index} document(s), "
                    f"{len(todo) - index} left for the next poll: {exc}"
                )
                return todo[index:]
            warnings.append(f"{entry.url}: {exc}")
            continue
        try:
            items.extend(
                parse_document(
                    response.body if response else b"",
                    source.id,
                    entry.uid,
                    entry.url,
                    parse_stamp(entry.stamp),
                    revision=entry.stamp,
                )
            )
        except ParseError as exc:
            warnings.append(str(exc))
    return []


def _reading_order(entry: _Listed) -> int:
    """Sittings (``RUAN…``) first, then dossiers and texts, amendments (``AMAN…``) last.

    UID prefixes as the open data names them (``AMANR5L15PO744107B0806P0D1N26`` in
    betagouv/zam's tests; ``RUANR5L15S2018IDC428849`` and ``PRJLANR5L15B0764`` in the
    recorded dossier ../shared/fixtures/real/assemblee/opendata_dossier-DLR5L15N36460.json).
    """
    uid = entry.uid.upper()
    if uid.startswith("RU"):
        return 0
    if uid.startswith("AM"):
        return 3
    if uid.startswith(("DL", "PION", "PRJL", "PNRE", "RAPP", "AVIS", "TA")):
        return 1
    return 2


def _days(text: str) -> list[date]:
    days = []
    for part in text.split(","):
        try:
            days.append(date.fromisoformat(part.strip()))
        except ValueError:
            continue
    return days


def _later(stamp: str, than: str) -> bool:
    first, second = parse_stamp(stamp), parse_stamp(than)
    if first is None or second is None:
        return stamp > than
    return first > second


KIND = SourceKind(
    "assemblee",
    AssembleeOptions,
    poll_assemblee,
    "Assemblée nationale",
    family="parlement",
    default_url="https://www.assemblee-nationale.fr/dyn/opendata/list-publication",
    no_fulltext="reads each document whole already; remove fulltext",
    stream=DossierStream("an", dossier_url, read_an_dossier),
)
