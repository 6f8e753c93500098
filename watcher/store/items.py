"""Items and their matches: what each source published, and what it concerned.

Every item's key, title and summary are kept (identity, /recent, /chercher);
full texts only for items that matched, so the file grows with the alerts, not
with the Journal officiel.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from watcher.decide import ItemChange, Known, KnownItems, keys_to_look_up
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.matching.excerpt import Excerpt
from watcher.store.db import Database
from watcher.store.schema import item_from_row, match_from_row, now_iso

_CHUNK = 500  # SQLite's default limit on bound parameters is 999


class ItemTable:
    """The ``items`` and ``matches`` tables."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def known(self, source_id: str, items: Iterable[Item]) -> KnownItems:
        """The stored items that these may be: by key, by normalised link, by title."""
        keys, links, fingerprints = keys_to_look_up(items)
        by_key = {k.key: k for k in self._lookup(source_id, "key", keys)}
        by_link = {k.link_key: k for k in self._lookup(source_id, "link_key", links) if k.link_key}
        by_fingerprint: dict[str, list[Known]] = {}
        for k in self._lookup(source_id, "fingerprint", fingerprints):
            if k.fingerprint:
                by_fingerprint.setdefault(k.fingerprint, []).append(k)
        return KnownItems(by_key, by_link, by_fingerprint)

    def _lookup(self, source_id: str, column: str, values: Sequence[str]) -> list[Known]:
        found: list[Known] = []
        values = list(dict.fromkeys(values))
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.database.db.execute(
                f"""SELECT items.id, items.key, items.revision, items.summary, items.link_key,
                           items.fingerprint, GROUP_CONCAT(matches.topic)
                    FROM items LEFT JOIN matches ON matches.item_id = items.id
                    WHERE items.source_id = ? AND items.{column} IN ({marks})
                    GROUP BY items.id""",
                [source_id, *chunk],
            )
            for item_id, key, revision, summary, link, fp, topics in rows:
                found.append(
                    Known(
                        item_id=item_id,
                        key=key,
                        revision=revision,
                        topics=frozenset(topics.split(",")) if topics else frozenset(),
                        summary=summary,
                        link_key=link,
                        fingerprint=fp,
                    )
                )
        return found

    def known_keys(self, source_id: str, keys: Iterable[str]) -> set[str]:
        return {k.key for k in self._lookup(source_id, "key", list(keys))}

    def known_revisions(self, source_id: str, keys: Iterable[str]) -> dict[str, str]:
        return {k.key: k.revision for k in self._lookup(source_id, "key", list(keys))}

    def matches_of(self, item_id: int) -> list[TopicMatch]:
        rows = self.database.db.query(
            "SELECT * FROM matches WHERE item_id = ? ORDER BY topic", [item_id]
        )
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
            self.database.db.query(
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


def save_change(db: Any, change: ItemChange, *, now: datetime) -> int:
    """Inside a poll's transaction: write one item, its matches and its alerts."""
    item = change.item
    values = {
        "source_id": item.source_id,
        "key": item.key,
        "title": item.title,
        "url": item.url,
        "published": now_iso(item.published) if item.published else None,
        "summary": item.summary,
        # Full texts are kept for matched items only: the others are needed for
        # identity, not for search or alerts, and would grow the file fast.
        "body": item.body if change.matches else "",
        "kind": item.kind,
        "schedule": item.schedule,
        "revision": item.revision,
        "event_at": now_iso(item.event_at) if item.event_at else None,
        "event": item.event,
        "dossier": item.dossier,
        "aliases": json.dumps(list(item.aliases), ensure_ascii=False),
        "link_key": change.link_key,
        "fingerprint": change.fingerprint,
    }
    if change.known is None:
        values["first_seen"] = now_iso(now)
        columns = ", ".join(values)
        cursor = db.execute(
            f"INSERT INTO items ({columns}) VALUES ({','.join('?' * len(values))})",
            list(values.values()),
        )
        item_id = int(cursor.lastrowid or 0)
    else:
        item_id = change.known.item_id
        if change.reason == "refresh":  # a new guid or a first revision: nothing else
            db.execute(
                "UPDATE items SET key = ?, revision = ?, link_key = ?, fingerprint = ? "
                "WHERE id = ?",
                [item.key, item.revision, change.link_key, change.fingerprint, item_id],
            )
            return item_id
        values["updated"] = now_iso(now)
        assignments = ", ".join(f"{column} = ?" for column in values)
        db.execute(f"UPDATE items SET {assignments} WHERE id = ?", [*values.values(), item_id])
        db.execute("DELETE FROM matches WHERE item_id = ?", [item_id])
    for match in change.matches:
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
    for route in change.alerts:
        # An update is a new alert for a chat that already had one about this item.
        db.execute(
            """INSERT INTO alerts (item_id, target, destination, topics, created, reason)
               VALUES (?,?,?,?,?,?)
               ON CONFLICT (item_id, destination) DO UPDATE SET
                 topics = excluded.topics, reason = excluded.reason, status = 'pending',
                 attempts = 0, next_attempt = NULL, last_error = NULL, created = excluded.created
               WHERE alerts.status != 'pending'""",
            [
                item_id,
                route.target,
                route.destination,
                json.dumps(list(route.topics)),
                now_iso(now),
                change.reason,
            ],
        )
    return item_id
