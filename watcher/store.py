"""The SQLite store: sources' state, items, matches, the alert outbox, subscribers.

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from watcher.errors import WatcherError
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.matching.excerpt import Excerpt
from watcher.routing import CONSOLE
from watcher.sources.base import SourceState

MIGRATIONS: tuple[str, ...] = (
    # 1: the foundation.
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        etag TEXT, last_modified TEXT, content_hash TEXT, cursor TEXT NOT NULL DEFAULT '{}',
        initialized INTEGER NOT NULL DEFAULT 0,
        last_attempt TEXT, last_success TEXT, last_error TEXT, last_error_at TEXT,
        consecutive_errors INTEGER NOT NULL DEFAULT 0,
        next_check TEXT
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL, key TEXT NOT NULL,
        title TEXT NOT NULL, url TEXT, published TEXT,
        summary TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT '', schedule TEXT NOT NULL DEFAULT '',
        first_seen TEXT NOT NULL,
        UNIQUE (source_id, key)
    );
    CREATE TABLE matches (
        item_id INTEGER NOT NULL REFERENCES items(id),
        topic TEXT NOT NULL,
        keywords TEXT NOT NULL,
        excerpt TEXT NOT NULL DEFAULT '', hit_start INTEGER NOT NULL DEFAULT 0,
        hit_end INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (item_id, topic)
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        destination TEXT NOT NULL,
        topics TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt TEXT,
        created TEXT NOT NULL, sent_at TEXT,
        UNIQUE (item_id, destination)
    );
    CREATE INDEX alerts_pending ON alerts (status, next_attempt);
    CREATE TABLE subscribers (
        chat_id INTEGER PRIMARY KEY,
        chat_type TEXT NOT NULL DEFAULT 'private',
        active INTEGER NOT NULL DEFAULT 1,
        paused INTEGER NOT NULL DEFAULT 0,
        digest INTEGER NOT NULL DEFAULT 0,
        last_digest TEXT,
        created TEXT NOT NULL
    );
    CREATE TABLE subscriptions (
        chat_id INTEGER NOT NULL REFERENCES subscribers(chat_id),
        topic TEXT NOT NULL,
        PRIMARY KEY (chat_id, topic)
    );
    """,
)


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


@dataclass(frozen=True)
class PendingAlert:
    """An alert of the outbox with what rendering it needs."""

    id: int
    destination: str
    attempts: int
    item: Item
    matches: tuple[TopicMatch, ...]
    source_name: str = ""


def now_iso(moment: datetime | None = None) -> str:
    # One fixed precision, so that stored times compare correctly as text.
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")


class Store:
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
    ) -> int:
        """Record an error on a source; returns its number of consecutive errors."""
        with self.transaction() as db:
            self._ensure_source(source_id)
            db.execute(
                """UPDATE sources SET last_attempt = ?, last_error = ?, last_error_at = ?,
                   consecutive_errors = consecutive_errors + 1, next_check = ? WHERE id = ?""",
                [now_iso(now), error, now_iso(now), now_iso(next_check), source_id],
            )
            row = self.source_row(source_id)
        return int(row["consecutive_errors"]) if row else 1

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
        destinations: Sequence[tuple[str, Sequence[str]]],
        *,
        now: datetime,
    ) -> int | None:
        """Store a new item with its matches and one pending alert per destination.

        ``destinations`` pairs a destination with the topics it gets this item for.
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
                    item.body,
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
                    "INSERT INTO matches VALUES (?,?,?,?,?,?)",
                    [
                        item_id,
                        match.topic,
                        json.dumps(list(match.keywords), ensure_ascii=False),
                        excerpt.text,
                        excerpt.hit_start,
                        excerpt.hit_end,
                    ],
                )
            for destination, topics in destinations:
                db.execute(
                    """INSERT OR IGNORE INTO alerts (item_id, destination, topics, created)
                       VALUES (?,?,?,?)""",
                    [item_id, destination, json.dumps(list(topics)), now_iso(now)],
                )
        return item_id

    def pending_alerts(
        self, *, now: datetime, destinations: str = "telegram", limit: int = 500
    ) -> list[PendingAlert]:
        """Alerts due for delivery, oldest first: ``console`` ones or Telegram chats'."""
        where = "destination = 'console'" if destinations == CONSOLE else "destination != 'console'"
        rows = list(
            self.db.query(
                f"""SELECT alerts.id AS alert_id, alerts.destination, alerts.attempts,
                           alerts.topics, items.*
                    FROM alerts JOIN items ON items.id = alerts.item_id
                    WHERE alerts.status = 'pending' AND {where}
                      AND (alerts.next_attempt IS NULL OR alerts.next_attempt <= ?)
                    ORDER BY alerts.id LIMIT ?""",
                [now_iso(now), limit],
            )
        )
        return [self._pending(row) for row in rows]

    def _pending(self, row: dict[str, Any]) -> PendingAlert:
        topics = json.loads(row["topics"])
        return PendingAlert(
            id=row["alert_id"],
            destination=row["destination"],
            attempts=row["attempts"],
            item=_item_from_row(row),
            matches=tuple(m for m in self.matches_of(row["id"]) if m.topic in topics),
        )

    def pending_for(self, destination: str) -> list[PendingAlert]:
        """Every pending alert of one chat, oldest first (for its digest)."""
        rows = list(
            self.db.query(
                """SELECT alerts.id AS alert_id, alerts.destination, alerts.attempts,
                          alerts.topics, items.*
                   FROM alerts JOIN items ON items.id = alerts.item_id
                   WHERE alerts.status = 'pending' AND alerts.destination = ?
                   ORDER BY alerts.id""",
                [destination],
            )
        )
        return [self._pending(row) for row in rows]

    def mark_many_sent(self, alert_ids: Sequence[int], *, now: datetime | None = None) -> None:
        with self.transaction() as db:
            for alert_id in alert_ids:
                db.execute(
                    "UPDATE alerts SET status = 'sent', sent_at = ?, attempts = attempts + 1 "
                    "WHERE id = ?",
                    [now_iso(now), alert_id],
                )

    def matches_of(self, item_id: int) -> list[TopicMatch]:
        rows = self.db.query("SELECT * FROM matches WHERE item_id = ? ORDER BY topic", [item_id])
        return [_match_from_row(row) for row in rows]

    def mark_sent(self, alert_id: int, *, now: datetime) -> None:
        self.db.execute(
            "UPDATE alerts SET status = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ?",
            [now_iso(now), alert_id],
        )

    def mark_retry(self, alert_id: int, error: str, *, next_attempt: datetime) -> None:
        self.db.execute(
            """UPDATE alerts SET attempts = attempts + 1, last_error = ?, next_attempt = ?
               WHERE id = ?""",
            [error, now_iso(next_attempt), alert_id],
        )

    def mark_failed(self, alert_id: int, error: str) -> None:
        self.db.execute(
            "UPDATE alerts SET status = 'failed', attempts = attempts + 1, last_error = ? "
            "WHERE id = ?",
            [error, alert_id],
        )

    def defer_destination(self, destination: str, *, until: datetime) -> None:
        """Hold every pending alert of one chat until ``until`` (Telegram's retry_after)."""
        self.db.execute(
            """UPDATE alerts SET next_attempt = ? WHERE destination = ? AND status = 'pending'
               AND (next_attempt IS NULL OR next_attempt < ?)""",
            [now_iso(until), destination, now_iso(until)],
        )

    def move_destination(self, old: str, new: str) -> None:
        """A group became a supergroup: its pending alerts follow it."""
        with self.transaction() as db:
            db.execute(
                """UPDATE OR IGNORE alerts SET destination = ?
                   WHERE destination = ? AND status = 'pending'""",
                [new, old],
            )
            db.execute("DELETE FROM alerts WHERE destination = ? AND status = 'pending'", [old])

    def drop_pending(self, destination: str, reason: str) -> int:
        cursor = self.db.execute(
            """UPDATE alerts SET status = 'dropped', last_error = ?
               WHERE destination = ? AND status = 'pending'""",
            [reason, destination],
        )
        return cursor.rowcount

    def next_attempt_due(self) -> datetime | None:
        """When the earliest deferred Telegram alert becomes due, if any is waiting."""
        row = self.db.execute(
            """SELECT MIN(next_attempt) FROM alerts WHERE status = 'pending'
               AND destination != 'console' AND next_attempt IS NOT NULL"""
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def outbox_length(self) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM alerts WHERE status = 'pending'").fetchone()
        return int(row[0])

    def alert_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT status, COUNT(*) FROM alerts GROUP BY status")
        return {status: count for status, count in rows}

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
            (_item_from_row(row), [m for m in self.matches_of(row["id"]) if m.topic in topics])
            for row in rows
        ]

    def count(self, table: str) -> int:
        if table not in ("items", "matches", "alerts", "subscribers", "sources"):
            raise ValueError(table)
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _item_from_row(row: dict[str, Any]) -> Item:
    published = row.get("published")
    return Item(
        source_id=row["source_id"],
        key=row["key"],
        title=row["title"],
        url=row["url"],
        published=datetime.fromisoformat(published) if published else None,
        summary=row["summary"],
        body=row["body"],
        kind=row["kind"],
        schedule=row["schedule"],
    )


def _match_from_row(row: dict[str, Any]) -> TopicMatch:
    excerpt = Excerpt(row["excerpt"], row["hit_start"], row["hit_end"]) if row["excerpt"] else None
    return TopicMatch(row["topic"], row["topic"], tuple(json.loads(row["keywords"])), excerpt)
