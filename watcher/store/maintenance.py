"""Keeping the database small and safe: online backups, pruning, the FTS index's upkeep,
and the figures of the weekly report. Each function takes the database and ``now``.

A backup is taken with SQLite's online backup API (``Connection.backup``): a
consistent copy while ``watcher run`` keeps writing. Pruning removes only items
that never matched a topic, have no alert and belong to no followed dossier,
older than the retention: what was alerted or followed is kept forever.
"""

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from watcher.store.db import Database
from watcher.store.schema import now_iso

BACKUP_PREFIX = "watcher-"
BACKUP_SUFFIX = ".db"
# A source that polled fine but brought nothing new for this long is "silent".
SILENT_AFTER = timedelta(days=30)


def backup(database: Database, directory: Path, now: datetime, *, keep: int) -> Path:
    """Copy the database to ``directory`` online; keep the ``keep`` newest copies."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{BACKUP_PREFIX}{now:%Y%m%d-%H%M%S}{BACKUP_SUFFIX}"
    partial = target.with_suffix(".partial")
    copy = sqlite3.connect(partial)
    try:
        database.db.conn.backup(copy)
    finally:
        copy.close()
    partial.replace(target)  # a half-written copy never looks like a backup
    copies = sorted(directory.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"))
    for old in copies[: max(0, len(copies) - keep)]:
        old.unlink()
    return target


def prune(database: Database, now: datetime, *, retention: timedelta) -> int:
    """Delete unmatched, unalerted, unfollowed items first seen before ``now - retention``."""
    cutoff = now_iso(now - retention)
    with database.transaction() as db:
        db.execute("""CREATE TEMP TABLE IF NOT EXISTS pruned (id INTEGER PRIMARY KEY)""")
        db.execute("DELETE FROM temp.pruned")
        db.execute(
            """INSERT INTO temp.pruned (id)
               SELECT items.id FROM items
               WHERE items.first_seen < ?
                 AND NOT EXISTS (SELECT 1 FROM matches WHERE matches.item_id = items.id)
                 AND NOT EXISTS (SELECT 1 FROM alerts WHERE alerts.item_id = items.id)
                 AND NOT EXISTS (SELECT 1 FROM dossier_steps WHERE dossier_steps.item_id = items.id)
                 AND NOT EXISTS (SELECT 1 FROM review_queue WHERE review_queue.item_id = items.id)
                 AND (items.dossier = '' OR NOT EXISTS (
                      SELECT 1 FROM dossiers WHERE dossiers.dossier = items.dossier))""",
            [cutoff],
        )
        for table in ("item_aliases", "item_links"):
            db.execute(f"DELETE FROM {table} WHERE item_id IN (SELECT id FROM temp.pruned)")
        count = db.execute("DELETE FROM items WHERE id IN (SELECT id FROM temp.pruned)").rowcount
        db.execute("DELETE FROM temp.pruned")
    return int(count)


def optimize_search(database: Database) -> None:
    """Merge the full-text index's segments (FTS5 'optimize'), as searches slow without it."""
    with database.transaction() as db:
        db.execute("INSERT INTO items_fts (items_fts) VALUES ('optimize')")


@dataclass(frozen=True)
class WeekFigures:
    """What the weekly report tells the maintainers."""

    healthy: list[str]
    silent: list[str]
    failing: list[str]
    by_topic: dict[str, int]
    by_source: dict[str, int]
    review_queue: int | None  # None: this database has no review queue
    size_bytes: int


def week_figures(database: Database, source_ids: list[str], now: datetime) -> WeekFigures:
    db = database.db
    since = now_iso(now - timedelta(days=7))
    silent_since = now_iso(now - SILENT_AFTER)
    rows = {r["id"]: r for r in db.query("SELECT * FROM sources")}
    fresh = {
        source_id
        for (source_id,) in db.execute(
            "SELECT DISTINCT source_id FROM items WHERE first_seen >= ?", [silent_since]
        )
    }
    healthy, silent, failing = [], [], []
    for source_id in source_ids:
        row = rows.get(source_id)
        if row is not None and row["consecutive_errors"]:
            failing.append(source_id)
        elif source_id in fresh:
            healthy.append(source_id)
        else:
            silent.append(source_id)
    sent = "SELECT item_id FROM alerts WHERE status = 'sent' AND sent_at >= ?"
    by_topic = dict(
        db.execute(
            f"""SELECT topic, COUNT(DISTINCT item_id) FROM matches
                WHERE item_id IN ({sent}) GROUP BY topic""",
            [since],
        ).fetchall()
    )
    by_source = dict(
        db.execute(
            f"SELECT source_id, COUNT(*) FROM items WHERE id IN ({sent}) GROUP BY source_id",
            [since],
        ).fetchall()
    )
    return WeekFigures(
        healthy, silent, failing, by_topic, by_source, _review_queue(db.conn), _size(database)
    )


def _review_queue(conn: sqlite3.Connection) -> int | None:
    """Near misses waiting for a maintainer's label (``review_queue``), if the table exists."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'review_queue'"
    ).fetchone()
    if row is None:
        return None
    query = "SELECT COUNT(*) FROM review_queue WHERE relevant IS NULL"
    return int(conn.execute(query).fetchone()[0])


def _size(database: Database) -> int:
    path = Path(database.path)
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
