"""The Sénat's texts: their signets, and its Akoma Ntoso index and documents.

A text is named by its *signet* (``ppl25-170``: session 2025-2026, text 170),
whatever the spelling of the link that carries it. The Akoma Ntoso index
(``/akomantoso/depots.xml``, ``adoptions.xml``) lists each text with the address
of its ``.akn.xml`` full text and a ``lastModifiedDateTime``, its revision.
"""

import logging
import re
from datetime import datetime

from watcher.errors import FetchError, ParseError
from watcher.items import Item, content_revision
from watcher.sources.base import PollContext
from watcher.sources.frenchdates import day_text
from watcher.sources.probing import Page, Probe, ProbeError
from watcher.sources.xmlutil import PARIS, find, local, paris_date, parse_xml, text_of

logger = logging.getLogger(__name__)
SENAT = "https://www.senat.fr"
# A report's annexes and volumes have their own path, ``/rap/l25-139-312/``,
# ``/rap/l18-147-3-1/`` (in the recorded rapports.rss): the segments after the
# report's number are part of the text's identity.
_SIGNET = re.compile(
    r"/(?:leg|dossier-legislatif|dossierleg|akomantoso|rap)/([a-z]{1,5}\d{2}-\d+(?:-\d+)*)",
    re.IGNORECASE,
)
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


def kind_of_signet(signet: str) -> str:
    """The document kind a signet's prefix says: ``tas24-021`` is a texte adopté."""
    return DOCUMENT_KINDS.get(re.sub(r"\d.*", "", signet), "")


def text_url(site: str, signet: str) -> str:
    """The public page of one text, whatever its kind (a tas text's dossier has another signet)."""
    return f"{site.rstrip('/')}/leg/{signet}.html"


def akn_index(
    body: bytes, source_id: str, ctx: PollContext, *, max_texts: int, site: str
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
    budget = max_texts
    items = []
    for signet, (url, revision) in entries.items():
        if signet in unrevised:  # stored before revisions: its revision is noted, not read
            items.append(_placeholder(source_id, signet, _index_date(revision), site, revision))
        if signet not in changed:
            continue
        if budget <= 0:
            break  # not stored: still new or changed at the next poll, read then
        modified = _index_date(revision)
        if ctx.backlog:
            items.append(_placeholder(source_id, signet, modified, site, revision))
            continue
        budget -= 1
        try:
            response = ctx.fetcher.get(url)
            items.append(
                parse_akn(
                    response.body if response else b"",
                    source_id,
                    signet,
                    modified,
                    site=site,
                    revision=revision,
                    around=ctx.now,
                )
            )
        except (FetchError, ParseError) as exc:
            logger.warning("source %s: %s: %s", source_id, url, exc)
            items.append(_placeholder(source_id, signet, modified, site, ""))
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


def probe_index(page: Page) -> Probe:
    """What ``watcher probe`` shows of an Akoma Ntoso index: its texts, newest first."""
    root = parse_xml(page.response.body, "Sénat Akoma Ntoso index")
    rows = []
    for entry in root.iter():
        signet = signet_of(text_of(find(entry, "url"))) if local(entry.tag) == "text" else None
        if signet:
            stamp = text_of(find(entry, "lastModifiedDateTime"))
            kind = kind_of_signet(signet) or "texte"
            rows.append((stamp, f"{kind[:1].upper()}{kind[1:]} {signet}"))
    if not rows:
        raise ProbeError(f"{page.url}: a Sénat Akoma Ntoso index that lists no text")
    rows.sort(reverse=True)
    shown = [(f"{s[8:10]}/{s[5:7]}/{s[:4]}" if len(s) >= 10 else "", title) for s, title in rows]
    return Probe(
        url=page.url,
        kind="senat",
        what=f"the Sénat's Akoma Ntoso index ({len(rows)} texts; each new one is read in full)",
        name="Sénat — " + ("textes adoptés" if "adoption" in page.url else "textes déposés"),
        rows=shown,
        hints=["max_texts: 50   # full texts read per poll"],
    )
