"""Items and their matches: what each source published, and what it concerned.

Every item's key, title and summary are kept (identity, /recent, /chercher);
full texts only for items that matched, so the file grows with the alerts, not
with the Journal officiel.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from watcher.decide import ItemChange, Known, KnownItems, identities, keys_to_look_up
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
        for k in self._linked(source_id, keys):
            by_key.setdefault(k.key, k)
        return KnownItems(
            by_key,
            by_link,
            by_fingerprint,
            by_alias=self._elsewhere(source_id, "alias", [a for i in items for a in identities(i)]),
            elsewhere_by_link=self._elsewhere(source_id, "link", links),
        )

    def _linked(self, source_id: str, keys: Sequence[str]) -> list[Known]:
        """Texts of other sources that this source's keys were recognised as."""
        found = []
        for chunk in _chunks(keys):
            rows = self.database.db.execute(
                f"""SELECT item_links.key, items.id, items.revision, items.summary,
                           (SELECT GROUP_CONCAT(topic) FROM matches WHERE item_id = items.id),
                           items.dossier
                    FROM item_links JOIN items ON items.id = item_links.item_id
                    WHERE item_links.source_id = ? AND item_links.key IN ({_marks(chunk)})""",
                [source_id, *chunk],
            )
            for key, item_id, revision, summary, topics, dossier in rows:
                found.append(
                    Known(
                        item_id,
                        key,
                        revision,
                        _topics(topics),
                        summary,
                        elsewhere=True,
                        linked=True,
                        dossier=dossier,
                    )
                )
        return found

    def _elsewhere(self, source_id: str, by: str, values: Sequence[str]) -> dict[str, Known]:
        """Items of other sources by alias or normalised link: the same text, seen there."""
        found: dict[str, Known] = {}
        for chunk in _chunks(values):
            if by == "alias":
                sql = f"""SELECT item_aliases.alias, items.id, items.key, items.revision,
                                 items.summary, items.link_key, items.dossier
                          FROM item_aliases JOIN items ON items.id = item_aliases.item_id
                          WHERE item_aliases.alias IN ({_marks(chunk)}) AND items.source_id != ?
                          ORDER BY items.id"""
            else:
                sql = f"""SELECT items.link_key, items.id, items.key, items.revision,
                                 items.summary, items.link_key, items.dossier
                          FROM items WHERE items.link_key IN ({_marks(chunk)})
                            AND items.source_id != ? ORDER BY items.id"""
            for name, item_id, key, revision, summary, link, dossier in self.database.db.execute(
                sql, [*chunk, source_id]
            ):
                if name in found:
                    continue
                topics = self.database.db.execute(
                    "SELECT GROUP_CONCAT(topic) FROM matches WHERE item_id = ?", [item_id]
                ).fetchone()[0]
                found[name] = Known(
                    item_id,
                    key,
                    revision,
                    _topics(topics),
                    summary,
                    link,
                    elsewhere=True,
                    dossier=dossier,
                )
        return found

    def _lookup(self, source_id: str, column: str, values: Sequence[str]) -> list[Known]:
        found: list[Known] = []
        values = list(dict.fromkeys(values))
        for start in range(0, len(values), _CHUNK):
            chunk = values[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self.database.db.execute(
                f"""SELECT items.id, items.key, items.revision, items.summary, items.link_key,
                           items.fingerprint, GROUP_CONCAT(matches.topic), items.dossier
                    FROM items LEFT JOIN matches ON matches.item_id = items.id
                    WHERE items.source_id = ? AND items.{column} IN ({marks})
                    GROUP BY items.id""",
                [source_id, *chunk],
            )
            for item_id, key, revision, summary, link, fp, topics, dossier in rows:
                found.append(
                    Known(
                        item_id=item_id,
                        key=key,
                        revision=revision,
                        topics=frozenset(topics.split(",")) if topics else frozenset(),
                        summary=summary,
                        link_key=link,
                        fingerprint=fp,
                        dossier=dossier,
                    )
                )
        return found

    def known_keys(self, source_id: str, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        own = {k.key for k in self._lookup(source_id, "key", keys)}
        return own | {k.key for k in self._linked(source_id, keys)}

    def known_revisions(self, source_id: str, keys: Iterable[str]) -> dict[str, str]:
        return {k.key: k.revision for k in self._lookup(source_id, "key", list(keys))}

    def matches_of(self, item_id: int) -> list[TopicMatch]:
        rows = self.database.db.query(
            "SELECT * FROM matches WHERE item_id = ? ORDER BY topic", [item_id]
        )
        return [match_from_row(row) for row in rows]

    def recent_matches(
        self, *, topics: Sequence[str], limit: int
    ) -> list[tuple[Item, list[TopicMatch]]]:
        """Latest matched items of some topics, newest first (searching is ``store.search``)."""
        if not topics:
            return []
        marks = ",".join("?" * len(topics))
        rows = list(
            self.database.db.query(
                f"""SELECT DISTINCT items.* FROM items JOIN matches ON matches.item_id = items.id
                    WHERE matches.topic IN ({marks})
                    ORDER BY items.id DESC LIMIT ?""",
                [*topics, limit],
            )
        )
        return [
            (item_from_row(row), [m for m in self.matches_of(row["id"]) if m.topic in topics])
            for row in rows
        ]


def _chunks(values: Sequence[str]) -> list[list[str]]:
    values = list(dict.fromkeys(values))
    return [values[start : start + _CHUNK] for start in range(0, len(values), _CHUNK)]


def _marks(chunk: Sequence[str]) -> str:
    return ",".join("?" * len(chunk))


def _topics(concatenated: str | None) -> frozenset[str]:
    return frozenset(concatenated.split(",")) if concatenated else frozenset()


def _twin(db: Any, change: ItemChange) -> Known | None:
    """Inside the transaction: an item of another source that is this very text."""
    item = change.item
    names = identities(item)
    row = None
    if names:
        row = db.execute(
            f"""SELECT items.id, items.key FROM item_aliases
                JOIN items ON items.id = item_aliases.item_id
                WHERE item_aliases.alias IN ({_marks(names)}) AND items.source_id != ?
                ORDER BY items.id LIMIT 1""",
            [*names, item.source_id],
        ).fetchone()
    if row is None and change.link_key:
        row = db.execute(
            "SELECT id, key FROM items WHERE link_key = ? AND source_id != ? ORDER BY id LIMIT 1",
            [change.link_key, item.source_id],
        ).fetchone()
    if row is None:
        return None
    return Known(row[0], row[1], "", frozenset(), elsewhere=True)


def _save_sighting(db: Any, change: ItemChange, *, now: datetime) -> int:
    """Another source's sighting of a stored text: its key, link and date are noted;
    topics it brings are added, and alerted only to chats that never had the text."""
    assert change.known is not None
    item, item_id = change.item, change.known.item_id
    db.execute(
        """INSERT INTO item_links (source_id, key, item_id, url, published, seen)
           VALUES (?,?,?,?,?,?) ON CONFLICT (source_id, key) DO NOTHING""",
        [
            item.source_id,
            item.key,
            item_id,
            item.url,
            now_iso(item.published) if item.published else None,
            now_iso(now),
        ],
    )
    _save_aliases(db, item, item_id)
    if change.follow_ups:  # a followed dossier's stream shows it is one of its steps
        db.execute("UPDATE items SET dossier = ? WHERE id = ?", [item.dossier, item_id])
    for match in change.matches:
        _insert_match(db, item_id, match, overwrite=False)
    for route, reason in [(r, "new") for r in change.alerts] + [
        (r, "follow-up") for r in change.follow_ups
    ]:
        db.execute(
            """INSERT OR IGNORE INTO alerts (item_id, target, destination, topics, created, reason)
               VALUES (?,?,?,?,?,?)""",
            [
                item_id,
                route.target,
                route.destination,
                json.dumps(list(route.topics)),
                now_iso(now),
                reason,
            ],
        )
    return item_id


def _save_aliases(db: Any, item: Item, item_id: int) -> None:
    for alias in identities(item):
        db.execute(
            "INSERT OR IGNORE INTO item_aliases (alias, item_id) VALUES (?,?)", [alias, item_id]
        )


def _insert_match(db: Any, item_id: int, match: TopicMatch, *, overwrite: bool = True) -> None:
    excerpt = match.excerpt or Excerpt("", 0, 0)
    db.execute(
        f"""INSERT {"" if overwrite else "OR IGNORE "}INTO matches (item_id, topic, keywords,
           excerpt, hit_start, hit_end, words, signals) VALUES (?,?,?,?,?,?,?,?)""",
        [
            item_id,
            match.topic,
            json.dumps(list(match.keywords), ensure_ascii=False),
            excerpt.text,
            excerpt.hit_start,
            excerpt.hit_end,
            json.dumps(list(match.words), ensure_ascii=False),
            json.dumps(list(match.signals), ensure_ascii=False),
        ],
    )


def save_change(db: Any, change: ItemChange, *, now: datetime) -> int:
    """Inside a poll's transaction: write one item, its matches and its alerts."""
    if change.reason == "sighting":
        return _save_sighting(db, change, now=now)
    if change.known is None and (twin := _twin(db, change)) is not None:
        # Another source stored the same text since this poll looked (polls run in
        # parallel; transactions do not): one text, this is a sighting of it.
        return _save_sighting(db, replace(change, known=twin, reason="sighting"), now=now)
    item = change.item
    values = {
        "source_id": item.source_id,
        "key": item.key,
        "title": item.title,
        "url": item.url,
        "published": now_iso(item.published) if item.published else None,
        "summary": item.summary,
        # Full texts are kept for matched items only: the others are needed for
        # identity, not for search or alerts, and would grow the file fast. A near miss
        # held for review keeps its text: labelled, it becomes a backtest example.
        "body": item.body if change.matches or change.held else "",
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
    _save_aliases(db, item, item_id)
    for match in change.matches:
        _insert_match(db, item_id, match)
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
    for route in change.follow_ups:
        # A step of a followed dossier; a chat that has this text already keeps it once.
        db.execute(
            """INSERT OR IGNORE INTO alerts (item_id, target, destination, topics, created, reason)
               VALUES (?,?,?,?,?,'follow-up')""",
            [
                item_id,
                route.target,
                route.destination,
                json.dumps(list(route.topics)),
                now_iso(now),
            ],
        )
    return item_id
