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
"""

import asyncio
import concurrent.futures
import email.utils
import hashlib
import logging
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from watcher import USER_AGENT
from watcher.errors import FetchError
from watcher.netguard import (
    GuardedTransport,
    PrivateAddressError,
    PrivateAllowance,
    is_private_address,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# How much longer than its deadline a reader thread waits for a request before
# giving up on the loop itself (a stopped loop would otherwise block it forever).
DEADLINE_GRACE = 5.0


@dataclass(frozen=True)
class Response:
    """A complete, successful response body and what identifies its version."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    etag: str | None = None
    last_modified: str | None = None

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Fetcher:
    """The httpx client shared by every source, for use on one event loop."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        per_host: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_private: bool = False,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.per_host = per_host
        self.allow_private = allow_private
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._closed = False
        self._allowing: dict[frozenset[str], httpx.AsyncClient] = {}
        self._ssl_context: ssl.SSLContext | None = None
        if transport is None:
            # Loading the CA bundle costs about 60 ms: both pools share one context.
            ssl_context = self._ssl_context = httpx.create_ssl_context()
            self._open = self._client(httpx.AsyncHTTPTransport(verify=ssl_context))
            # Its own pool: a connection opened for a source on a private address
            # must never be reused by a request that may not reach that address.
            self._guarded = self._client(GuardedTransport(ssl_context=ssl_context))
        else:  # a transport passed in (tests) is used as given, with or without a guard
            self._open = self._guarded = self._client(transport)

    def _client(self, transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
        # An explicit transport also keeps httpx from routing through proxies named
        # in the environment, which would connect on watcher's behalf unchecked.
        return httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 15.0)),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            transport=transport,
        )

    def _client_for(self, allow_private: PrivateAllowance) -> httpx.AsyncClient:
        """The client whose guard lets through exactly what ``allow_private`` allows."""
        if allow_private is True:
            return self._open
        if not allow_private or self._ssl_context is None:
            return self._guarded
        # A source configured by a private address (http://10.0.0.5/feed) reaches that
        # address, and only it: its own pool, as for the open client.
        client = self._allowing.get(allow_private)
        if client is None:
            allowed = allow_private

            def private(address: str) -> bool:
                return address not in allowed and is_private_address(address)

            transport = GuardedTransport(ssl_context=self._ssl_context, private=private)
            client = self._allowing[allowed] = self._client(transport)
        return client

    async def aclose(self) -> None:
        self._closed = True
        await self._open.aclose()
        if self._guarded is not self._open:
            await self._guarded.aclose()
        for client in self._allowing.values():
            await client.aclose()

    def session(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        deadline: float | None,
        allow_private: PrivateAllowance,
    ) -> "FetchSession":
        """A synchronous face for one poll's reader thread; ``loop`` runs this fetcher."""
        return FetchSession(self, loop, deadline=deadline, allow_private=allow_private)

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        max_bytes: int | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        deadline: float | None = None,
        allow_private: PrivateAllowance | None = None,
    ) -> Response | None:
        """Send a request and read its whole body under the cap; None on 304.

        ``deadline`` is an absolute ``loop.time()``: the request must end by then.
        """
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        cap = max_bytes or self.max_bytes
        async with self._exchange(
            method,
            url,
            headers=request_headers,
            data=data,
            json=json,
            deadline=deadline,
            allow_private=allow_private,
        ) as response:
            if response.status_code == 304:
                return None
            body = bytearray()
            async for chunk in _capped_chunks(response, cap, url):
                body += chunk
            return Response(
                url=str(response.url),
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=bytes(body),
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
            )

    async def download(
        self,
        url: str,
        destination: Path,
        *,
        max_bytes: int | None = None,
        deadline: float | None = None,
        allow_private: PrivateAllowance | None = None,
    ) -> Path:
        """Stream a (large) file to disk, resuming a partial ``.part`` file with Range."""
        cap = max_bytes or self.max_bytes
        partial = destination.with_name(destination.name + ".part")
        have = partial.stat().st_size if partial.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        async with self._exchange(
            "GET", url, headers=headers, deadline=deadline, allow_private=allow_private
        ) as response:
            append = have > 0 and response.status_code == 206
            # Writes stay on the loop: chunks are small and local disks fast.
            with partial.open("ab" if append else "wb") as out:
                written = have if append else 0
                async for chunk in _capped_chunks(response, cap - written, url):
                    out.write(chunk)
        partial.replace(destination)
        return destination

    @asynccontextmanager
    async def _exchange(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        data: Mapping[str, str] | None = None,
        json: Any = None,
        deadline: float | None,
        allow_private: PrivateAllowance | None,
    ) -> AsyncIterator[httpx.Response]:
        """One request under its host's slot and its total time limit, errors translated."""
        private_ok = self.allow_private if allow_private is None else allow_private
        client = self._client_for(private_ok)
        slot = await self._slot(url, deadline)
        try:
            limit = self.timeout
            if deadline is not None:
                limit = min(limit, deadline - asyncio.get_running_loop().time())
                if limit <= 0:
                    raise FetchError(f"the poll's deadline passed before fetching {url}")
            try:
                async with (
                    asyncio.timeout(limit),
                    client.stream(method, url, headers=headers, data=data, json=json) as response,
                ):
                    if response.status_code >= 400:
                        raise _status_error(response)
                    yield response
            except (TimeoutError, httpx.TimeoutException):
                raise FetchError(f"timed out after {_seconds(limit)}s fetching {url}") from None
        except PrivateAddressError as exc:
            raise FetchError(_refusal(url, exc)) from None
        except httpx.TooManyRedirects:
            raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}") from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise FetchError(f"invalid URL {url}: {exc}") from None
        except httpx.DecodingError as exc:
            raise FetchError(f"cannot decompress the body of {url}: {exc}") from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise FetchError(f"cannot reach {url}: {reason}") from None
        except RuntimeError as exc:  # a closed client, a consumed stream
            reason = "the fetcher is closed" if self._closed else str(exc)
            raise FetchError(f"cannot fetch {url}: {reason}") from None
        finally:
            slot.release()

    async def _slot(self, url: str, deadline: float | None) -> asyncio.Semaphore:
        """Wait for one of the host's ``per_host`` slots (until the deadline at most)."""
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError as exc:
            raise FetchError(f"invalid URL {url}: {exc}") from None
        slot = self._slots.get(host)
        if slot is None:
            slot = self._slots[host] = asyncio.Semaphore(self.per_host)
        try:
            async with asyncio.timeout_at(deadline):
                await slot.acquire()
        except TimeoutError:
            raise FetchError(
                f"the poll's deadline passed while waiting for a free connection to {host}"
            ) from None
        return slot


async def _capped_chunks(response: httpx.Response, cap: int, url: str) -> AsyncIterator[bytes]:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FetchError(f"{url} is {int(declared)} bytes, over the {cap}-byte cap")
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > cap or response.num_bytes_downloaded > cap:
            raise FetchError(f"{url} sent more than the {cap}-byte cap")
        yield chunk


class FetchSession:
    """The synchronous face of a ``Fetcher`` for one poll, used from a worker thread.

    Each call runs ``Fetcher.fetch`` on the fetcher's loop and waits for it.
    ``cancel`` ends every request in flight and every later one with ``FetchError``,
    so a poll can be stopped at its deadline without waiting for a hung server.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        loop: asyncio.AbstractEventLoop,
        *,
        deadline: float | None,
        allow_private: PrivateAllowance,
    ) -> None:
        self.fetcher = fetcher
        self.loop = loop
        self.deadline = deadline
        self.allow_private = allow_private
        self._lock = threading.Lock()
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._cancelled: str | None = None

    @property
    def max_bytes(self) -> int:
        return self.fetcher.max_bytes

    @property
    def cancelled(self) -> bool:
        """Whether ``cancel`` was called: the poll was given up and its outcome recorded."""
        return self._cancelled is not None

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> Response | None:
        """GET a URL; None when the server says it has not changed (304)."""
        return self._wait(
            url,
            lambda: self.fetcher.fetch(
                "GET",
                url,
                headers=headers,
                max_bytes=max_bytes,
                etag=etag,
                last_modified=last_modified,
                deadline=self.deadline,
                allow_private=self.allow_private,
            ),
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        max_bytes: int | None = None,
    ) -> Response | None:
        """Send a request and read its whole body under the cap; None on 304."""
        return self._wait(
            url,
            lambda: self.fetcher.fetch(
                method,
                url,
                headers=headers,
                data=data,
                json=json,
                max_bytes=max_bytes,
                deadline=self.deadline,
                allow_private=self.allow_private,
            ),
        )

    def download(self, url: str, destination: Path, *, max_bytes: int | None = None) -> Path:
        """Stream a (large) file to disk, resuming a partial ``.part`` file with Range."""
        return self._wait(
            url,
            lambda: self.fetcher.download(
                url,
                destination,
                max_bytes=max_bytes,
                deadline=self.deadline,
                allow_private=self.allow_private,
            ),
        )

    def cancel(self, reason: str) -> None:
        """End the requests in flight and refuse later ones, each with ``FetchError(reason)``."""
        with self._lock:
            self._cancelled = reason
            pending = list(self._pending)
        for future in pending:
            future.cancel()

    def _wait(self, url: str, request: Callable[[], Coroutine[Any, Any, T]]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            raise RuntimeError(
                "FetchSession blocks until its event loop answers: call it from a worker "
                "thread, or await Fetcher.fetch on the loop"
            )
        with self._lock:
            if self._cancelled is not None:
                raise FetchError(self._cancelled)
            coroutine = request()
            try:
                future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
            except RuntimeError:  # the loop is closed
                coroutine.close()
                raise FetchError(f"cannot fetch {url}: the fetcher is closed") from None
            self._pending.add(future)
        wait = None
        if self.deadline is not None:
            wait = max(0.0, self.deadline - self.loop.time()) + DEADLINE_GRACE
        try:
            return future.result(timeout=wait)
        except concurrent.futures.CancelledError:
            raise FetchError(self._cancelled or f"fetching {url} was cancelled") from None
        except TimeoutError:
            future.cancel()
            raise FetchError(f"the poll's deadline passed while fetching {url}") from None
        finally:
            with self._lock:
                self._pending.discard(future)


class StandaloneSession(FetchSession):
    """A session with its own event loop in a daemon thread, for one-shot uses.

    ``watcher probe``, tests that call a reader directly, and (until they move to
    the asyncio runtime) the thread-based poll loops. ``close()`` ends it.
    """

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        per_host: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_private: bool = True,
    ) -> None:
        loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=loop.run_forever, name="fetch-loop", daemon=True)
        self._thread.start()

        async def build() -> Fetcher:  # the client is made on the loop that will use it
            return Fetcher(
                timeout=timeout,
                max_bytes=max_bytes,
                per_host=per_host,
                transport=transport,
                allow_private=allow_private,
            )

        fetcher = asyncio.run_coroutine_threadsafe(build(), loop).result()
        super().__init__(fetcher, loop, deadline=None, allow_private=allow_private)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.cancel("the fetcher was closed")
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=10)
        except (TimeoutError, concurrent.futures.CancelledError):
            logger.warning("the fetcher's event loop did not stop cleanly")
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
            self.loop.close()

    async def _shutdown(self) -> None:
        await self.fetcher.aclose()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self.loop.shutdown_asyncgens()


@contextmanager
def standalone_session(
    *,
    timeout: float,
    max_bytes: int,
    transport: httpx.AsyncBaseTransport | None = None,
    allow_private: bool = True,
) -> Iterator[FetchSession]:
    """A ``FetchSession`` on a private event loop, closed on exit."""
    session = StandaloneSession(
        timeout=timeout, max_bytes=max_bytes, transport=transport, allow_private=allow_private
    )
    try:
        yield session
    finally:
        session.close()


def _refusal(url: str, exc: PrivateAddressError) -> str:
    host = (urlsplit(url).hostname or "").lower()
    where = "it" if exc.host.lower() == host else f"it redirects to {exc.host}, which"
    return (
        f"refused to fetch {url}: {where} resolves to a private address ({exc.address}); "
        "set settings.allow_private_addresses to allow it"
    )


def _seconds(limit: float) -> str:
    return f"{limit:.0f}" if limit >= 10 else f"{limit:.2g}"


def _status_error(response: httpx.Response) -> FetchError:
    reason = response.reason_phrase or ""
    message = f"HTTP {response.status_code} {reason}".strip() + f" from {response.url}"
    return FetchError(
        message,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        status=response.status_code,
    )


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
