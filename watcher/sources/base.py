"""What a source kind is, what its reader takes and what it returns.

A kind is one ``SourceKind`` object, exported as ``KIND`` by its module and
listed in ``catalog``: its feeds.yml name, its French label, its options
dataclass (whose fields are its keys, with their defaults), its reader, its
usual URL, the secrets it needs, the shape ``watcher probe`` recognises as its
own, the stream it reads for a followed dossier, the /reglages family of its
sources, whether a poll reads its whole listing and whether its documents are
scans. This module imports nothing from the configuration: ``config`` builds
``SourceConfig`` from here, never the other way round.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from watcher.items import Item

if TYPE_CHECKING:  # not at run time: parsing processes import readers without httpx
    from watcher.fetch import FetchSession
    from watcher.sources.probing import Shape

OptionsT = TypeVar("OptionsT")
T = TypeVar("T")


class Compute(Protocol):
    """Runs CPU-bound pure work (parsing a payload) and returns its result.

    The function must be defined at module level and its arguments and result
    picklable: the runtime runs it in a worker process, so that parsing spreads
    over the machine's cores instead of queueing behind one interpreter lock.
    """

    def __call__(self, function: Callable[..., T], /, *args: Any) -> T: ...


def run_here(function: Callable[..., T], /, *args: Any) -> T:
    """``Compute`` in the calling thread (tests, and any caller without a runtime)."""
    return function(*args)


@dataclass(frozen=True)
class SourceConfig:
    """One entry of feeds.yml's ``sources``: where to look, how often, with what options."""

    id: str
    name: str
    kind: str
    url: str
    interval: float
    topics: tuple[str, ...]
    backfill: bool = False
    fulltext: bool = False
    options: Any = None  # the kind's options dataclass, validated and with its defaults
    territory: str = ""  # the place it covers: "Auvergne-Rhône-Alpes", "Rennes Métropole"


@dataclass(frozen=True)
class SourceState:
    """What watcher remembers of a source between polls (stored in SQLite)."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    cursor: Mapping[str, str] = field(default_factory=dict)


def _no_revisions(keys: Iterable[str]) -> dict[str, str]:
    return {}


def always(source: SourceConfig) -> bool:
    """``SourceKind.whole_listing`` of a kind whose every poll reads its whole listing."""
    return True


def never(source: SourceConfig) -> bool:
    """``SourceKind.whole_listing`` of a kind that reads only what is new (a cursor, a date)."""
    return False


@dataclass
class PollContext:
    """What a reader may use besides its configuration and state, already decided."""

    fetcher: "FetchSession"
    now: datetime
    known: Callable[[Iterable[str]], set[str]]  # which of these item keys are stored already
    # The stored revision of each of these keys that is stored ("" when stored without one).
    known_revisions: Callable[[Iterable[str]], dict[str, str]] = _no_revisions
    environ: Mapping[str, str] = field(default_factory=dict)
    cache_dir: Path = Path(".")
    # First poll without ``backfill``: the reader notes where the source stands (its
    # items, for identity) and downloads no documents; nothing of it is alerted.
    backlog: bool = False
    memory: dict[str, Any] = field(default_factory=dict)  # per source, kept between polls
    compute: Compute = run_here  # where to parse a payload (see ``Compute``)

    def changed(self, revisions: Mapping[str, str]) -> set[str]:
        """Keys (with their current revision) that are new, or stored with another revision.

        A key stored without a revision is not "changed": it was stored before
        revisions existed, and re-reading all of those at once would be a burst
        (see ``unrevised``).
        """
        stored = self.known_revisions(revisions)
        known = self.known(key for key in revisions if key not in stored)
        return {
            key
            for key, revision in revisions.items()
            if (key not in stored and key not in known)
            or (key in stored and stored[key] and revision and stored[key] != revision)
        }

    def unrevised(self, revisions: Mapping[str, str]) -> set[str]:
        """Keys stored without a revision that now have one.

        A reader returns these as they are listed, without reading their
        documents: the store records the revision (and alerts nothing), so that
        the next change of the document is seen.
        """
        stored = self.known_revisions(revisions)
        return {key for key, revision in revisions.items() if revision and stored.get(key) == ""}


@dataclass(frozen=True)
class PollResult:
    """What one poll of a source found, and the state to remember for the next."""

    items: list[Item]
    state: SourceState
    unchanged: bool = False
    warnings: list[str] = field(default_factory=list)


Reader = Callable[[SourceConfig, Any, SourceState, PollContext], PollResult]


@dataclass(frozen=True)
class DossierStream:
    """Where a kind publishes one dossier's own steps, read like a source of that kind.

    ``house`` is the prefix of the dossier keys it serves (``senat`` for
    ``senat:pjl22-220``); ``url`` gives the stream's address from the parent source
    (its site, its mirror) and the key after the prefix; ``read`` reads it with the
    parent's options.
    """

    house: str
    url: Callable[[SourceConfig, str], str]
    read: Reader


@dataclass(frozen=True)
class SourceKind(Generic[OptionsT]):
    """A kind of source: the one object that declares and reads it."""

    name: str  # the feeds.yml ``kind:``
    options: type[OptionsT]  # a frozen dataclass: its fields ARE the kind's feeds.yml keys
    read: Callable[[SourceConfig, OptionsT, SourceState, PollContext], PollResult]
    label: str  # what the bot calls it, in French ("Sénat", "flux RSS")
    default_url: str | None = None
    required_env: tuple[str, ...] = ()
    # Why ``fulltext: true`` cannot work for this kind ("" when it does): said by
    # ``watcher validate`` instead of silently ignoring the key.
    no_fulltext: str = ""
    stream: DossierStream | None = None  # a followed dossier's own stream, if it has one
    # How its reader gets each item's document text when a link takes more than one
    # step (WebDélib+: ``openfile.jsp``, then the file); `watcher sources check` samples so.
    documents: "Callable[[FetchSession, str], str] | None" = None
    probe: "Shape | None" = None  # how ``watcher probe`` recognises an address of this kind
    # The /reglages family of its sources (``filters.SOURCE_FAMILIES``: "parlement",
    # "jo", "collectivites", "prefectures"); a name or an address that says CNIL or
    # préfecture wins over it, and a source with a territory is a collectivity's.
    family: str = ""
    # Whether every changed poll of this source reads its whole listing (a feed, a page,
    # a CSV): 0 items there means a broken address or shape, never "nothing new".
    whole_listing: Callable[[SourceConfig], bool] = never
    # Whether its documents are often scanned PDFs, read by OCR: `watcher validate` and
    # `watcher run` say so when Tesseract is missing.
    scans: bool = False
