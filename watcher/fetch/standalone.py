"""A fetch session with its own event loop in a daemon thread, for one-shot uses."""

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from watcher.fetch.client import Fetcher
from watcher.fetch.response import DEFAULT_MAX_BYTES
from watcher.fetch.session import FetchSession

logger = logging.getLogger(__name__)


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

        self._client = asyncio.run_coroutine_threadsafe(build(), loop).result()
        super().__init__(self._client, loop, deadline=None, allow_private=allow_private)

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
        await self._client.aclose()
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
