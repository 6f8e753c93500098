"""Waiting, in tests, for something another process or thread does.

A test that must show that something did *not* happen (no second send, no exit)
first waits for an event proving that the work which could have done it was
done (a log line, another poll, a later request answered), then asserts: never
"sleep, then assert nothing arrived".
"""

import time
from collections.abc import Callable
from pathlib import Path


def wait_until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def wait_for_text(path: Path, text: str, timeout: float = 20.0) -> str:
    """Wait until the file at ``path`` (a process's log) holds ``text``; its content then."""

    def content() -> str:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    wait_until(lambda: text in content(), f"{text!r} in {path.name}", timeout)
    return content()


def wait_for_more(count: Callable[[], int], more: int, what: str, timeout: float = 20.0) -> int:
    """Wait until ``count()`` has grown by ``more`` from now (more polls, more requests)."""
    start = count()
    wait_until(lambda: count() >= start + more, f"{more} more {what}", timeout)
    return count()
