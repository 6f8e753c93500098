"""Every source kind watcher knows, by its feeds.yml ``kind:`` name.

Adding a kind: write ``sources/<kind>.py`` exporting ``KIND = SourceKind(...)``
(its name, options, reader and French label; how ``watcher probe`` recognises it;
the stream of a followed dossier, if its house publishes one) and list it here.
``watcher probe`` asks the kinds in this order, those of a generic shape last.
"""

from collections.abc import Iterable
from typing import Any

from watcher.sources import (
    arcgis,
    assemblee,
    attrap,
    dila,
    legifrance,
    listing,
    opendatasoft,
    raa,
    rss,
    scdl,
    senat,
    webdelib,
)
from watcher.sources.base import SourceConfig, SourceKind
from watcher.sources.pdfpages import ocr_problem

KINDS: dict[str, SourceKind[Any]] = {
    kind.name: kind
    for kind in (
        rss.KIND,
        senat.KIND,
        legifrance.KIND,
        dila.KIND,
        assemblee.KIND,
        scdl.KIND,
        opendatasoft.KIND,
        listing.KIND,
        webdelib.KIND,
        arcgis.KIND,
        raa.KIND,
        attrap.KIND,
    )
}


def ocr_warning(sources: Iterable[SourceConfig]) -> str | None:
    """The OCR problem, when a source's kind reads documents that may be scans."""
    scanned = any(kind.scans for source in sources if (kind := KINDS.get(source.kind)))
    return ocr_problem() if scanned else None
