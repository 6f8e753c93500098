"""A followed dossier's own stream: where its steps are published, read like a source.

``streams_for`` (pure) says, for the followed dossiers, which document to read
and on whose behalf: a Sénat dossier's per-dossier feed
(``{site}/dossier-legislatif/rss/dosleg{signet}.xml``), an Assemblée dossier's
open-data document (``…/dyn/opendata/{UID}.json``). Each stream is polled on its
parent source's interval, and its items are stored as that source's, through
the same one-transaction path (``Store.save_poll``). A law's application texts
come through the JO sources instead (``following.follow_keys``).
"""

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from watcher.config import Config, SourceConfig
from watcher.errors import ParseError
from watcher.fetch import Response
from watcher.items import Item
from watcher.sources import senat
from watcher.sources.base import PollContext, PollResult, SourceState
from watcher.sources.catalog import KINDS
from watcher.sources.conditional import poll_document
from watcher.store.dossiers import Dossier

# The AN's open data serves each document by its UID under this path (SOURCES.md: the
# publication lists link ".../dyn/opendata/{UID}.xml|json").
_AN_OPENDATA = "/dyn/opendata/"
_AN_SITE = "https://www.assemblee-nationale.fr"
# A document's page by its UID (as public code that reads the AN's open data builds it,
# e.g. "https://www.assemblee-nationale.fr/dyn/docs/PRJLANR5L17B3210.raw").
_AN_DOCUMENT = _AN_SITE + "/dyn/docs/{}.raw"

# A reader, as ``poll.Reader`` (not imported: poll imports this module's Stream).
Reader = Callable[[SourceConfig, Any, SourceState, PollContext], PollResult]


@dataclass(frozen=True)
class Stream:
    """One followed dossier's stream: the parent source with the stream's URL."""

    dossier: str
    source: SourceConfig  # the parent's id, name, topics, interval and options
    read: Reader
    state: SourceState
    initialized: bool
    errors: int = 0  # its reads that failed in a row (for the backoff)
    since: datetime | None = None  # when the dossier was first followed

    @property
    def id(self) -> str:
        """Its name in the schedule (never a source id: those have no ``>``)."""
        return f"{self.source.id}>{self.dossier}"


def streams_for(config: Config, dossiers: Sequence[Dossier], now: datetime) -> list[Stream]:
    """The streams of the dossiers followed now whose source is configured."""
    streams = []
    for dossier in dossiers:
        if not dossier.followed(now):
            continue
        # The source that alerted it (a press feed can alert a Sénat bill), else one of its house.
        parents = (config.source(dossier.source_id), _fallback(config, dossier.dossier))
        found, parent = next(
            ((f, p) for p in parents if p is not None and (f := _stream_of(dossier.dossier, p))),
            (None, None),
        )
        if found is not None and parent is not None:
            url, read = found
            streams.append(
                Stream(
                    dossier.dossier,
                    replace(parent, url=url, backfill=False, fulltext=False),
                    read,
                    dossier.state,
                    dossier.initialized,
                    dossier.consecutive_errors,
                    dossier.created,
                )
            )
    return streams


def _fallback(config: Config, dossier: str) -> SourceConfig | None:
    """A dossier followed by hand, alerted by a source of another kind, or whose source left
    feeds.yml: a source of its house."""
    kind = {"senat": "senat", "an": "assemblee"}.get(dossier.split(":", 1)[0])
    return next((s for s in config.sources if s.kind == kind), None)


def _stream_of(dossier: str, parent: SourceConfig) -> tuple[str, Reader] | None:
    house, _, key = dossier.partition(":")
    if house == "senat" and parent.kind == "senat":
        site = getattr(parent.options, "site", senat.SENAT)
        return senat.dossier_feed_url(site, key), KINDS["senat"].read
    if house == "an" and parent.kind == "assemblee":
        base = parent.url.split(_AN_OPENDATA, 1)[0] if _AN_OPENDATA in parent.url else _AN_SITE
        return f"{base.rstrip('/')}{_AN_OPENDATA}{key}.json", read_an_dossier
    return None


# -- the Assemblée's dossier document ---------------------------------------------


def read_an_dossier(
    source: SourceConfig, options: Any, state: SourceState, ctx: PollContext
) -> PollResult:
    """The steps of one AN dossier (``dossierParlementaire``), when its document changed."""
    return poll_document(source, state, ctx, lambda r: an_dossier_steps(r, source.id))


def an_dossier_steps(response: Response, source_id: str) -> list[Item]:
    return parse_an_dossier(response.body, source_id, response.url)


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
                    url=_AN_DOCUMENT.format(text) if isinstance(text, str) and text else None,
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
