"""The httpx client shared by every source, for use on one event loop.

Every request names watcher in its User-Agent, follows at most five redirects,
refuses bodies over a size cap, sends ``If-None-Match`` / ``If-Modified-Since``
when the server gave validators, and has a total wall-clock limit; at most
``per_host`` requests are in flight per host. httpx errors become ``FetchError``
here and nowhere else.
"""

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from watcher import USER_AGENT
from watcher.errors import FetchError
from watcher.fetch.response import (
    DEFAULT_MAX_BYTES,
    Response,
    capped_chunks,
    refusal,
    seconds,
    status_error,
)
from watcher.fetch.session import FetchSession
from watcher.netguard import (
    GuardedTransport,
    PrivateAddressError,
    PrivateAllowance,
    is_private_address,
)

MAX_REDIRECTS = 5


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
    ) -> FetchSession:
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
            async for chunk in capped_chunks(response, cap, url):
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
                async for chunk in capped_chunks(response, cap - written, url):
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
                        raise status_error(response)
                    yield response
            except (TimeoutError, httpx.TimeoutException):
                raise FetchError(f"timed out after {seconds(limit)}s fetching {url}") from None
        except PrivateAddressError as exc:
            raise FetchError(refusal(url, exc)) from None
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
