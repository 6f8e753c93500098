"""The review queue: near misses held for a maintainer's 👍 / 👎, in the database.

A poll saves the near misses of its new items in its own transaction
(``save_held``); ``/revue`` and ``watcher review`` read the pending ones; a
label is recorded here and written by ``watcher.review`` into the labels file
that ``watcher backtest`` scores.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from watcher.items import Item
from watcher.matching.engine import NearMiss
from watcher.matching.excerpt import Excerpt
from watcher.store.schema import item_from_row, now_iso

if TYPE_CHECKING:
    from watcher.store.db import Database


@dataclass(frozen=True)
class ReviewEntry:
    """A held near miss, with its item."""

    id: int
    item: Item
    topic: str
    reasons: tuple[str, ...]
    excerpt: Excerpt | None
    created: str
    relevant: bool | None  # None until labelled


def save_held(db: Any, item_id: int, held: Sequence[NearMiss], *, now: datetime) -> None:
    """Inside a poll's transaction: queue an item's near misses (once per item and topic)."""
    for miss in held:
        excerpt = miss.excerpt
        db.execute(
            "INSERT OR IGNORE INTO review_queue (item_id, topic, reasons, excerpt, hit_start,"
            " hit_end, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                item_id,
                miss.topic,
                json.dumps(list(miss.reasons), ensure_ascii=False),
                excerpt.text if excerpt else "",
                excerpt.hit_start if excerpt else 0,
                excerpt.hit_end if excerpt else 0,
                now_iso(now),
            ],
        )


class ReviewQueue:
    """Reading and labelling the held near misses."""

    def __init__(self, database: "Database") -> None:
        self.database = database

    def pending(self, limit: int = 3) -> list[ReviewEntry]:
        """The oldest near misses not labelled yet."""
        return self._select("WHERE review_queue.relevant IS NULL ORDER BY review_queue.id", limit)

    def pending_count(self) -> int:
        row = self.database.db.execute(
            "SELECT COUNT(*) FROM review_queue WHERE relevant IS NULL"
        ).fetchone()
        return int(row[0])

    def get(self, entry_id: int) -> ReviewEntry | None:
        found = self._select(f"WHERE review_queue.id = {int(entry_id)}", 1)
        return found[0] if found else None

    def label(self, entry_id: int, *, relevant: bool, by: int | None, now: datetime) -> bool:
        """Record a maintainer's label; False when there is no such entry."""
        with self.database.transaction() as db:
            cursor = db.execute(
                "UPDATE review_queue SET relevant = ?, labelled_at = ?, labelled_by = ?"
                " WHERE id = ?",
                [int(relevant), now_iso(now), by, entry_id],
            )
            return bool(cursor.rowcount)

    def _select(self, where: str, limit: int) -> list[ReviewEntry]:
        rows = self.database.db.execute(
            "SELECT review_queue.id AS entry_id, review_queue.topic AS entry_topic,"
            " review_queue.reasons, review_queue.excerpt AS entry_excerpt,"
            " review_queue.hit_start, review_queue.hit_end, review_queue.created AS entry_created,"
            " review_queue.relevant, items.* FROM review_queue"
            f" JOIN items ON items.id = review_queue.item_id {where} LIMIT ?",
            [limit],
        )
        columns = [c[0] for c in rows.description]
        return [_entry(dict(zip(columns, row, strict=True))) for row in rows.fetchall()]


def _entry(row: dict[str, Any]) -> ReviewEntry:
    excerpt = row["entry_excerpt"]
    return ReviewEntry(
        id=row["entry_id"],
        item=item_from_row(row),
        topic=row["entry_topic"],
        reasons=tuple(json.loads(row["reasons"])),
        excerpt=Excerpt(excerpt, row["hit_start"], row["hit_end"]) if excerpt else None,
        created=row["entry_created"],
        relevant=None if row["relevant"] is None else bool(row["relevant"]),
    )
