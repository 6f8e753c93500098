"""``watcher sources check``: every configured source fetched once, on the real services.

What a maintainer runs after deploying (and /verifier in Telegram): each source
read by its own reader, as its first poll reads it (the listing, no document
downloaded, nothing stored), then a sample of its documents fetched for their
text when it reads full texts. A table says per source whether it answered
(HTTP status, and the address it ended at after redirects), whether its answer
has the shape its kind reads, what it read (items, dated, sittings, newest,
documents with and without text) and a verdict; when something is off, what to
change, with what ``watcher probe`` proposes for the address.
"""

import asyncio
import dataclasses
import tempfile
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from watcher.config import Config, SourceConfig
from watcher.errors import EmptyListingError, FetchError, ParseError, WatcherError
from watcher.fetch import Response, StandaloneSession
from watcher.figures import PollFigures, failure_figures, figures_of
from watcher.items import normalise_link
from watcher.netguard import is_private_host
from watcher.probe import ProbeError, feeds_entry, probe
from watcher.sources.base import PollContext, PollResult, SourceState
from watcher.sources.catalog import KINDS
from watcher.sources.fulltext import NO_TEXT, attach_fulltext

T = TypeVar("T")
SAMPLE = 3  # documents fetched per source to see whether they give text
USABLE = frozenset({"ok", "moved"})
MAX_HOSTS = 8  # hosts checked at once


class RecordingSession(StandaloneSession):
    """A fetch session that remembers its first exchange: status, and where it ended."""

    first: "Exchange | None" = None

    def _wait(self, url: str, request: Callable[[], Coroutine[Any, Any, T]]) -> T:
        try:
            result = super()._wait(url, request)
        except FetchError as exc:
            self._note(Exchange(url, exc.status, None, str(exc)))
            raise
        if isinstance(result, Response):
            self._note(Exchange(url, result.status, result.url, ""))
        return result

    def _note(self, exchange: "Exchange") -> None:
        if self.first is None:
            self.first = exchange


@dataclass(frozen=True)
class Exchange:
    """The first request of a check: what was asked, what answered."""

    url: str
    status: int | None  # None: no HTTP answer (network, timeout, refused address)
    final_url: str | None  # after redirects
    error: str

    @property
    def moved(self) -> bool:
        return self.final_url is not None and normalise_link(self.final_url) != normalise_link(
            self.url
        )


@dataclass(frozen=True)
class SourceCheck:
    """One source, checked."""

    source: SourceConfig
    verdict: str  # ok, moved, unreachable, unrecognised, empty, no-text, skipped, failed
    exchange: Exchange | None = None
    figures: PollFigures | None = None
    sampled: bool = False  # documents were fetched for their text
    advice: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.verdict in USABLE


def check_sources(
    config: Config,
    environ: Mapping[str, str],
    now: datetime,
    *,
    only: Sequence[str] = (),
) -> list[SourceCheck]:
    """Check each source (or those named), in the configuration's order."""
    known = {source.id for source in config.sources}
    unknown = [source_id for source_id in only if source_id not in known]
    if unknown:
        raise WatcherError(
            f"no source {', '.join(unknown)} in {config.path}; sources: {', '.join(sorted(known))}"
        )
    chosen = [source for source in config.sources if not only or source.id in only]
    # One host's sources one after the other (prefecture sites ban fast crawlers),
    # hosts side by side: a deployment's check takes its slowest host's time.
    by_host: dict[str, list[SourceConfig]] = {}
    for source in chosen:
        by_host.setdefault((urlsplit(source.url).hostname or "").lower(), []).append(source)

    def one_host(sources: list[SourceConfig]) -> list[SourceCheck]:
        return [check_source(config, source, environ, now) for source in sources]

    workers = max(1, min(len(by_host), config.settings.concurrency, MAX_HOSTS))
    with ThreadPoolExecutor(workers, thread_name_prefix="check") as pool:
        done = {c.source.id: c for checks in pool.map(one_host, by_host.values()) for c in checks}
    return [done[source.id] for source in chosen]


def check_source(
    config: Config, source: SourceConfig, environ: Mapping[str, str], now: datetime
) -> SourceCheck:
    """Fetch one source once with its reader and say whether it is usable."""
    missing = [name for name in KINDS[source.kind].required_env if not environ.get(name)]
    if missing:
        return SourceCheck(source, "skipped", advice=[f"set {' and '.join(missing)}"])
    settings = config.settings
    private = settings.allow_private_addresses or asyncio.run(is_private_host(source.url))
    session = RecordingSession(
        timeout=settings.timeout, max_bytes=settings.max_response_bytes, allow_private=private
    )
    try:
        with tempfile.TemporaryDirectory(prefix="watcher-check-") as cache:
            return _check(source, session, environ, now, Path(cache))
    finally:
        session.close()


def _check(
    source: SourceConfig,
    session: RecordingSession,
    environ: Mapping[str, str],
    now: datetime,
    cache: Path,
) -> SourceCheck:
    ctx = PollContext(
        fetcher=session,
        now=now,
        known=lambda keys: set(),
        environ=environ,
        cache_dir=cache,
        backlog=True,  # the listing only: documents are sampled below
    )
    try:
        result = KINDS[source.kind].read(source, source.options, SourceState(), ctx)
    except EmptyListingError as exc:  # its reader fails on an empty listing
        advice = [str(exc), *_probe_advice(session, source.id)]
        return SourceCheck(source, "empty", session.first, failure_figures(exc, now), advice=advice)
    except (FetchError, ParseError) as exc:
        figures = failure_figures(exc, now)
        verdict = "unreachable" if isinstance(exc, FetchError) else "unrecognised"
        advice = (
            _unreachable(exc) if isinstance(exc, FetchError) else _probe_advice(session, source.id)
        )
        return SourceCheck(source, verdict, session.first, figures, advice=[str(exc), *advice])
    except Exception as exc:  # a reader's bug: reported on its line, the others go on
        figures = failure_figures(exc, now)
        return SourceCheck(source, "failed", session.first, figures, advice=[repr(exc)])
    exchange = session.first
    sampled = _reads_documents(source)
    if sampled:
        result = _sample_documents(result, ctx, source.kind)
    read = figures_of(result, source, now)
    if read is None:  # with no validators sent, only an empty body reads as "unchanged"
        advice = ["the server answered an empty body", *_probe_advice(session, source.id)]
        return SourceCheck(source, "empty", exchange, None, sampled, advice)
    figures = read
    if figures.whole and figures.items == 0:
        advice = ["the listing gave 0 links/items: its address or its page changed"]
        return SourceCheck(
            source, "empty", exchange, figures, sampled, advice + _probe_advice(session, source.id)
        )
    if sampled and figures.without_text and not figures.with_text:
        advice = [
            "its documents give no text (scanned PDFs, or a page that moves on to the file): "
            "only titles are matched",
            *[w.removeprefix(NO_TEXT) for w in result.warnings if w.startswith(NO_TEXT)][:SAMPLE],
        ]
        return SourceCheck(source, "no-text", exchange, figures, sampled, advice)
    if exchange is not None and exchange.moved:
        advice = [
            f"it redirects: set url: {exchange.final_url}"
            if exchange.url == source.url
            else f"{exchange.url} redirects to {exchange.final_url}: check the address"
        ]
        return SourceCheck(source, "moved", exchange, figures, sampled, advice)
    return SourceCheck(source, "ok", exchange, figures, sampled)


def _reads_documents(source: SourceConfig) -> bool:
    """Does polling this source fetch each item's document?"""
    return (
        source.fulltext
        or bool(getattr(source.options, "follow", False))
        or KINDS[source.kind].documents is not None
    )


def _sample_documents(result: PollResult, ctx: PollContext, kind: str) -> PollResult:
    """The newest few items' documents fetched for their text, the way polling fetches them."""
    dated = sorted(
        (item for item in result.items if item.url and not item.body),
        key=lambda item: item.published.timestamp() if item.published else 0.0,
        reverse=True,
    )
    chosen = {item.key for item in dated[:SAMPLE]}
    # The documents polling would fetch are those not stored yet: all but the sample.
    sample = dataclasses.replace(ctx, known=lambda keys: set(keys) - chosen, backlog=False)
    warnings = list(result.warnings)
    # Kinds whose links reach the document in more than one step read it their own way,
    # as their reader passes to ``attach_fulltext`` (WebDélib+: openfile.jsp -> showFile.jsp).
    items = attach_fulltext(result.items, sample, warnings, read=KINDS[kind].documents)
    return PollResult(items, result.state, result.unchanged, warnings)


def _unreachable(exc: FetchError) -> list[str]:
    if exc.status in (404, 410):
        return ["the address is gone: find where it moved, then `watcher probe NEW_URL`"]
    if exc.status in (401, 403):
        return ["the server refuses watcher: check the address and any credentials"]
    if exc.status == 429 or (exc.status or 0) >= 500:
        return ["the server is busy or failing: check again later"]
    return ["no answer: check the address, the network and the DNS name"]


def _probe_advice(session: RecordingSession, source_id: str) -> list[str]:
    """What ``watcher probe`` says of the address the source ended at."""
    first = session.first
    if first is None:
        return []
    address = first.final_url or first.url
    try:
        found = probe(session, address)
    except ProbeError as exc:
        return [f"watcher probe: {exc}"]
    except WatcherError as exc:
        return [f"watcher probe could not read {address}: {exc}"]
    entry = feeds_entry(found)
    entry[0] = f"  - id: {source_id}"  # the source keeps its id, and its alerts their history
    return [f"watcher probe: {address} is {found.what}; entry:", *entry]
