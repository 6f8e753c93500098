"""The SQLite store: sources' state, items and their matches (the outbox is in ``outbox``).

One file in WAL mode, schema created and migrated at start-up by numbered
migrations. An item, its matches and its pending alerts are written in one
transaction, so a crash leaves either all of them or none. Each thread gets its
own connection (the poller runs in worker threads, the bot in the event loop).
"""

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from watcher.errors import WatcherError
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.matching.excerpt import Excerpt
from watcher.outbox import Outbox, PendingAlert
from watcher.routing import Route
from watcher.schema import MIGRATIONS, item_from_row, match_from_row, now_iso
from watcher.sources.base import SourceState

__all__ = ["PendingAlert", "SourceStatus", "Store", "now_iso"]


@dataclass(frozen=True)
class SourceStatus:
    """A source's health, as ``watcher status`` and /statut show it."""

    id: str
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    consecutive_errors: int
    next_check: str | None
    items_seen: int
    alerts_sent: int


class Store(Outbox):
    """All of watcher's persistent state."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        try:
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise WatcherError(f"{self.path}: not a usable SQLite database ({exc})") from None

    @property
    def db(self) -> Database:
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA busy_timeout = 30000")
            db = Database(conn)
            self._local.db = db
        return db

    def close(self) -> None:
        db: Database | None = getattr(self._local, "db", None)
        if db is not None:
            db.conn.close()
            self._local.db = None

    def _migrate(self) -> None:
        db = self.db
        if self.path != ":memory:":
            db.enable_wal()
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = row[0] or 0
        for version, script in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            with db.atomic():
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO schema_version (version) VALUES (?)", [version])

    @contextmanager
    def transaction(self) -> Iterator[Database]:
        with self.db.atomic():
            yield self.db

    # -- sources -------------------------------------------------------------

    def source_row(self, source_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM sources WHERE id = ?", [source_id]))
        return rows[0] if rows else None

    def source_state(self, source_id: str) -> tuple[SourceState, bool]:
        """The source's validators and cursor, and whether it was ever polled successfully."""
        row = self.source_row(source_id)
        if row is None:
            return SourceState(), False
        state = SourceState(
            row["etag"], row["last_modified"], row["content_hash"], json.loads(row["cursor"])
        )
        return state, bool(row["initialized"])

    def _ensure_source(self, source_id: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO sources (id) VALUES (?)", [source_id])

    def record_success(
        self, source_id: str, state: SourceState, *, now: datetime, next_check: datetime
    ) -> None:
        with self.transaction() as db:
            self._ensure_source(source_id)
            db.execute(
                """UPDATE sources SET etag = ?, last_modified = ?, content_hash = ?, cursor = ?,
                   initialized = 1, last_attempt = ?, last_success = ?, consecutive_errors = 0,
                   next_check = ? WHERE id = ?""",
                [
                    state.etag,
                    state.last_modified,
                    state.content_hash,
                    json.dumps(dict(state.cursor)),
                    now_iso(now),
                    now_iso(now),
                    now_iso(next_check),
                    source_id,
                ],
            )

    def record_failure(
        self, source_id: str, error: str, *, now: datetime, next_check: datetime
    ) -> None:
        """Record an error on a source (its consecutive errors count one more)."""
        with self.transaction() as db:
            self._ensure_source(source_id)
            db.execute(
                """UPDATE sources SET last_attempt = ?, last_error = ?, last_error_at = ?,
                   consecutive_errors = consecutive_errors + 1, next_check = ? WHERE id = ?""",
                [now_iso(now), error, now_iso(now), now_iso(next_check), source_id],
            )

    def record_warning(self, source_id: str, warning: str, *, now: datetime) -> None:
        """A partial failure (a document that could not be read): shown, not counted."""
        self._ensure_source(source_id)
        self.db.execute(
            "UPDATE sources SET last_error = ?, last_error_at = ? WHERE id = ?",
            [warning, now_iso(now), source_id],
        )

    def consecutive_errors(self, source_id: str) -> int:
        row = self.source_row(source_id)
        return int(row["consecutive_errors"]) if row else 0

    def statuses(self, source_ids: Sequence[str]) -> list[SourceStatus]:
        result = []
        for source_id in source_ids:
            row = self.source_row(source_id) or {}
            counts = self.db.execute(
                """SELECT (SELECT COUNT(*) FROM items WHERE source_id = ?),
                          (SELECT COUNT(*) FROM alerts JOIN items ON items.id = alerts.item_id
                           WHERE items.source_id = ? AND alerts.status = 'sent')""",
                [source_id, source_id],
            ).fetchone()
            result.append(
                SourceStatus(
                    id=source_id,
                    last_success=row.get("last_success"),
                    last_error=row.get("last_error"),
                    last_error_at=row.get("last_error_at"),
                    consecutive_errors=int(row.get("consecutive_errors") or 0),
                    next_check=row.get("next_check"),
                    items_seen=counts[0],
                    alerts_sent=counts[1],
                )
            )
        return result

    # -- items, matches, alerts -------------------------------------------------

    def known_keys(self, source_id: str, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        known: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT key FROM items WHERE source_id = ? AND key IN ({marks})",
                [source_id, *chunk],
            )
            known.update(row[0] for row in rows)
        return known

    def add_item(
        self,
        item: Item,
        matches: Sequence[TopicMatch],
        routes: Sequence[Route],
        *,
        now: datetime,
    ) -> int | None:
        """Store a new item with its matches and one pending alert per route.

        Returns the item id, or None when the item was already stored.
        """
        with self.transaction() as db:
            cursor = db.execute(
                """INSERT OR IGNORE INTO items (source_id, key, title, url, published, summary,
                   body, kind, schedule, first_seen) VALUES (?,?,?,?,?,?,?,?,?,?)""",
                [
                    item.source_id,
                    item.key,
                    item.title,
                    item.url,
                    now_iso(item.published) if item.published else None,
                    item.summary,
                    # Full texts are kept for matched items only: the others are needed
                    # for identity, not for search or alerts, and would grow the file fast.
                    item.body if matches else "",
                    item.kind,
                    item.schedule,
                    now_iso(now),
                ],
            )
            if cursor.rowcount == 0:
                return None
            item_id = int(cursor.lastrowid or 0)
            for match in matches:
                excerpt = match.excerpt or Excerpt("", 0, 0)
                db.execute(
                    """INSERT INTO matches (item_id, topic, keywords, excerpt, hit_start, hit_end,
                       words) VALUES (?,?,?,?,?,?,?)""",
                    [
                        item_id,
                        match.topic,
                        json.dumps(list(match.keywords), ensure_ascii=False),
                        excerpt.text,
                        excerpt.hit_start,
                        excerpt.hit_end,
                        json.dumps(list(match.words), ensure_ascii=False),
                    ],
                )
            for route in routes:
                db.execute(
                    """INSERT OR IGNORE INTO alerts (item_id, target, destination, topics, created)
                       VALUES (?,?,?,?,?)""",
                    [
                        item_id,
                        route.target,
                        route.destination,
                        json.dumps(list(route.topics)),
                        now_iso(now),
                    ],
                )
        return item_id

    def matches_of(self, item_id: int) -> list[TopicMatch]:
        rows = self.db.query("SELECT * FROM matches WHERE item_id = ? ORDER BY topic", [item_id])
        return [match_from_row(row) for row in rows]

    def recent_matches(
        self, *, topics: Sequence[str], limit: int, search: str | None = None
    ) -> list[tuple[Item, list[TopicMatch]]]:
        """Latest matched items of some topics, newest first, optionally filtered by words."""
        if not topics:
            return []
        marks = ",".join("?" * len(topics))
        params: list[Any] = list(topics)
        condition = ""
        if search:
            for word in search.split():
                condition += (
                    " AND (items.title LIKE ? OR items.summary LIKE ? OR items.body LIKE ?)"
                )
                params.extend([f"%{word}%"] * 3)
        params.append(limit)
        rows = list(
            self.db.query(
                f"""SELECT DISTINCT items.* FROM items JOIN matches ON matches.item_id = items.id
                    WHERE matches.topic IN ({marks}) {condition}
                    ORDER BY items.id DESC LIMIT ?""",
                params,
            )
        )
        return [
            (item_from_row(row), [m for m in self.matches_of(row["id"]) if m.topic in topics])
            for row in rows
        ]

    def count(self, table: str) -> int:
        if table not in ("items", "matches", "alerts", "subscribers", "sources"):
            raise ValueError(table)
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
