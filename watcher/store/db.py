"""The SQLite database: one file in WAL mode, a connection per thread, migrations.

Schema changes are numbered migrations (``watcher.store.schema``) applied at start-up
under SQLite's exclusive lock, so two processes starting on a new file at the
same moment migrate it once: the second waits, then finds the work done.
"""

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database as SqliteUtilsDatabase

from watcher.store.opening import (
    check_database_path,
    create_database_file,
    integrity_problem,
    newer_schema,
    opening_error,
)
from watcher.store.schema import MIGRATIONS

BUSY_TIMEOUT_MS = 30_000
CACHE_KIB = 512


class Database:
    """The connections to one SQLite file; each thread gets its own."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        # SQLite lets one writer in at a time and makes the others sleep and retry
        # (1, 2, 5... 100 ms): threads of this process queue here instead, so 32
        # polls saving at once cost their transactions, not the busy handler's naps.
        self._write = threading.RLock()
        # Reliability: a folder or file problem is one line saying what to do, found
        # before SQLite would create, re-initialise or half-migrate anything.
        check_database_path(self.path)
        try:
            create_database_file(self.path)
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise opening_error(self.path, exc) from None

    @property
    def db(self) -> SqliteUtilsDatabase:
        db: SqliteUtilsDatabase | None = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Reliability (memory): every poll thread has its own connection, and each
            # page cache filled up to SQLite's default 2 MiB over hours, which a soak
            # read as growth. 512 KiB each; the OS caches the file for all of them.
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            db = SqliteUtilsDatabase(conn)
            self._local.db = db
        return db

    def close(self) -> None:
        """Close this thread's connection (others close their own)."""
        db: SqliteUtilsDatabase | None = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None

    @contextmanager
    def transaction(self) -> Iterator[SqliteUtilsDatabase]:
        db = self.db
        if db.conn.in_transaction:  # nested: a savepoint
            with db.atomic():
                yield db
            return
        # IMMEDIATE: take the write lock at BEGIN. A deferred transaction that reads
        # first (the FTS5 index reads its configuration when a statement on ``items``
        # is prepared) cannot upgrade once another writer committed: "database is
        # locked" at once, without waiting on the busy timeout.
        with self._write:
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
            else:
                db.conn.execute("COMMIT")

    def _migrate(self) -> None:
        conn = self.db.conn
        if self.path != ":memory:":
            self._enable_wal(conn)
        # BEGIN EXCLUSIVE: whoever starts first migrates; a second process waits on
        # the busy timeout, then reads the new version and has nothing to do.
        conn.isolation_level = None
        try:
            conn.execute("BEGIN EXCLUSIVE")
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
                current = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                if (current or 0) > len(MIGRATIONS):
                    raise newer_schema(self.path, current, len(MIGRATIONS))
                for version, script in enumerate(MIGRATIONS, start=1):
                    if version <= (current or 0):
                        continue
                    for statement in _statements(script):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.isolation_level = "DEFERRED"

    @staticmethod
    def _enable_wal(conn: sqlite3.Connection) -> None:
        # Switching a new file to WAL needs a moment alone with it, and SQLite may answer
        # "locked" without waiting while another process does the same: try again.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def integrity_problem(self) -> str | None:
        """What SQLite's quick_check finds wrong with the file, None when it is sound."""
        return integrity_problem(self.db.conn)

    @property
    def schema_version(self) -> int:
        row = self.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        return int(row[0] or 0)


def _statements(script: str) -> list[str]:
    """A migration's statements; a trigger's body holds ``;`` and stays whole."""
    statements, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending)
            pending = ""
    return statements
