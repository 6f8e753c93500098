"""The alert outbox: one row per item and destination, pending until delivered.

An alert leaves the outbox (``sent``) only after its target took it; until then
a crash or a restart loses nothing. Each row names its ``target`` (the registry
name in ``delivery.targets``) and its ``destination`` there, so no SQL here knows
a target. Transient errors keep an alert pending for as long as it takes; only a
permanent answer ends it: ``gone`` (the chat refuses everything) or ``refused``
(this message, even as plain text). ``dropped`` is a subscriber's own /stop.
"""

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database as SqliteUtilsDatabase

from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.store.schema import item_from_row, match_from_row, now_iso

if TYPE_CHECKING:
    from watcher.store.db import Database

# Statuses that end an alert without delivery, as counted by ``failure_counts``.
FAILURES = {"gone": "chat_gone", "refused": "refused", "failed": "failed"}

_ALERT_COLUMNS = """alerts.id AS alert_id, alerts.target, alerts.destination, alerts.attempts,
    alerts.topics, alerts.created AS alert_created, alerts.reason, alerts.item_id"""


@dataclass(frozen=True)
class PendingAlert:
    """An alert of the outbox with what rendering it needs."""

    id: int
    destination: str
    attempts: int
    item: Item
    matches: tuple[TopicMatch, ...]
    target: str = "telegram"
    created: datetime | None = None
    reason: str = "new"  # why: "new", "update" (the document changed), "follow-up"


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

    def due_by_destination(
        self,
        target: str,
        *,
        now: datetime,
        skip: Sequence[str] = (),
        destinations: int = 200,
        per_destination: int = 500,
        horizon: datetime | None = None,
    ) -> list[PendingAlert]:
        """A target's due alerts for its ``destinations`` longest-waiting destinations,
        every alert of each (up to ``per_destination``), oldest first.

        Reliability: whole destinations keep each chat's burst together whatever the
        outbox holds ("the first N due alerts" cut a fan-out to 10,000 chats into one
        alert per chat). ``skip``: destinations held back for now (429).
        ``horizon``: a wait stored past it cannot be one watcher set (the wall clock
        stepped back since): it is due now, so no clock step holds an alert for a day.

        Order: an alert waiting out a retry or a 429 holds its destination's later
        alerts, so none overtakes it; other destinations are not held.
        """
        due = """target = :target AND status = 'pending'
            AND (next_attempt IS NULL OR next_attempt <= :now OR next_attempt > :horizon)
            AND (first_waiting IS NULL OR alerts.id < first_waiting)"""
        # Two passes over the pending alerts, nothing materialised (2 million pending: a
        # batch in seconds, not a minute).
        rows = self.db.query(
            f"""WITH waiting AS (
                    SELECT destination, MIN(id) AS first_waiting FROM alerts
                    WHERE target = :target AND status = 'pending'
                      AND next_attempt > :now AND next_attempt <= :horizon
                    GROUP BY destination
                ), chats AS (
                    SELECT destination FROM alerts LEFT JOIN waiting USING (destination)
                    WHERE {due} AND destination NOT IN (SELECT value FROM json_each(:skip))
                    GROUP BY destination ORDER BY MIN(alerts.id) LIMIT :destinations
                )
                SELECT {_ALERT_COLUMNS} FROM alerts LEFT JOIN waiting USING (destination)
                WHERE {due} AND alerts.destination IN chats ORDER BY alerts.id""",
            {
                "target": target,
                "now": now_iso(now),
                "horizon": now_iso(horizon) if horizon else "9999",
                "skip": json.dumps(list(skip)),
                "destinations": destinations,
            },
        )
        alerts = _first_per_destination(rows, per_destination)
        # A fan-out's few items are read once each, not once per alert (an item purged
        # since the first read leaves its alerts to the next read).
        items = self._items({row["item_id"] for row in alerts})
        return [self._alert(row, *items[r]) for row in alerts if (r := row["item_id"]) in items]

    def _items(self, ids: set[int]) -> dict[int, tuple[Item, list[TopicMatch]]]:
        rows = self.db.query(
            "SELECT * FROM items WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted(ids))],
        )
        return {row["id"]: (item_from_row(row), self.matches_of(row["id"])) for row in rows}

    def pending_for(self, target: str, destination: str) -> list[PendingAlert]:
        """Every pending alert of one destination, oldest first (for its digest)."""
        rows = self.db.query(
            f"""SELECT {_ALERT_COLUMNS}, items.* FROM alerts JOIN items ON items.id = alerts.item_id
                WHERE alerts.target = ? AND alerts.destination = ? AND alerts.status = 'pending'
                ORDER BY alerts.id""",
            [target, destination],
        )
        return [self._alert(row, item_from_row(row), self.matches_of(row["id"])) for row in rows]

    @staticmethod
    def _alert(row: dict[str, Any], item: Item, found: list[TopicMatch]) -> PendingAlert:
        topics = json.loads(row["topics"])
        return PendingAlert(
            id=row["alert_id"],
            target=row["target"],
            destination=row["destination"],
            attempts=row["attempts"],
            item=item,
            matches=tuple(m for m in found if m.topic in topics),
            created=datetime.fromisoformat(row["alert_created"]),
            reason=row["reason"],
        )

    def next_attempt_due(self, target: str, *, after: datetime) -> datetime | None:
        """When the earliest alert of a target deferred past ``after`` becomes due, if any."""
        row = self.db.execute(
            """SELECT MIN(next_attempt) FROM alerts WHERE target = ? AND status = 'pending'
               AND next_attempt > ?""",
            [target, now_iso(after)],
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    # -- outcomes ------------------------------------------------------------------

    def record_sent(
        self, alert_ids: Sequence[int], *, now: datetime, message_id: int | None = None
    ) -> None:
        """The target took the message carrying these alerts (its id there, if any)."""
        with self.transaction() as db:
            db.conn.executemany(
                """UPDATE alerts SET status = 'sent', sent_at = ?, attempts = attempts + 1,
                   message_id = ?, next_attempt = NULL WHERE id = ?""",
                [(now_iso(now), message_id, alert_id) for alert_id in alert_ids],
            )

    def mark_retry(self, alert_ids: Sequence[int], error: str, *, next_attempt: datetime) -> None:
        """A transient error: the alerts stay pending, one more attempt counted."""
        with self.transaction() as db:
            db.conn.executemany(
                """UPDATE alerts SET attempts = attempts + 1, last_error = ?, next_attempt = ?
                   WHERE id = ? AND status = 'pending'""",
                [(error, now_iso(next_attempt), alert_id) for alert_id in alert_ids],
            )

    def mark_refused(self, alert_ids: Sequence[int], reason: str) -> None:
        """The target refused these alerts for good, even as plain text."""
        with self.transaction() as db:
            db.conn.executemany(
                """UPDATE alerts SET status = 'refused', attempts = attempts + 1, last_error = ?
                   WHERE id = ?""",
                [(reason, alert_id) for alert_id in alert_ids],
            )

    def defer(self, alert_ids: Sequence[int], *, until: datetime) -> None:
        """Hold these alerts until ``until`` (a 429's retry_after), no attempt counted;
        their destination's later alerts wait behind them (``due_by_destination``)."""
        with self.transaction() as db:
            db.conn.executemany(
                """UPDATE alerts SET next_attempt = ? WHERE id = ? AND status = 'pending'
                   AND (next_attempt IS NULL OR next_attempt < ?)""",
                [(now_iso(until), alert_id, now_iso(until)) for alert_id in alert_ids],
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

    def drop_pending(self, destination: str, reason: str, *, status: str = "gone") -> int:
        """End every pending alert of a destination: ``gone`` (it refuses messages) or
        ``dropped`` (it unsubscribed)."""
        cursor = self.db.execute(
            """UPDATE alerts SET status = ?, last_error = ?
               WHERE destination = ? AND status = 'pending'""",
            [status, reason, destination],
        )
        return cursor.rowcount

    def first_notice(self, kind: str, destination: str, *, now: datetime) -> bool:
        """True the first time a failure of this kind is met for this destination, ever:
        maintainers hear of it once, not once per alert."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO delivery_notices (kind, destination, at) VALUES (?,?,?)",
            [kind, destination, now_iso(now)],
        )
        return cursor.rowcount == 1

    # Reliability: a chat that moved (a group become a supergroup) is remembered: alerts
    # still routed to its old id (a feeds.yml channel) go to the new one, not refused.
    def record_move(self, old: str, new: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [f"chat_moved:{old}", new]
        )

    def moves(self) -> dict[str, str]:
        """Every recorded move: old destination -> new one."""
        rows = self.db.execute("SELECT key, value FROM meta WHERE key LIKE 'chat_moved:%'")
        return {key.removeprefix("chat_moved:"): value for key, value in rows}

    # -- reading -------------------------------------------------------------------

    def message_id_of(self, item_id: int, destination: str) -> int | None:
        """The target's id of the message that carried this item there (to reply to it)."""
        row = self.db.execute(
            "SELECT message_id FROM alerts WHERE item_id = ? AND destination = ?",
            [item_id, destination],
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def reply_target(self, dossier: str, destination: str) -> int | None:
        """The id of the first message that told this destination about this dossier:
        every later step answers it, so the dossier reads as one thread."""
        row = self.db.execute(
            """SELECT alerts.message_id FROM alerts JOIN items ON items.id = alerts.item_id
               WHERE items.dossier = ? AND alerts.destination = ? AND alerts.status = 'sent'
                 AND alerts.message_id IS NOT NULL
               ORDER BY alerts.sent_at, alerts.id LIMIT 1""",
            [dossier, destination],
        ).fetchone()
        return int(row[0]) if row else None

    def outbox_length(self) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM alerts WHERE status = 'pending'").fetchone()
        return int(row[0])

    def alert_counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM alerts GROUP BY status"))

    def failure_counts(self) -> dict[str, int]:
        """Alerts ended by a permanent failure, by kind: chat_gone, refused (and the
        legacy ``failed`` of older versions, when there are any)."""
        counts = {"chat_gone": 0, "refused": 0}
        marks = ",".join("?" * len(FAILURES))
        rows = self.db.execute(
            f"SELECT status, COUNT(*) FROM alerts WHERE status IN ({marks}) GROUP BY status",
            list(FAILURES),
        )
        counts.update({FAILURES[status]: count for status, count in rows})
        return counts

    def target_counts(self) -> dict[str, dict[str, int]]:
        """Alerts per target and status (``watcher status``: each target's outcomes)."""
        counts: dict[str, dict[str, int]] = {}
        rows = self.db.execute("SELECT target, status, COUNT(*) FROM alerts GROUP BY 1, 2")
        for target, status, count in rows:
            counts.setdefault(target, {})[status] = count
        return counts


def _first_per_destination(rows: Iterable[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows of each destination (a chat's backlog comes in parts)."""
    kept: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for row in rows:
        if counts[row["destination"]] < limit:
            counts[row["destination"]] += 1
            kept.append(row)
    return kept
