"""Polling a source that is one document: conditional GET, then parse into items.

Feeds, CSV files, dataset exports and listing pages all work this way: send the
validators the server gave (ETag, Last-Modified), treat 304 and an empty 200 as
"unchanged", skip a body whose hash did not change, then parse.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from watcher.items import Item
from watcher.sources.base import PollContext, PollResult, SourceConfig, SourceState
from watcher.sources.fulltext import attach_fulltext

if TYPE_CHECKING:
    from watcher.fetch import Response


def poll_document(
    source: SourceConfig,
    state: SourceState,
    ctx: PollContext,
    parse: Callable[["Response"], list[Item]],
    *,
    fulltext: bool | None = None,
) -> PollResult:
    """Items of the document at ``source.url``, when it changed since the last poll."""
    response = ctx.fetcher.get(source.url, etag=state.etag, last_modified=state.last_modified)
    # An empty 200 is what some servers send for "unchanged": treat it like a 304.
    if response is None or not response.body.strip():
        return PollResult([], state, unchanged=True)
    new_state = SourceState(
        response.etag or state.etag,
        response.last_modified or state.last_modified,
        response.content_hash,
        state.cursor,
    )
    if response.content_hash == state.content_hash:
        return PollResult([], new_state, unchanged=True)
    items = parse(response)
    warnings: list[str] = []
    wanted = source.fulltext if fulltext is None else fulltext
    if wanted and not ctx.backlog:
        items = attach_fulltext(items, ctx, warnings)
    return PollResult(items, new_state, warnings=warnings)
