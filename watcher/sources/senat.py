"""The Sénat (``kind: senat``): its RSS/Atom feeds and its Akoma Ntoso texts.

``url`` is either a feed (``/rss/textes.rss``, a per-dossier ``dosleg….xml``) or
an Akoma Ntoso index (``/akomantoso/depots.xml``, ``adoptions.xml``) whose
entries lead to each text's ``.akn.xml`` full text. Items are identified by the
*signet* of the text (``ppl25-170``: session 2025-2026, text 170) when the link
carries one, so the same text keeps its identity whatever the link's spelling.
"""

import dataclasses
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from watcher.errors import FetchError, ParseError
from watcher.fetch import Response
from watcher.items import Item, normalise_link
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceKind, SourceState
from watcher.sources.conditional import poll_document
from watcher.sources.options import option, whole_number
from watcher.sources.rss import parse_feed
from watcher.sources.xmlutil import PARIS, find, local, paris_date, parse_xml, text_of

logger = logging.getLogger(__name__)
SENAT = "https://www.senat.fr"
_SIGNET = re.compile(
    r"/(?:leg|dossier-legislatif|dossierleg|akomantoso|rap)/([a-z]{1,5}\d{2}-\d+)", re.IGNORECASE
)
DOCUMENT_KINDS = {
    "ppl": "proposition de loi",
    "pplo": "proposition de loi organique",
    "pjl": "projet de loi",
    "pjlo": "projet de loi organique",
    "ppr": "proposition de résolution",
    "tas": "texte adopté",
    "ta": "texte adopté",
    "l": "rapport",
    "r": "rapport",
    "a": "avis",
}


def signet_of(url: str) -> str | None:
    match = _SIGNET.search(url or "")
    return match.group(1).lower() if match else None


def kind_of_signet(signet: str) -> str:
    return DOCUMENT_KINDS.get(re.sub(r"\d.*", "", signet), "")


@dataclass(frozen=True)
class SenatOptions:
    max_texts: int = option(50, parse=whole_number(1, 500))  # Akoma Ntoso texts read per poll


def poll_senat(
    source: SourceConfig, options: SenatOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """A Sénat feed, or an Akoma Ntoso index and the new texts it lists."""
    return poll_document(
        source,
        state,
        ctx,
        lambda response: _parse(response, source, options, ctx),
    )


KIND = SourceKind(
    "senat", SenatOptions, poll_senat, default_url="https://www.senat.fr/rss/textes.rss"
)


def _parse(
    response: Response, source: SourceConfig, options: SenatOptions, ctx: PollContext
) -> list[Item]:
    if re.search(rb"<texts[\s>]", response.body[:2048]):
        return _akn_index(response.body, source, options, ctx)
    items = parse_feed(response.body, source.id, response.content_type)
    return [_senat_item(item) for item in items]


def _senat_item(item: Item) -> Item:
    """A feed item keyed by its signet, with its document kind."""
    signet = signet_of(item.url or "")
    if signet is None:
        return item
    return dataclasses.replace(
        item,
        key=signet,
        url=normalise_link(item.url) if item.url else None,  # https, /dossier-legislatif/
        kind=item.kind or kind_of_signet(signet) or _kind_from_title(item.title),
    )


def _kind_from_title(title: str) -> str:
    lowered = title.lower()
    for words in ("proposition de loi", "projet de loi", "rapport", "texte adopté", "amendement"):
        if lowered.startswith(words) or f" {words}" in lowered:
            return words
    return ""


def _akn_index(
    body: bytes, source: SourceConfig, options: SenatOptions, ctx: PollContext
) -> list[Item]:
    """New entries of ``depots.xml``/``adoptions.xml``, each with its full text."""
    root = parse_xml(body, "Sénat Akoma Ntoso index")
    entries = []
    for text in root.iter():
        if local(text.tag) != "text":
            continue
        url = text_of(find(text, "url"))
        signet = signet_of(url)
        if url and signet:
            entries.append((signet, url, _index_date(text)))
    known = ctx.known(signet for signet, _, _ in entries)
    budget = options.max_texts
    items = []
    for signet, url, modified in entries:
        if signet in known:
            continue
        if budget <= 0:
            break  # the rest on the next poll
        if ctx.backlog:
            items.append(_placeholder(source.id, signet, modified))  # backlog: seen, not read
            continue
        budget -= 1
        try:
            response = ctx.fetcher.get(url)
            items.append(parse_akn(response.body if response else b"", source.id, signet, modified))
        except (FetchError, ParseError) as exc:
            logger.warning("source %s: %s: %s", source.id, url, exc)
            items.append(_placeholder(source.id, signet, modified))
    return items


def _placeholder(source_id: str, signet: str, modified: datetime | None) -> Item:
    """A text known only from the index (not read yet, or unreadable)."""
    kind = kind_of_signet(signet)
    title = f"{kind.capitalize() or 'Texte'} {signet}"
    return Item(source_id, signet, title, _public_url(signet), modified, kind=kind)


def _index_date(entry: ET.Element) -> datetime | None:
    """``lastModifiedDateTime`` is naive Paris time."""
    value = text_of(find(entry, "lastModifiedDateTime"))
    try:
        return datetime.fromisoformat(value).replace(tzinfo=PARIS)
    except ValueError:
        return None


def _public_url(signet: str) -> str:
    return f"{SENAT}/dossier-legislatif/{signet}.html"


def parse_akn(body: bytes, source_id: str, signet: str, modified: datetime | None = None) -> Item:
    """A Sénat Akoma Ntoso document: title, link, dates, steps and full text."""
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
        (step.get("date", ""), step.get("outcome", ""))
        for step in document.iter()
        if local(step.tag) == "step"
    ]
    schedule = " ; ".join(
        f"{outcome} le {_french_date(date)}" for date, outcome in steps if outcome
    )
    body_text = " ".join(text_of(find(document, name)) for name in ("preface", "preamble", "body"))
    dates = [
        element.get("date", "") for element in document.iter() if local(element.tag) == "FRBRdate"
    ]
    name = document.get("name", "")
    return Item(
        source_id=source_id,
        key=signet,
        title=" ".join(title.split()),
        url=aliases.get("url-senat") or _public_url(signet),
        published=modified or (paris_date(max(dates)) if dates else None),
        summary=aliases.get("intitule-court", ""),
        body=" ".join(body_text.split()),
        kind=DOCUMENT_KINDS.get(name, "") or kind_of_signet(signet),
        schedule=schedule,
    )


def _french_date(value: str) -> str:
    day = paris_date(value)
    return day.strftime("%d/%m/%Y") if day else value
