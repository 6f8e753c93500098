"""The alert outbox: one row per item and destination, pending until delivered.

An alert leaves the outbox (``sent``) only after Telegram, or the console, took
it; until then a crash or a restart loses nothing.
"""

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database as SqliteUtilsDatabase

from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.routing import CONSOLE
from watcher.schema import item_from_row, match_from_row, now_iso

if TYPE_CHECKING:
    from watcher.store.db import Database


@dataclass(frozen=True)
class PendingAlert:
    """An alert of the outbox with what rendering it needs."""

    id: int
    destination: str
    attempts: int
    item: Item
    matches: tuple[TopicMatch, ...]
    source_name: str = ""


class Outbox:
    """The ``alerts`` table."""

    def __init__(self, database: "Database") -> None:
        self.database = database

    @property
    def db(self) -> SqliteUtilsDatabase:
        return self.database.db

    def transaction(self) -> AbstractContextManager[SqliteUtilsDatabase]:
        return self.database.transaction()

    def matches_of(self, item_id: int) -> list[TopicMatch]:
        rows = self.db.query("SELECT * FROM matches WHERE item_id = ? ORDER BY topic", [item_id])
        return [match_from_row(row) for row in rows]

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
            item=item_from_row(row),
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
