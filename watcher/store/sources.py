"""Sources' state between polls: validators, cursor, health, when to look again."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watcher.sources.base import SourceState
from watcher.store.db import Database
from watcher.store.schema import now_iso


@dataclass(frozen=True)
class SourceRecord:
    """What the store remembers of one source, read once at the start of its poll."""

    state: SourceState
    initialized: bool  # polled successfully at least once
    consecutive_errors: int
    next_check: datetime | None


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


class SourceTable:
    """The ``sources`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def row(self, source_id: str) -> dict[str, Any] | None:
        rows = list(self.database.db.query("SELECT * FROM sources WHERE id = ?", [source_id]))
        return rows[0] if rows else None

    def record(self, source_id: str) -> SourceRecord:
        row = self.row(source_id)
        if row is None:
            return SourceRecord(SourceState(), False, 0, None)
        state = SourceState(
            row["etag"], row["last_modified"], row["content_hash"], json.loads(row["cursor"])
        )
        next_check = datetime.fromisoformat(row["next_check"]) if row["next_check"] else None
        return SourceRecord(
            state, bool(row["initialized"]), int(row["consecutive_errors"]), next_check
        )

    def backoffs(self) -> dict[str, datetime]:
        """When each source backing off after errors is next due (kept across a restart)."""
        rows = self.database.db.execute(
            "SELECT id, next_check FROM sources "
            "WHERE consecutive_errors > 0 AND next_check IS NOT NULL"
        )
        return {source_id: datetime.fromisoformat(at) for source_id, at in rows}

    def statuses(self, source_ids: Sequence[str]) -> list[SourceStatus]:
        """Every source's health in three queries, whatever the number of items."""
        db = self.database.db
        rows = {row["id"]: row for row in db.query("SELECT * FROM sources")}
        items = dict(
            db.execute("SELECT source_id, COUNT(*) FROM items GROUP BY source_id").fetchall()
        )
        sent = dict(
            db.execute(
                """SELECT items.source_id, COUNT(*) FROM alerts
                   JOIN items ON items.id = alerts.item_id
                   WHERE alerts.status = 'sent' GROUP BY items.source_id"""
            ).fetchall()
        )
        result = []
        for source_id in source_ids:
            row = rows.get(source_id, {})
            result.append(
                SourceStatus(
                    id=source_id,
                    last_success=row.get("last_success"),
                    last_error=row.get("last_error"),
                    last_error_at=row.get("last_error_at"),
                    consecutive_errors=int(row.get("consecutive_errors") or 0),
                    next_check=row.get("next_check"),
                    items_seen=int(items.get(source_id, 0)),
                    alerts_sent=int(sent.get(source_id, 0)),
                )
            )
        return result


def save_success(
    db: Any,
    source_id: str,
    state: SourceState,
    *,
    now: datetime,
    next_check: datetime,
    warning: str | None,
) -> None:
    """Inside a poll's transaction: the source answered."""
    db.execute("INSERT OR IGNORE INTO sources (id) VALUES (?)", [source_id])
    db.execute(
        """UPDATE sources SET etag = ?, last_modified = ?, content_hash = ?, cursor = ?,
           initialized = 1, last_attempt = ?, last_success = ?, consecutive_errors = 0,
           next_check = ?, last_error = COALESCE(?, last_error),
           last_error_at = CASE WHEN ? IS NULL THEN last_error_at ELSE ? END
           WHERE id = ?""",
        [
            state.etag,
            state.last_modified,
            state.content_hash,
            json.dumps(dict(state.cursor)),
            now_iso(now),
            now_iso(now),
            now_iso(next_check),
            warning,
            warning,
            now_iso(now),
            source_id,
        ],
    )


def save_failure(
    db: Any, source_id: str, error: str, *, now: datetime, next_check: datetime
) -> None:
    """Inside a poll's transaction: the source failed (one more consecutive error)."""
    db.execute("INSERT OR IGNORE INTO sources (id) VALUES (?)", [source_id])
    db.execute(
        """UPDATE sources SET last_attempt = ?, last_error = ?, last_error_at = ?,
           consecutive_errors = consecutive_errors + 1, next_check = ? WHERE id = ?""",
        [now_iso(now), error, now_iso(now), now_iso(next_check), source_id],
    )
