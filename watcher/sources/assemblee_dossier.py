"""A followed Assemblée dossier's own stream: its open-data document, read for its steps.

The AN's open data serves each document by its UID under ``/dyn/opendata/``
(SOURCES.md: the publication lists link ".../dyn/opendata/{UID}.xml|json"); a
dossier's document (``dossierParlementaire``, recorded in
../shared/fixtures/real/assemblee/opendata_dossier-DLR5L15N36460.json) lists its
acts, and each dated act is one step. ``assemblee.KIND`` declares it as its stream.
"""

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from watcher.errors import ParseError
from watcher.items import Item
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceState
from watcher.sources.conditional import poll_document

OPENDATA = "/dyn/opendata/"
SITE = "https://www.assemblee-nationale.fr"
# A document's page by its UID (as public code that reads the AN's open data builds it,
# e.g. "https://www.assemblee-nationale.fr/dyn/docs/PRJLANR5L17B3210.raw").
_DOCUMENT = SITE + "/dyn/docs/{}.raw"


def dossier_url(parent: SourceConfig, uid: str) -> str:
    """The dossier's JSON document, on the parent source's open-data site (a mirror in tests)."""
    base = parent.url.split(OPENDATA, 1)[0] if OPENDATA in parent.url else SITE
    return f"{base.rstrip('/')}{OPENDATA}{uid}.json"


def read_an_dossier(
    source: SourceConfig, options: Any, state: SourceState, ctx: PollContext
) -> PollResult:
    """The steps of one AN dossier (``dossierParlementaire``), when its document changed."""
    return poll_document(source, state, ctx, lambda r: parse_an_dossier(r.body, source.id, r.url))


def parse_an_dossier(body: bytes, source_id: str, url: str) -> list[Item]:
    """Each dated act of an AN dossier document (JSON form) as one step, oldest first.

    The acts nest (reading > committee work > its report); only those with a
    ``dateActe`` are steps. A step that brings a text names it (``texteAssocie``,
    ``texteAdopte``): that UID is also the text's alias in the AN's other documents.
    """
    try:
        data = json.loads(body)
    except ValueError:
        raise ParseError(f"{url}: not valid JSON") from None
    document = data.get("dossierParlementaire") if isinstance(data, Mapping) else None
    if not isinstance(document, Mapping) or not document.get("uid"):
        raise ParseError(f"{url}: not an Assemblée dossier (no dossierParlementaire uid)")
    uid = str(document["uid"])
    title = str((document.get("titreDossier") or {}).get("titre") or uid)
    steps: list[tuple[datetime, Item]] = []
    for act in _acts(document.get("actesLegislatifs")):
        when = _date(act.get("dateActe"))
        if when is None or not act.get("uid"):
            continue
        label = str((act.get("libelleActe") or {}).get("nomCanonique") or act.get("codeActe"))
        label = label.strip().rstrip(".")
        text = act.get("texteAdopte") or act.get("texteAssocie") or ""
        steps.append(
            (
                when,
                Item(
                    source_id=source_id,
                    key=str(act["uid"]),
                    # Dated: a label recurs (every sitting); two sittings of one day
                    # are one step for a subscriber, and the title identity merges them.
                    title=f"{label} ({when.strftime('%d/%m/%Y')}) : {title}",
                    # A step's link is its text's: each step has its own, or none (a
                    # shared dossier link would make every step "the same item").
                    url=_DOCUMENT.format(text) if isinstance(text, str) and text else None,
                    published=when,
                    summary=label,
                    kind=label[:1].lower() + label[1:],
                    dossier=f"an:{uid}",
                    aliases=(f"an:{text}",) if isinstance(text, str) and text else (),
                ),
            )
        )
    return [item for _, item in sorted(steps, key=lambda step: step[0])]


def _acts(value: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(value, list):
        for entry in value:
            yield from _acts(entry)
    elif isinstance(value, Mapping):
        if "codeActe" in value:
            yield value
        for child in value.values():
            if isinstance(child, list | Mapping):
                yield from _acts(child)


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
