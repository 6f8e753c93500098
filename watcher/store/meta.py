"""Small facts about the running service: when its loop last turned (the health check)."""

from datetime import datetime

from watcher.store.db import Database
from watcher.store.schema import now_iso

HEARTBEAT = "heartbeat"


class Meta:
    """The ``meta`` table: one value per key."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def beat(self, now: datetime) -> None:
        """The run loop is alive at ``now``."""
        self.database.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [HEARTBEAT, now_iso(now)],
        )

    def last_beat(self) -> datetime | None:
        row = self.database.db.execute(
            "SELECT value FROM meta WHERE key = ?", [HEARTBEAT]
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row else None
