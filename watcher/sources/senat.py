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
import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from watcher.errors import ParseError
from watcher.fetch import Response
from watcher.fields import option, whole_number
from watcher.items import Item, normalise_link
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
from watcher.sources.options import http_url
from watcher.sources.probing import Page, Probe, Shape
from watcher.sources.rss import parse_feed, probe_feed
from watcher.sources.senat_akn import SENAT as SENAT
from watcher.sources.senat_akn import akn_index, kind_of_signet, probe_index, signet_of
from watcher.sources.xmlutil import PARIS
from watcher.textdecode import decode_bytes

# An annex's or a volume's signet (``l25-139-312``) starts with its report's.
_PART = re.compile(r"^([a-z]{1,5}\d{2}-\d+)-\d")
# The first text of a bill names its dossier: /leg/pjl22-220.html is dossier pjl22-220.
_BILL_PREFIXES = ("ppl", "pplo", "pjl", "pjlo", "ppr")
_DOSSIER_LINK = re.compile(
    r"/(?:dossier-legislatif|dossierleg)/(?:rss/dosleg)?([a-z]{1,5}\d{2}-\d+)", re.IGNORECASE
)


def dossier_feed_url(site: str, signet: str) -> str:
    """The feed of every step of one dossier (texts, reports, debates, votes, AN steps)."""
    return f"{site.rstrip('/')}/dossier-legislatif/rss/dosleg{signet}.xml"


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


def _parse(
    response: Response, source: SourceConfig, options: SenatOptions, ctx: PollContext
) -> list[Item]:
    if re.search(rb"<texts[\s>]", response.body[:2048]):
        return akn_index(
            response.body, source.id, ctx, max_texts=options.max_texts, site=options.site
        )
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


# -- what ``watcher probe`` recognises as the Sénat's -------------------------------


def _probe(page: Page) -> Probe | None:
    """A feed of senat.fr, its Akoma Ntoso index, or the page of its coming sittings."""
    if page.form == "feed" and urlsplit(page.url).netloc.endswith("senat.fr"):
        return dataclasses.replace(probe_feed(page), kind="senat")
    if page.form == "texts":
        return probe_index(page)
    if page.form != "html" or not senat_agenda.is_agenda(page.text):
        return None
    today = datetime.now(PARIS).date()
    items = senat_agenda.agenda_items(page.text, page.response.url, "probe", today)
    return Probe(
        url=page.url,
        kind="senat",
        what=f"the Sénat's coming sittings ({len(items)} texts, each with its sitting day)",
        name="Sénat — textes discutés prochainement en séance publique",
        rows=[(f"{i.event_at:%d/%m/%Y}" if i.event_at else "", i.title) for i in items],
    )


def _dossier_stream(parent: SourceConfig, signet: str) -> str:
    """A followed Sénat dossier's feed, on the parent source's site (a mirror in tests)."""
    return dossier_feed_url(getattr(parent.options, "site", SENAT), signet)


def _reads_whole_listing(source: SourceConfig) -> bool:
    """A Sénat feed is read whole; its Akoma Ntoso index only for its new entries."""
    return "/akomantoso/" not in urlsplit(source.url).path


KIND = SourceKind(
    "senat",
    SenatOptions,
    poll_senat,
    "Sénat",
    default_url="https://www.senat.fr/rss/textes.rss",
    stream=DossierStream("senat", _dossier_stream, poll_senat),
    probe=Shape(page=_probe),
    family="parlement",
    whole_listing=_reads_whole_listing,
)
