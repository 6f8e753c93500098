"""WebDélib+ portals (``kind: webdelib``): sittings, then each sitting's documents.

WebDélib+ (Libriciel) serves many councils: Auvergne-Rhône-Alpes, Centre-Val de
Loire, Guyane, Limoges... ``url`` is the portal's ``seances.jsp?role=usager``
page. Its shape, as a working scraper of the Limoges instance reads it: the
list links each sitting to ``seance_agenda.jsp?date=DD-MM-YYYY`` (other
instances: ``date=YYYYMMDD&assembly=...``) and sometimes to its agenda,
``openfile.jsp?...&name=Ordre du jour du DD/MM/YYYY``; the sitting page links
one ``openfile.jsp?...&name=Acte n° ...`` PDF per act or report. The agenda is
published days before the vote and acts are added to a sitting page over days,
so sittings in the future and in the last ``recheck_days`` are read again at
every poll; older ones are read once and remembered in the cursor. Only
``openfile.jsp`` links become items: menus, footers and the portal's own
navigation (also under ``/webdelibplus/``) never do. ``openfile.jsp`` is not the
file: its page's script moves on to ``showFile.jsp``, which serves the PDF
(``document_text`` follows it, on the portal's host only).
"""

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from watcher.errors import EmptyListingError, FetchError, ParseError
from watcher.fields import option, whole_number
from watcher.items import Item, normalise_link
from watcher.matching.normalize import fold
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.fulltext import attach_fulltext
from watcher.sources.probing import Page, Probe, ProbeError, Shape
from watcher.sources.webdelib_pages import (
    Document,
    Sitting,
    document_text,
    parse_sitting,
    parse_sittings,
)
from watcher.sources.xmlutil import PARIS
from watcher.textdecode import decode_bytes

# An act's title is parts: "Acte n° 2026-07-2 : Sécurité des lycées : convention…"; the
# numbered ones ("Rapport n° 1234", "Délibération n° 2021-07-5") name it, the rest is its subject.
_ACT_PARTS = re.compile(r"\s+[:–-]\s+|\s*:\s+")
_NUMBERED = re.compile(r"[^:\d]{0,40}?\bn[°o]\s*([\w./-]*\d[\w./-]*)", re.IGNORECASE)
_SUBJECT_WORDS = 3

_SETTLED = "settled"  # cursor key: sittings read once after they left the recheck window


@dataclass(frozen=True)
class WebdelibOptions:
    # Sittings held less than this many days ago (and those to come) are read at every poll.
    recheck_days: int = option(30, parse=whole_number(0, 366))


def read_webdelib(
    source: SourceConfig, options: WebdelibOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """The portal's sittings, then the pages of those due a (re-)read, then their PDFs."""
    recheck = options.recheck_days
    backlog = ctx.backlog
    today = ctx.now.astimezone(PARIS).date()
    listing = ctx.fetcher.get(source.url)
    if listing is None:
        raise ParseError(f"{source.url}: the server answered 304 to an unconditional request")
    sittings = parse_sittings(decode_bytes(listing.body, listing.content_type), listing.url)
    if not sittings:  # a portal that moved still answers 200: only the empty list tells
        raise EmptyListingError(
            f"{source.url}: no sitting on the page (no seance_agenda.jsp nor dated "
            "openfile.jsp link): has the portal moved? `watcher probe` it"
        )
    settled = set(state.cursor.get(_SETTLED, "").split())
    items: list[Item] = []
    warnings: list[str] = []
    now_settled = set()
    for sitting in sittings:
        recent = sitting.day >= today - timedelta(days=recheck)
        # The backlog's old sittings are only noted: their documents are past the vote.
        if not recent and (sitting.key in settled or backlog):
            now_settled.add(sitting.key)
            continue
        documents = list(sitting.documents)
        read = True
        if sitting.url:
            try:
                page = ctx.fetcher.get(sitting.url)
            except (FetchError, ParseError) as exc:
                # One sitting page that fails must not hide the others; it is tried again.
                warnings.append(f"sitting of {sitting.day:%d/%m/%Y}: {exc}")
                read = False
            else:
                if page is not None:
                    html = decode_bytes(page.body, page.content_type)
                    documents += parse_sitting(html, page.url)
        if read and not recent:
            now_settled.add(sitting.key)
        items.extend(document_items(source.id, sitting, documents))
    items = list({item.key: item for item in items}.values())
    if not backlog:
        items = attach_fulltext(items, ctx, warnings, read=document_text)
    # Only sittings still listed are remembered, so the cursor does not grow forever.
    cursor = {**state.cursor, _SETTLED: " ".join(sorted(now_settled))}
    return PollResult(items, SourceState(cursor=cursor), warnings=warnings)


def document_items(source_id: str, sitting: Sitting, documents: Iterable[Document]) -> list[Item]:
    """One item per document, dated by its sitting and scheduled for it."""
    published = datetime(sitting.day.year, sitting.day.month, sitting.day.day, tzinfo=PARIS)
    items = []
    for document in documents:
        kind = "ordre du jour" if "ordre du jour" in document.title.lower() else _kind(document)
        summary = document.context if document.context != document.title else ""
        items.append(
            Item(
                source_id=source_id,
                key=normalise_link(document.url),
                title=document.title[:500],
                url=document.url,
                published=published,
                summary=summary[:1000],
                kind=kind,
                event_at=published,
                # Alerts say "⏰ Vote en séance plénière prévu le 19/07/2021, dans 6 jours".
                event=f"Vote en {sitting.label}",
                dossier=act_dossier(source_id, document.title, sitting.day),
            )
        )
    return items


def act_dossier(source_id: str, title: str, day: date) -> str:
    """The dossier of an act: a report and the deliberation that adopts it share their
    subject ("Délibération n° 5678 : Rapport n° 1234 : Vidéoprotection des lycées") or, when
    the subject says too little, their number; an agenda belongs to its sitting."""
    if "ordre du jour" in title.lower():
        return f"{source_id}:{day.isoformat()}"
    parts = [part.strip() for part in _ACT_PARTS.split(title) if part.strip()]
    numbers = [m.group(1) for part in parts if (m := _NUMBERED.fullmatch(part))]
    subject = fold(" ".join(part for part in parts if not _NUMBERED.fullmatch(part)))
    if len(subject.split()) >= _SUBJECT_WORDS or not numbers:
        return f"{source_id}:{hashlib.sha1(subject.encode()).hexdigest()[:12]}"
    return f"{source_id}:{numbers[0]}"


def _kind(document: Document) -> str:
    # What the file is comes first in the title ("Rapport : …", "Délibération : …");
    # the row's text decides only when the title does not say.
    head = document.title.split(" : ", 1)[0].lower()
    if "rapport" in head:
        return "rapport"
    if "délib" in head or "delib" in head or "acte" in head or "arrêté" in head:
        return "délibération"
    lowered = f"{document.title} {document.context}".lower()
    if "rapport" in lowered:
        return "rapport"
    if "procès-verbal" in lowered or "compte rendu" in lowered:
        return "procès-verbal"
    return "délibération"


# -- what ``watcher probe`` recognises as a WebDélib+ portal --------------------------


def _probe(page: Page) -> Probe | None:
    """A portal's list of sittings: each sitting, and whether it is still to come."""
    if page.form != "html" or not (
        "seance_agenda.jsp" in page.text or "/webdelibplus/" in urlsplit(page.url).path
    ):
        return None
    sittings = parse_sittings(page.text, page.response.url)
    if not sittings:
        raise ProbeError(f"{page.url}: a WebDélib+ page that lists no sitting (use seances.jsp)")
    today = datetime.now(PARIS).date()
    found = [
        (
            s.day.strftime("%d/%m/%Y"),
            f"{s.label}{' (coming)' if s.day >= today else ''}: "
            + ((s.url.rsplit("/", 1)[-1] if s.url else "") or s.documents[0].title),
        )
        for s in sittings
    ]
    return Probe(
        url=page.url,
        kind="webdelib",
        what=f"a WebDélib+ portal ({len(sittings)} sittings; each sitting's documents "
        "are read from its page)",
        name=page.name,
        rows=found,
        hints=["recheck_days: 30   # sittings read again until this long after they are held"],
    )


KIND = SourceKind(
    "webdelib",
    WebdelibOptions,
    read_webdelib,
    "séances du conseil (WebDélib+)",
    documents=document_text,
    probe=Shape(page=_probe),
    # Not whole_listing: only the sittings of the last ``recheck_days`` are read (none
    # during a summer break).
    family="collectivites",
)
