"""The synchronous face of the fetcher, for readers running in worker threads.

A ``FetchSession`` hands each request to the event loop that runs the fetcher
and waits for it; the runtime cancels it at a poll's deadline or at shutdown.
"""

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

from watcher.errors import FetchError
from watcher.fetch.response import Response
from watcher.netguard import PrivateAllowance

T = TypeVar("T")
# How much longer than its deadline a reader thread waits for a request before
# giving up on the loop itself (a stopped loop would otherwise block it forever).
DEADLINE_GRACE = 5.0


class Requester(Protocol):
    """What a session drives: ``watcher.fetch.client.Fetcher``, on its event loop."""

    @property
    def max_bytes(self) -> int: ...

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
    ) -> Response | None: ...

    async def download(
        self,
        url: str,
        destination: Path,
        *,
        max_bytes: int | None = None,
        deadline: float | None = None,
        allow_private: PrivateAllowance | None = None,
    ) -> Path: ...


class FetchSession:
    """The synchronous face of a ``Fetcher`` for one poll, used from a worker thread.

    Each call runs ``Fetcher.fetch`` on the fetcher's loop and waits for it.
    ``cancel`` ends every request in flight and every later one with ``FetchError``,
    so a poll can be stopped at its deadline without waiting for a hung server.
    """

    def __init__(
        self,
        fetcher: Requester,
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
