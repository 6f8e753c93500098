"""The Sénat (``kind: senat``): its RSS/Atom feeds and its Akoma Ntoso texts.

``url`` is either a feed (``/rss/textes.rss``, a per-dossier ``dosleg….xml``) or
an Akoma Ntoso index (``/akomantoso/depots.xml``, ``adoptions.xml``) whose
entries lead to each text's ``.akn.xml`` full text. Items are identified by the
*signet* of the text (``ppl25-170``: session 2025-2026, text 170) when the link
carries one, so the same text keeps its identity whatever the link's spelling.
``site`` (default ``https://www.senat.fr``) is the base of the links watcher
builds and of the per-dossier feeds, so that tests and mirrors can point it elsewhere.
"""

import dataclasses
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime

from watcher.errors import FetchError, ParseError
from watcher.fetch import Response
from watcher.items import Item, content_revision, normalise_link
from watcher.sources import senat_agenda
from watcher.sources.base import (
    DossierStream,
    PollContext,
    PollResult,
    SourceConfig,
    SourceKind,
    SourceState,
)
from watcher.sources.conditional import poll_document
from watcher.sources.frenchdates import DatedEvent, day_text, find_dates
from watcher.sources.options import http_url, option, whole_number
from watcher.sources.rss import parse_feed
from watcher.sources.xmlutil import PARIS, find, local, paris_date, parse_xml, text_of
from watcher.textdecode import decode_bytes

logger = logging.getLogger(__name__)
SENAT = "https://www.senat.fr"
# A report's annexes and volumes have their own path, ``/rap/l25-139-312/``,
# ``/rap/l18-147-3-1/`` (in the recorded rapports.rss): the segments after the
# report's number are part of the text's identity.
_SIGNET = re.compile(
    r"/(?:leg|dossier-legislatif|dossierleg|akomantoso|rap)/([a-z]{1,5}\d{2}-\d+(?:-\d+)*)",
    re.IGNORECASE,
)
_PART = re.compile(r"^([a-z]{1,5}\d{2}-\d+)-\d")
DOCUMENT_KINDS = {
    "ppl": "proposition de loi",
    "pplo": "proposition de loi organique",
    "pjl": "projet de loi",
    "pjlo": "projet de loi organique",
    "ppr": "proposition de résolution",
    "tas": "texte adopté",
    "rap": "rapport",
    "ta": "texte adopté",
    "l": "rapport",
    "r": "rapport",
    "a": "avis",
}


def signet_of(url: str) -> str | None:
    match = _SIGNET.search(url or "")
    return match.group(1).lower() if match else None


# The first text of a bill names its dossier: /leg/pjl22-220.html is dossier pjl22-220.
_BILL_PREFIXES = ("ppl", "pplo", "pjl", "pjlo", "ppr")
_DOSSIER_LINK = re.compile(
    r"/(?:dossier-legislatif|dossierleg)/(?:rss/dosleg)?([a-z]{1,5}\d{2}-\d+)", re.IGNORECASE
)


def kind_of_signet(signet: str) -> str:
    """The document kind a signet's prefix says: ``tas24-021`` is a texte adopté."""
    return DOCUMENT_KINDS.get(re.sub(r"\d.*", "", signet), "")


def dossier_feed_url(site: str, signet: str) -> str:
    """The feed of every step of one dossier (texts, reports, debates, votes, AN steps)."""
    return f"{site.rstrip('/')}/dossier-legislatif/rss/dosleg{signet}.xml"


def text_url(site: str, signet: str) -> str:
    """The public page of one text, whatever its kind (a tas text's dossier has another signet)."""
    return f"{site.rstrip('/')}/leg/{signet}.html"


@dataclass(frozen=True)
class SenatOptions:
    max_texts: int = option(50, parse=whole_number(1, 500))  # Akoma Ntoso texts read per poll
    site: str = option(SENAT, parse=http_url)  # base of built links and dossier feeds


def poll_senat(
    source: SourceConfig, options: SenatOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """A Sénat feed, or an Akoma Ntoso index and the new or changed texts it lists."""
    return poll_document(
        source,
        state,
        ctx,
        lambda response: _parse(response, source, options, ctx),
    )


def _dossier_stream(parent: SourceConfig, signet: str) -> str:
    """A followed Sénat dossier's feed, on the parent source's site (a mirror in tests)."""
    return dossier_feed_url(getattr(parent.options, "site", SENAT), signet)


KIND = SourceKind(
    "senat",
    SenatOptions,
    poll_senat,
    "Sénat",
    default_url="https://www.senat.fr/rss/textes.rss",
    stream=DossierStream("senat", _dossier_stream, poll_senat),
)


def _parse(
    response: Response, source: SourceConfig, options: SenatOptions, ctx: PollContext
) -> list[Item]:
    if re.search(rb"<texts[\s>]", response.body[:2048]):
        return _akn_index(response.body, source, options, ctx)
    if response.body[:1024].lstrip().lower().startswith((b"<!doctype html", b"<html")):
        page = decode_bytes(response.body, response.content_type)
        if not senat_agenda.is_agenda(page):
            raise ParseError(f"{source.url}: an HTML page, not a feed nor the sittings agenda")
        around = ctx.now.astimezone(PARIS).date()
        return senat_agenda.agenda_items(page, options.site, source.id, around)
    items = parse_feed(response.body, source.id, response.content_type)
    feed_dossier = _DOSSIER_LINK.search(source.url) or _DOSSIER_LINK.search(
        response.body[:4096].decode("latin-1")
    )
    dossier = feed_dossier.group(1).lower() if feed_dossier else None
    around = ctx.now.astimezone(PARIS).date()
    return [_senat_item(item, dossier, around) for item in items]


def _senat_item(item: Item, feed_dossier: str | None, around: date) -> Item:
    """A feed item keyed by its signet, with its kind, its dossier and the sitting it announces."""
    event = _announced(item, around)
    dossier = feed_dossier or _dossier_of_link(item.url or "")
    item = dataclasses.replace(
        item,
        dossier=f"senat:{dossier}" if dossier else "",
        event_at=event.at if event else None,
        event=event.label if event else "",
        schedule=_schedule(event) if event else item.schedule,
    )
    signet = signet_of(item.url or "")
    if signet is None:
        return item
    part_of = _PART.match(signet)
    return dataclasses.replace(
        item,
        key=signet,
        # An annex or volume belongs with its report: the report names its dossier.
        dossier=item.dossier or (f"senat:{part_of.group(1)}" if part_of else ""),
        url=normalise_link(item.url) if item.url else None,  # https, /dossier-legislatif/
        kind=item.kind or kind_of_signet(signet) or _kind_from_title(item.title),
        aliases=(f"senat:{signet}",),
    )


def _dossier_of_link(url: str) -> str | None:
    link = _DOSSIER_LINK.search(url)
    if link:
        return link.group(1).lower()
    signet = signet_of(url)
    if signet and "/leg/" in url and re.sub(r"\d.*", "", signet) in _BILL_PREFIXES:
        return signet
    return None


def _announced(item: Item, around: date) -> DatedEvent | None:
    """The sitting or vote a description announces: "Examen en séance publique le mardi…".

    Only dates that the text names are events: a report's "(18 décembre 2018)" is
    its own date, not a sitting.
    """
    for text in (item.summary, item.title):
        named = [f for f in find_dates(text, around=around) if _EVENT_WORDS.match(f.label)]
        if named:
            return named[0]
    return None


# What the Sénat's feeds date: sittings, votes and the steps of a text. Other dates
# in a description (a law "du 30 octobre 2017", a colloquium) are not its events.
_EVENT_WORDS = re.compile(
    r"(?:examen|séance|vote|scrutin|discussion|adopt|audition|réunion|lecture|dépôt|déposé"
    r"|modifié|transmis|texte|compte rendu|commission mixte|promulg|ordre du jour)",
    re.IGNORECASE,
)


def _schedule(event: DatedEvent) -> str:
    when = event.at.strftime("%d/%m/%Y à %H:%M") if event.has_time else day_text(event.at)
    return f"{event.label} le {when}"


def _kind_from_title(title: str) -> str:
    lowered = title.lower()
    for words in ("proposition de loi", "projet de loi", "rapport", "texte adopté", "amendement"):
        if lowered.startswith(words) or f" {words}" in lowered:
            return words
    return ""


def _akn_index(
    body: bytes, source: SourceConfig, options: SenatOptions, ctx: PollContext
) -> list[Item]:
    """New and changed entries of ``depots.xml``/``adoptions.xml``, each with its full text.

    An entry's ``lastModifiedDateTime`` is its revision: a text whose entry is
    stamped again was changed and is read again.
    """
    root = parse_xml(body, "Sénat Akoma Ntoso index")
    entries: dict[str, tuple[str, str]] = {}
    for text in root.iter():
        if local(text.tag) != "text":
            continue
        url = text_of(find(text, "url"))
        signet = signet_of(url)
        if url and signet:
            entries[signet] = (url, text_of(find(text, "lastModifiedDateTime")))
    revisions = {signet: revision for signet, (_, revision) in entries.items()}
    changed = ctx.changed(revisions)
    unrevised = ctx.unrevised(revisions)
    budget = options.max_texts
    items = []
    for signet, (url, revision) in entries.items():
        if signet in unrevised:  # stored before revisions: its revision is noted, not read
            items.append(
                _placeholder(source.id, signet, _index_date(revision), options.site, revision)
            )
        if signet not in changed:
            continue
        if budget <= 0:
            break  # not stored: still new or changed at the next poll, read then
        modified = _index_date(revision)
        if ctx.backlog:
            items.append(_placeholder(source.id, signet, modified, options.site, revision))
            continue
        budget -= 1
        try:
            response = ctx.fetcher.get(url)
            items.append(
                parse_akn(
                    response.body if response else b"",
                    source.id,
                    signet,
                    modified,
                    site=options.site,
                    revision=revision,
                    around=ctx.now,
                )
            )
        except (FetchError, ParseError) as exc:
            logger.warning("source %s: %s: %s", source.id, url, exc)
            items.append(_placeholder(source.id, signet, modified, options.site, ""))
    return items


def _placeholder(
    source_id: str, signet: str, modified: datetime | None, site: str, revision: str
) -> Item:
    """A text known only from the index (not read yet, or unreadable)."""
    kind = kind_of_signet(signet)
    title = f"{kind.capitalize() or 'Texte'} {signet}"
    return Item(
        source_id,
        signet,
        title,
        text_url(site, signet),
        modified,
        kind=kind,
        revision=revision,
        aliases=(f"senat:{signet}",),
    )


def _index_date(value: str) -> datetime | None:
    """``lastModifiedDateTime`` is naive Paris time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=PARIS)
    except ValueError:
        return None


def parse_akn(
    body: bytes,
    source_id: str,
    signet: str,
    modified: datetime | None = None,
    *,
    site: str = SENAT,
    revision: str = "",
    around: datetime | None = None,
) -> Item:
    """A Sénat Akoma Ntoso document: title, link, dossier, dates, steps and full text.

    The kind comes from the signet, not from ``<bill name>``: an adopted text
    (``tas24-021``) says ``name="ppl"``, the kind of the bill it adopts. Its
    dossier is named by the ``signet-dossier-legislatif-senat`` alias (``ppl23-756``).
    """
    root = parse_xml(body, f"Akoma Ntoso {signet}")
    document = next((child for child in root if isinstance(child.tag, str)), None)
    if document is None:
        raise ParseError(f"Akoma Ntoso {signet}: empty document")
    aliases = {
        element.get("name", ""): element.get("value", "")
        for element in document.iter()
        if local(element.tag) == "FRBRalias"
    }
    title = (
        text_of(find(document, "docTitle"))
        or aliases.get("intitule-court", "")
        or f"Texte {signet}"
    )
    steps = [
        (day, step.get("outcome", ""))
        for step in document.iter()
        if local(step.tag) == "step" and (day := paris_date(step.get("date", ""))) is not None
    ]
    schedule = " ; ".join(f"{outcome} le {day_text(day)}" for day, outcome in steps if outcome)
    body_text = " ".join(text_of(find(document, name)) for name in ("preface", "preamble", "body"))
    dates = [
        element.get("date", "") for element in document.iter() if local(element.tag) == "FRBRdate"
    ]
    dossier = aliases.get("signet-dossier-legislatif-senat", "").strip().lower()
    an_dossier = re.search(r"/(DLR\w+?)(?:\.asp)?$", aliases.get("url-AN", ""))
    step = _current_step(steps, around)
    return Item(
        source_id=source_id,
        key=signet,
        title=" ".join(title.split()),
        url=text_url(site, signet),
        published=modified or (paris_date(max(dates)) if dates else None),
        summary=aliases.get("intitule-court", ""),
        body=" ".join(body_text.split()),
        kind=kind_of_signet(signet) or DOCUMENT_KINDS.get(document.get("name", ""), ""),
        schedule=schedule,
        revision=revision or content_revision(body.decode("utf-8", "replace")),
        event_at=step[0] if step else None,
        event=step[1][:1].upper() + step[1][1:] if step else "",
        dossier=f"senat:{dossier}" if dossier else "",
        aliases=tuple(
            alias
            for alias in (f"senat:{signet}", f"an:{an_dossier.group(1)}" if an_dossier else "")
            if alias
        ),
    )


def _current_step(
    steps: list[tuple[datetime, str]], around: datetime | None
) -> tuple[datetime, str] | None:
    """The next step to come when one is scheduled, else the latest one taken."""
    dated = sorted((day, outcome) for day, outcome in steps if outcome)
    if not dated:
        return None
    if around is not None:
        coming = [step for step in dated if step[0].date() >= around.astimezone(PARIS).date()]
        if coming:
            return coming[0]
    return dated[-1]
