"""One writer per database: the process that polls holds a lock beside the file.

The lock is an ``flock`` on ``<database>.lock``: the kernel releases it when the
process ends, however it ends (SIGKILL included), so a restart never needs a
manual unlock. The file records who holds it, for the refusal message.
"""

import fcntl
import os
from pathlib import Path
from types import TracebackType

from watcher.errors import WatcherError
from watcher.store.opening import opening_error
from watcher.store.space import is_disk_full


class DatabaseInUse(WatcherError):
    """Another watcher process is polling into this database."""


class WriterLock:
    """Held by ``watcher run`` and ``watcher poll`` for as long as they write."""

    def __init__(self, database: str | Path, *, command: str) -> None:
        self.database = Path(database)
        self.path = self.database.with_name(self.database.name + ".lock")
        self.command = command
        self._fd: int | None = None

    def acquire(self) -> "WriterLock":
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a missing or read-only folder: one line, not a traceback
            raise opening_error(self.database, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise DatabaseInUse(
                f"{self.database} is in use by {holder}: stop it first, or use another --db"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"watcher {self.command} (pid {os.getpid()})\n".encode(), 0)
        except OSError as exc:  # a full disk: the lock is ours all the same
            if not is_disk_full(exc):
                os.close(fd)
                raise opening_error(self.database, exc) from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> "WriterLock":
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
