"""Which reader polls each ``kind`` of source."""

from watcher.errors import ConfigError
from watcher.sources.arcgis import read_arcgis
from watcher.sources.assemblee import poll_assemblee
from watcher.sources.base import Reader
from watcher.sources.dila import poll_dila
from watcher.sources.legifrance import poll_legifrance
from watcher.sources.listing import poll_listing
from watcher.sources.opendatasoft import poll_opendatasoft
from watcher.sources.rss import poll_rss
from watcher.sources.scdl import poll_scdl
from watcher.sources.senat import poll_senat
from watcher.sources.webdelib import read_webdelib

READERS: dict[str, Reader] = {
    "rss": poll_rss,
    "senat": poll_senat,
    "legifrance": poll_legifrance,
    "dila": poll_dila,
    "assemblee": poll_assemblee,
    "scdl": poll_scdl,
    "opendatasoft": poll_opendatasoft,
    "html": poll_listing,
    "webdelib": read_webdelib,
    "arcgis": read_arcgis,
}


def reader_for(kind: str) -> Reader:
    try:
        return READERS[kind]
    except KeyError:
        raise ConfigError(f"no reader for source kind {kind!r}") from None
