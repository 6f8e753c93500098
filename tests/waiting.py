"""Waiting, in tests, for something another process or thread does."""

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Poll ``condition`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
