"""What one poll of a source read, in figures: the numbers drift is judged on.

A poll that parsed something gives ``PollFigures`` with ``outcome="ok"``: how
many items, how many carry a text and how many documents gave none, how many
are dated, how many announce a sitting, the newest date. A failed poll gives
its outcome only: ``unreachable`` (network, HTTP status), ``unrecognised`` (it
answered, but not in the shape its kind reads), ``failed`` (anything else).
An unchanged source (304, same content hash) has no figures: nothing was read.
Pure: a reader's result and its source in, figures out.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.errors import EmptyListingError, FetchError, ParseError
from watcher.sources.base import PollResult, SourceConfig
from watcher.sources.catalog import KINDS
from watcher.sources.fulltext import NO_TEXT

# An item dated further ahead than this is an announced sitting, not a publication.
_AHEAD = timedelta(days=1)


@dataclass(frozen=True)
class PollFigures:
    """One poll of one source, counted."""

    at: datetime
    outcome: (
        str  # "ok", "empty" (a listing that fails empty), "unreachable", "unrecognised", "failed"
    )
    items: int = 0
    with_text: int = 0  # items carrying a text (their document's, or the feed's own)
    without_text: int = 0  # documents fetched that gave no text (a scan, a redirect page)
    dated: int = 0
    sittings: int = 0  # items that announce when they are debated or voted
    newest: datetime | None = None  # the newest publication date read
    whole: bool = False  # the poll read the whole listing: 0 items is a problem
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def summary(self) -> str:
        """One line: "26 items, 3 with text, 1 without, newest 2026-12-01"."""
        if self.outcome == "empty":
            return "0 item(s)"
        if not self.ok:
            return self.outcome  # its error is on the source's own line
        parts = [f"{self.items} item(s)"]
        if self.with_text or self.without_text:
            parts.append(f"{self.with_text} with text, {self.without_text} document(s) without")
        if self.sittings:
            parts.append(f"{self.sittings} sitting(s)")
        parts.append(f"newest {self.newest:%Y-%m-%d}" if self.newest else "no date")
        return ", ".join(parts)

    def summary_fr(self) -> str:
        """The same line for the maintainers, in French."""
        if self.outcome == "empty":
            return "0 élément"
        if not self.ok:
            what = {"unreachable": "injoignable", "unrecognised": "format non reconnu"}
            return what.get(self.outcome, "échec")
        parts = [f"{self.items} élément(s)"]
        if self.with_text or self.without_text:
            parts.append(f"{self.with_text} avec texte, {self.without_text} document(s) sans")
        if self.sittings:
            parts.append(f"{self.sittings} séance(s)")
        parts.append(f"le plus récent du {self.newest:%d/%m/%Y}" if self.newest else "sans date")
        return ", ".join(parts)


def reads_whole_listing(source: SourceConfig) -> bool:
    """Does every changed poll of this source read all of its listing (its kind says)?

    Where it does (a feed, a page, a CSV), 0 items means a broken address or shape,
    never "nothing new"; cursor-based kinds legitimately read 0 items when nothing
    was published.
    """
    kind = KINDS.get(source.kind)
    return kind is not None and kind.whole_listing(source)


def figures_of(result: PollResult, source: SourceConfig, now: datetime) -> PollFigures | None:
    """The figures of a poll that read its source; None when the source was unchanged."""
    if result.unchanged:
        return None
    dates = [item.published for item in result.items if item.published is not None]
    published = [when for when in dates if when <= now + _AHEAD]
    return PollFigures(
        at=now,
        outcome="ok",
        items=len(result.items),
        with_text=sum(1 for item in result.items if item.body.strip()),
        without_text=sum(1 for warning in result.warnings if warning.startswith(NO_TEXT)),
        dated=len(dates),
        sittings=sum(1 for item in result.items if item.event_at is not None),
        newest=max(published, default=None),
        whole=reads_whole_listing(source),
    )


def failure_figures(exc: BaseException, now: datetime) -> PollFigures:
    """The figures of a poll that failed: what kind of failure it was."""
    if isinstance(exc, FetchError):
        outcome = "unreachable"
    elif isinstance(exc, EmptyListingError):
        outcome = "empty"  # in its shape, with nothing in it: 0 items
    elif isinstance(exc, ParseError):
        outcome = "unrecognised"
    else:
        outcome = "failed"
    return PollFigures(at=now, outcome=outcome, error=(str(exc) or type(exc).__name__)[:500])
