"""Worker processes that end when the process that started them dies.

A ``ProcessPoolExecutor`` worker waits on its call queue forever: when its
parent is killed (SIGKILL, the OOM killer, a crash) nothing tells it, and each
one stays alive holding about 30 MB. ``exit_with_parent`` runs first in every
parsing worker (the pool's ``initializer``): on Linux the kernel kills the
worker with its parent (``prctl(PR_SET_PDEATHSIG)``); everywhere, a watchdog
thread also checks every ``WATCH_SECONDS`` that the parent is still the one
that started it, and ends the worker when it is not (the worker was re-parented).

This module imports only the standard library: it is the first thing a fresh
worker interpreter loads.
"""

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

WATCH_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def exit_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid`` (its parent) ends."""
    _kernel_death_signal()
    if os.getppid() != parent_pid:  # the parent died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()


def _kernel_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0)
    except (OSError, AttributeError):  # no libc or no prctl (musl builds have it)
        return False


def _watch(parent_pid: int) -> None:
    # The portable fallback, and a second guard on Linux: PR_SET_PDEATHSIG fires
    # when the *thread* that spawned the worker ends, which the pool's threads
    # never do before shutdown, but a re-parented worker is an orphan either way.
    while os.getppid() == parent_pid:
        time.sleep(WATCH_SECONDS)
    os._exit(1)
