"""Politeness towards fragile sites: one request at a time per host, a pause between them.

Prefecture sites ban fast crawlers, and all of them at once (a field report: a
crawler at 400 ms a request was banned from every prefecture within two
minutes; La Quadrature du Net's Attrap waits 5 s, 30 s on several sites,
``Attrap_prefdpt.py`` ``pref_sleep_time = 5``). Every source reading such a
host takes its ``turn``: the host's lock is held for the whole request, and the
next request starts no sooner than ``pause`` seconds after the previous one
ended, whichever source (or thread) asks. A Retry-After answer holds the host
for as long as it says.
"""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from watcher.errors import FetchError

# 429 and 503 without Retry-After: the host is held this long before it is asked again.
DEFAULT_HOLD = 60.0


@dataclass
class _Host:
    lock: threading.Lock = field(default_factory=threading.Lock)
    free_at: float = 0.0  # monotonic time before which no request may start


class HostPacer:
    """Per-host turns, shared by every source of a process."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self._guard = threading.Lock()

    def _host(self, host: str) -> _Host:
        with self._guard:
            return self._hosts.setdefault(host.lower(), _Host())

    @contextmanager
    def turn(self, host: str, pause: float, *, budget: float | None = None) -> Iterator[None]:
        """Hold ``host`` for one request, at least ``pause`` seconds after the last.

        ``budget`` is how long the caller may wait at most (its poll's deadline):
        FetchError when the turn would come later.
        """
        state = self._host(host)
        started = self._clock()
        if not state.lock.acquire(timeout=-1 if budget is None else max(budget, 0.0)):
            raise FetchError(f"the poll's deadline passed while waiting for a turn at {host}")
        try:
            wait = state.free_at - self._clock()
            if budget is not None and wait > budget - (self._clock() - started):
                raise FetchError(f"{host} asks to wait {wait:.0f}s more, past the poll's deadline")
            if wait > 0:
                self._sleep(wait)
            try:
                yield
            except FetchError as exc:
                if exc.retry_after is not None or exc.status in (429, 503):
                    hold = exc.retry_after if exc.retry_after is not None else DEFAULT_HOLD
                    state.free_at = max(state.free_at, self._clock() + hold)
                raise
            finally:
                state.free_at = max(state.free_at, self._clock() + pause)
        finally:
            state.lock.release()


# The process's pacer: every prefecture source shares it, so that two sources on one
# host (Paris and the Île-de-France region) never ask it at once.
PACER = HostPacer()
