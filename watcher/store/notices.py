"""The notices outbox: messages that are not alerts, delivered like them.

A new topic announced to every chat, a notice for the maintainers, the weekly
report: each is a row per destination, pending until its target took it, so a
crash or an outage loses none and a restart sends none twice (``key`` is unique
per destination: queuing the same notice again is a no-op).
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from watcher.store.db import Database
from watcher.store.schema import now_iso


@dataclass(frozen=True)
class Notice:
    id: int
    target: str
    destination: str
    text: str  # Telegram HTML
    buttons: tuple[tuple[str, str], ...]  # (label, callback data), one per row
    attempts: int


class Notices:
    """The ``notices`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def queue(
        self,
        target: str,
        destinations: Iterable[str],
        key: str,
        text: str,
        buttons: Sequence[tuple[str, str]] = (),
        *,
        now: datetime | None = None,
    ) -> int:
        """Queue one notice for each destination; how many were new."""
        with self.database.transaction() as db:
            cursor = db.conn.executemany(
                """INSERT OR IGNORE INTO notices (key, target, destination, text, buttons, created)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [
                    (key, target, d, text, json.dumps(list(buttons)), now_iso(now))
                    for d in destinations
                ],
            )
            return int(cursor.rowcount)

    def due(self, target: str, *, now: datetime, limit: int = 500) -> list[Notice]:
        rows = self.database.db.execute(
            """SELECT id, target, destination, text, buttons, attempts FROM notices
               WHERE target = ? AND status = 'pending'
                 AND (next_attempt IS NULL OR next_attempt <= ?)
               ORDER BY id LIMIT ?""",
            [target, now_iso(now), limit],
        )
        return [
            Notice(id_, t, d, text, tuple(tuple(b) for b in json.loads(buttons)), attempts)
            for id_, t, d, text, buttons, attempts in rows
        ]

    def sent(self, notice_id: int, *, now: datetime) -> None:
        self.database.db.execute(
            """UPDATE notices SET status = 'sent', sent_at = ?, attempts = attempts + 1
               WHERE id = ?""",
            [now_iso(now), notice_id],
        )

    def retry(self, notice_id: int, error: str, *, at: datetime) -> None:
        self.database.db.execute(
            """UPDATE notices SET attempts = attempts + 1, last_error = ?, next_attempt = ?
               WHERE id = ?""",
            [error, now_iso(at), notice_id],
        )

    def defer(self, target: str, destination: str, *, until: datetime) -> None:
        self.database.db.execute(
            """UPDATE notices SET next_attempt = ? WHERE target = ? AND destination = ?
               AND status = 'pending'""",
            [now_iso(until), target, destination],
        )

    def end(self, notice_id: int, status: str, reason: str) -> None:
        """``gone`` (the chat refuses the bot) or ``refused`` (this message, for good)."""
        self.database.db.execute(
            "UPDATE notices SET status = ?, last_error = ? WHERE id = ?",
            [status, reason, notice_id],
        )

    def move(self, old: str, new: str) -> None:
        self.database.db.execute(
            """UPDATE OR IGNORE notices SET destination = ?
               WHERE destination = ? AND status = 'pending'""",
            [new, old],
        )
