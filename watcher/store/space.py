"""A full disk is a pause: how it is recognised, said once, and seen by ``watcher status``.

SQLite answers a write it cannot make with SQLITE_FULL ("database or disk is
full"); the lock file and the Atom files meet ENOSPC. Either is translated here
into ``StorageFull``, one error that delivery and polling wait out (backing off,
one log line when it starts and one when space returns) instead of retrying at
once. Nothing is lost meanwhile: a poll that could not be saved is polled again,
an alert that could not be marked sent is held in memory so that it is not sent
twice (see ``Deliverer``).
"""

import errno
import logging
import shutil
import sqlite3
import threading
from pathlib import Path

from watcher.errors import WatcherError

logger = logging.getLogger(__name__)

# Below this much free space the folder counts as full for `watcher status`: SQLite
# needs room for its write-ahead log, and a few pages more are soon gone.
LOW_SPACE_BYTES = 1 << 20
SQLITE_FULL = 13


class StorageFull(WatcherError):
    """The database folder has no space left: writes wait until there is some."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says that the disk (or the database) is full."""
    if isinstance(exc, StorageFull):
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == SQLITE_FULL or "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def full_error(where: str | Path, exc: BaseException) -> StorageFull:
    folder = Path(where).resolve().parent
    return StorageFull(
        f"disk full (disque plein) in {folder}: free some space there; "
        f"watcher waits and resumes by itself ({exc})"
    )


def free_bytes(database: str | Path) -> int | None:
    """Free space in the database's folder, None when it cannot be read."""
    try:
        return shutil.disk_usage(Path(database).resolve().parent).free
    except OSError:
        return None


def low_space(database: str | Path) -> str | None:
    """A line in French for ``watcher status`` when the database folder is (nearly) full."""
    free = free_bytes(database)
    if free is None or free >= LOW_SPACE_BYTES:
        return None
    folder = Path(database).resolve().parent
    return f"disque plein : {free // 1024} Kio libres dans {folder} (libérez de la place)"


class FullDiskLog:
    """Says "disk full" once when writes start failing, and once when they succeed again."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._lock = threading.Lock()
        self.full = False

    def failed(self, exc: BaseException, retry_in: float) -> None:
        with self._lock:
            if self.full:
                return
            self.full = True
        logger.error("%s paused: %s (looking again every %gs at most)", self.what, exc, retry_in)

    def succeeded(self) -> None:
        with self._lock:
            if not self.full:
                return
            self.full = False
        logger.warning("%s resumed: disk space is back", self.what)
