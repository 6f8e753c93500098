"""Worker processes that parse payloads, so that parsing spreads over the cores.

A reader thread hands its payload here (``PollContext.compute``) and waits:
with one interpreter lock, 32 polls parsing feeds in threads use one core.
Workers start on first use as fresh interpreters (``spawn``: a fork of this
threaded process could inherit a lock held by another thread, and Python
3.11's fork server preloads modules ignoring this process's ``sys.path``).
Should a worker die, the pool is replaced and the payload parsed in the thread.
Workers end when this process dies, however it dies (``watcher.orphans``).
"""

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from watcher.errors import WatcherError
from watcher.orphans import exit_with_parent

logger = logging.getLogger(__name__)
T = TypeVar("T")


class ParsingPool:
    """A process pool started on first use, replaced if a worker dies."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._closed = False

    def __call__(self, function: Callable[..., T], /, *args: Any) -> T:
        with self._lock:
            if self._closed:
                raise WatcherError("watcher is stopping: payload left unparsed")
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=self._context,
                    initializer=exit_with_parent,
                    initargs=(os.getpid(),),
                )
            pool = self._pool
        try:
            return pool.submit(function, *args).result()
        except CancelledError:
            raise WatcherError("watcher is stopping: payload left unparsed") from None
        except BrokenProcessPool:
            logger.warning("a parsing process died; starting others, parsing this payload here")
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return function(*args)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
