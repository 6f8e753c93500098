"""Opening the database file: every problem with its folder or its file said in one line.

A missing or read-only folder, a full disk, an empty (0-byte) or unreadable file,
a file that is not SQLite, a schema newer than this watcher knows: each is one
``WatcherError`` naming the path and what to do, raised before anything is
written. An empty file is refused rather than silently made a new database: it
is usually a database lost to a bad copy or a full disk, and watcher starting
afresh on it would alert its whole backlog again and forget the subscribers.
"""

import contextlib
import errno
import os
import sqlite3
import threading
from pathlib import Path

from watcher.errors import WatcherError
from watcher.store.space import full_error, is_disk_full

SQLITE_HEADER = b"SQLite format 3\0"


class DatabaseFileError(WatcherError):
    """The database file or its folder cannot be used as it is."""


def check_database_path(path: str | Path) -> None:
    """Refuse, in one line, a database path that cannot be opened as it is."""
    if str(path) == ":memory:":
        return
    path = Path(path)
    folder = path.resolve().parent
    if not folder.is_dir():
        raise DatabaseFileError(
            f"{path}: the folder {folder} does not exist; create it, or pass --db PATH"
        )
    if not path.exists():
        if not os.access(folder, os.W_OK):
            raise read_only(path)
        return
    if path.is_dir():
        raise DatabaseFileError(f"{path}: is a folder, not a database file; pass --db PATH")
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseFileError(
            f"{path}: cannot be read ({exc.strerror}); give watcher's user read and write "
            "access to it"
        ) from None
    if not header:
        raise DatabaseFileError(
            f"{path}: the file is empty (0 bytes), not a watcher database; restore it from "
            "a backup, or delete it to start afresh (the backlog is then seen again as new)"
        )
    if header != SQLITE_HEADER:
        raise not_a_database(path, "file is not a database")


def create_database_file(path: str | Path) -> None:
    """Make a new, valid, empty SQLite file at ``path`` in one step (if none is there).

    The file is made beside it and linked into place, so that another process
    opening the same new path never sees it empty (which it would refuse).
    """
    path = Path(path)
    if str(path) == ":memory:" or path.exists():
        return
    fresh = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    try:
        connection = sqlite3.connect(fresh)
        try:
            connection.execute("PRAGMA journal_mode = WAL")  # writes the file's header
        finally:
            connection.close()
        with contextlib.suppress(FileExistsError):  # another process was first: theirs
            os.link(fresh, path)
    finally:
        for leftover in (fresh, Path(f"{fresh}-wal"), Path(f"{fresh}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def read_only(path: str | Path) -> DatabaseFileError:
    folder = Path(path).resolve().parent
    return DatabaseFileError(
        f"{path}: the folder {folder} is read-only; watcher writes its database, "
        "journal and lock file there: make it writable, or pass --db PATH"
    )


def not_a_database(path: str | Path, detail: str) -> DatabaseFileError:
    return DatabaseFileError(
        f"{path}: not a usable SQLite database ({detail}); restore it from a backup, "
        "or pass --db PATH"
    )


def opening_error(path: str | Path, exc: BaseException) -> WatcherError:
    """What an error met while opening or migrating the database means, in one line."""
    if is_disk_full(exc):
        return full_error(path, exc)
    if isinstance(exc, OSError):
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return read_only(path)
        if exc.errno == errno.ENOENT:
            folder = Path(path).resolve().parent
            return DatabaseFileError(
                f"{path}: the folder {folder} does not exist; create it, or pass --db PATH"
            )
        return DatabaseFileError(f"{path}: {exc.strerror or exc}")
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return read_only(path)
    if "unable to open" in text:
        return DatabaseFileError(
            f"{path}: cannot be opened ({text}); check that its folder exists and that "
            "watcher may write there"
        )
    return not_a_database(path, text)


def newer_schema(path: str | Path, found: int, known: int) -> DatabaseFileError:
    return DatabaseFileError(
        f"{path}: written by a newer watcher (schema version {found}; this one knows up to "
        f"{known}); run the newer watcher, or restore a backup made by this version"
    )


def integrity_problem(conn: sqlite3.Connection) -> str | None:
    """The first problem ``PRAGMA quick_check`` finds, None when the file is sound.

    quick_check is integrity_check without the index-content comparison: it reads
    every page once, so it costs a start-up a fraction of a second per 100 MB.
    """
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    first = str(rows[0][0]) if rows else "no answer"
    if first == "ok":
        return None
    # "*** in database main ***\nPage 11: btreeInitPage() returns error code 11": one line.
    return " ".join(line for line in first.splitlines() if not line.startswith("***"))
