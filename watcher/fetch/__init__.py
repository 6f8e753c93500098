"""Fetching over HTTP: the one shared asyncio client, its safety rules, and its sync face.

Every request names watcher in its User-Agent, follows at most five redirects,
refuses bodies over a size cap (counted on the wire and once decompressed), sends
``If-None-Match`` / ``If-Modified-Since`` when the server gave validators, and has a
total wall-clock limit covering connect, headers and the whole body: a server that
trickles one byte at a time costs one failed request, never a stalled poll. At
most ``per_host`` requests are in flight per host, whichever source asks. Unless
allowed, connections to private addresses are refused (``watcher.netguard``).
httpx errors are translated into ``FetchError`` here and nowhere else.

Readers are synchronous and run in worker threads: they fetch through a
``FetchSession``, which hands each request to the event loop and waits for it, and
which the runtime can cancel at a poll's deadline or at shutdown.

``client`` holds the shared ``Fetcher``, ``session`` its synchronous face,
``standalone`` a session with its own loop (``watcher probe``, tests), and
``response`` what a request gives back and how it fails.
"""

from watcher.fetch.client import MAX_REDIRECTS, Fetcher
from watcher.fetch.response import DEFAULT_MAX_BYTES, Response, parse_retry_after
from watcher.fetch.session import FetchSession
from watcher.fetch.standalone import StandaloneSession, standalone_session

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_REDIRECTS",
    "FetchSession",
    "Fetcher",
    "Response",
    "StandaloneSession",
    "parse_retry_after",
    "standalone_session",
]
