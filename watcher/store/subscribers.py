"""Telegram subscribers, what they subscribed to and their settings, kept in the store.

``/stop`` erases every row that names the chat: not only these tables, but any
table with a ``chat_id`` or ``destination`` column, so a table added later is
covered without being listed here. What it keeps is one ``meta`` line saying that a
chat with this id's digest stopped, so that a later command does not subscribe it
again: only /start does.
"""

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, cast

from watcher.delivery.preferences import ChatPreferences
from watcher.store.db import Database
from watcher.store.outbox import Outbox
from watcher.store.schema import now_iso


class StoreParts(Protocol):
    """What subscribers need of the store (``watcher.store.Store``)."""

    @property
    def database(self) -> Database: ...

    @property
    def outbox(self) -> Outbox: ...


@dataclass(frozen=True)
class Subscriber:
    chat_id: int
    chat_type: str
    active: bool
    paused: bool
    digest: bool
    topics: frozenset[str]
    last_digest: str | None = None
    mode: Literal["immediate", "grouped", "digest"] = "immediate"
    digest_time: str | None = None  # None: settings.digest_time
    silent: bool = False
    previews: bool = False
    territories: frozenset[str] = frozenset()  # empty: every territory

    @property
    def preferences(self) -> ChatPreferences:
        return ChatPreferences(
            mode=self.mode, digest_time=self.digest_time, silent=self.silent, previews=self.previews
        )


MODES = ("immediate", "grouped", "digest")


def _stopped_key(chat_id: int) -> str:
    """The mark a /stop leaves: a digest of the chat id, so no row names the chat."""
    return "stopped_chat:" + hashlib.sha256(str(chat_id).encode()).hexdigest()[:24]


Mode = Literal["immediate", "grouped", "digest"]


class Subscribers:
    """Reads and changes subscribers; every method is one short transaction."""

    def __init__(self, store: StoreParts) -> None:
        self.database = store.database
        self.outbox = store.outbox

    def get(self, chat_id: int) -> Subscriber | None:
        rows = list(
            self.database.db.query("SELECT * FROM subscribers WHERE chat_id = ?", [chat_id])
        )
        if not rows:
            return None
        row = rows[0]
        topics = frozenset(
            r["topic"]
            for r in self.database.db.query(
                "SELECT topic FROM subscriptions WHERE chat_id = ?", [chat_id]
            )
        )
        return Subscriber(
            chat_id=row["chat_id"],
            chat_type=row["chat_type"],
            active=bool(row["active"]),
            paused=bool(row["paused"]),
            digest=bool(row["digest"]),
            topics=topics,
            last_digest=row["last_digest"],
            mode=row["mode"] if row["mode"] in MODES else "immediate",
            digest_time=row["digest_time"],
            silent=bool(row["silent"]),
            previews=bool(row["previews"]),
            territories=frozenset(json.loads(row["territories"] or "[]")),
        )

    def start(self, chat_id: int, chat_type: str, *, now: datetime) -> Subscriber:
        """Register a chat, or reactivate one that had blocked the bot or said /stop."""
        with self.database.transaction() as db:
            db.execute("DELETE FROM meta WHERE key = ?", [_stopped_key(chat_id)])
            db.execute(
                """INSERT INTO subscribers (chat_id, chat_type, created, started_at)
                   VALUES (?,?,?,?)
                   ON CONFLICT (chat_id)
                   DO UPDATE SET active = 1, started_at = excluded.started_at""",
                [chat_id, chat_type, now_iso(now), now_iso(now)],
            )
        subscriber = self.get(chat_id)
        assert subscriber is not None
        return subscriber

    def subscribe(self, chat_id: int, topic: str) -> None:
        self.database.db.execute(
            "INSERT OR IGNORE INTO subscriptions (chat_id, topic) VALUES (?,?)", [chat_id, topic]
        )

    def unsubscribe(self, chat_id: int, topic: str) -> None:
        self.database.db.execute(
            "DELETE FROM subscriptions WHERE chat_id = ? AND topic = ?", [chat_id, topic]
        )

    def set_flag(self, chat_id: int, flag: str, value: bool) -> None:
        if flag not in ("paused", "digest", "active"):
            raise ValueError(flag)
        if flag == "digest":  # the older toggle (/digest): the mode follows it
            self.set_mode(chat_id, "digest" if value else "immediate")
            return
        self.database.db.execute(
            f"UPDATE subscribers SET {flag} = ? WHERE chat_id = ?", [int(value), chat_id]
        )

    def deactivate(self, chat_id: int, reason: str, *, refused_at: datetime | None = None) -> bool:
        """The chat blocked or removed the bot: stop sending until /start.

        With ``refused_at`` (when the refused message was sent), a chat that /started
        again since then stays active: the refusal is older than its new start.
        """
        with self.database.transaction() as db:
            cursor = db.execute(
                """UPDATE subscribers SET active = 0 WHERE chat_id = ?
                   AND (? IS NULL OR started_at IS NULL OR started_at <= ?)""",
                [chat_id, refused_at and now_iso(refused_at), refused_at and now_iso(refused_at)],
            )
            if cursor.rowcount == 0:
                return False
            self.outbox.drop_pending(str(chat_id), reason)
        return True

    def delete(self, chat_id: int) -> None:
        """/stop: forget the chat entirely: every row of every table that names it,
        keeping only the fact that it stopped (until its next /start)."""
        with self.database.transaction() as db:
            for table, column in self._chat_columns():
                value: int | str = chat_id if column == "chat_id" else str(chat_id)
                db.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', [value])
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [_stopped_key(chat_id), now_iso()],
            )

    def stopped(self, chat_id: int) -> bool:
        """Whether the chat said /stop and has not said /start since."""
        row = self.database.db.execute(
            "SELECT 1 FROM meta WHERE key = ?", [_stopped_key(chat_id)]
        ).fetchone()
        return row is not None

    def _chat_columns(self) -> list[tuple[str, str]]:
        tables = [
            name
            for (name,) in self.database.db.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
            )
        ]
        found = []
        for table in tables:
            columns = {row[1] for row in self.database.db.execute(f'PRAGMA table_info("{table}")')}
            found += [(table, c) for c in ("chat_id", "destination") if c in columns]
        # Children first: subscriptions name subscribers.
        return sorted(found, key=lambda tc: tc[0] == "subscribers")

    def set_mode(self, chat_id: int, mode: Mode) -> None:
        if mode not in MODES:
            raise ValueError(mode)
        self.database.db.execute(
            "UPDATE subscribers SET mode = ?, digest = ? WHERE chat_id = ?",
            [mode, int(mode == "digest"), chat_id],
        )

    def set_digest_time(self, chat_id: int, at: str | None) -> None:
        """A new hour starts afresh: an hour already past today sends what waits now."""
        self.database.db.execute(
            "UPDATE subscribers SET digest_time = ?, last_digest = NULL WHERE chat_id = ?",
            [at, chat_id],
        )

    def set_option(self, chat_id: int, option: str, value: bool) -> None:
        if option not in ("silent", "previews"):
            raise ValueError(option)
        self.database.db.execute(
            f"UPDATE subscribers SET {option} = ? WHERE chat_id = ?", [int(value), chat_id]
        )

    def set_territories(self, chat_id: int, territories: Collection[str]) -> None:
        self.database.db.execute(
            "UPDATE subscribers SET territories = ? WHERE chat_id = ?",
            [json.dumps(sorted(territories), ensure_ascii=False), chat_id],
        )

    def pause(self, chat_id: int, *, now: datetime) -> None:
        self.database.db.execute(
            "UPDATE subscribers SET paused = 1, paused_at = COALESCE(paused_at, ?) "
            "WHERE chat_id = ?",
            [now_iso(now), chat_id],
        )

    def resume(self, chat_id: int) -> str | None:
        """Un-pause; when the pause began (None if the chat was not paused)."""
        with self.database.transaction() as db:
            row = db.execute(
                "SELECT paused, paused_at FROM subscribers WHERE chat_id = ?", [chat_id]
            ).fetchone()
            db.execute(
                "UPDATE subscribers SET paused = 0, paused_at = NULL WHERE chat_id = ?", [chat_id]
            )
        if row is None or not row[0]:
            return None
        return cast(str | None, row[1]) or now_iso()

    def preferences(self) -> Mapping[str, ChatPreferences]:
        """Each chat's delivery choices that differ from the defaults (the deliverer's plug)."""
        rows = self.database.db.execute(
            """SELECT chat_id, mode, digest_time, silent, previews FROM subscribers
               WHERE mode != 'immediate' OR digest = 1 OR silent = 1 OR previews = 1"""
        )
        return {
            str(chat_id): ChatPreferences(
                mode=cast(Mode, mode if mode in MODES else "immediate"),
                digest_time=at,
                silent=bool(silent),
                previews=bool(previews),
            )
            for chat_id, mode, at, silent, previews in rows
        }

    def territories(self) -> dict[int, frozenset[str]]:
        """Chats that chose territories, and which."""
        rows = self.database.db.execute(
            "SELECT chat_id, territories FROM subscribers WHERE territories != '[]'"
        )
        return {chat_id: frozenset(json.loads(value)) for chat_id, value in rows}

    def missed_since(self, chat_id: int, since: str) -> int:
        """Items of the chat's topics matched since ``since`` (what a pause kept back)."""
        row = self.database.db.execute(
            """SELECT COUNT(DISTINCT items.id) FROM items
               JOIN matches ON matches.item_id = items.id
               JOIN subscriptions s ON s.topic = matches.topic AND s.chat_id = ?
               WHERE items.first_seen >= ?""",
            [chat_id, since],
        ).fetchone()
        return int(row[0])

    def first_announcement(self, topic: str) -> bool:
        """True the first time a topic is announced (then never again, restarts included)."""
        cursor = self.database.db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
            [f"announced_topic:{topic}", now_iso()],
        )
        return cursor.rowcount == 1

    def rename_topic(self, old: str, new: str) -> int:
        """A topic's id changed: its subscriptions follow, and the new id counts as
        announced. How many subscriptions moved."""
        with self.database.transaction() as db:
            moved = db.execute(
                "UPDATE OR IGNORE subscriptions SET topic = ? WHERE topic = ?", [new, old]
            ).rowcount
            db.execute("DELETE FROM subscriptions WHERE topic = ?", [old])
            db.execute(  # what people already had is not announced as new
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                [f"announced_topic:{new}", now_iso()],
            )
        return int(moved)

    def subscribed_topics(self) -> set[str]:
        """Every topic at least one chat subscribes to."""
        rows = self.database.db.execute("SELECT DISTINCT topic FROM subscriptions")
        return {topic for (topic,) in rows}

    def active_chat_ids(self) -> list[int]:
        rows = self.database.db.execute(
            "SELECT chat_id FROM subscribers WHERE active = 1 ORDER BY chat_id"
        )
        return [chat_id for (chat_id,) in rows]

    def migrate(self, old: int, new: int) -> None:
        """A group became a supergroup with a new id."""
        with self.database.transaction() as db:
            if self.get(old) is not None and self.get(new) is None:
                db.execute("UPDATE subscribers SET chat_id = ? WHERE chat_id = ?", [new, old])
                db.execute("UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", [new, old])
                # The dossiers it follows go with it (a follower row already there wins).
                db.execute(
                    "UPDATE OR IGNORE dossier_followers SET destination = ? WHERE destination = ?",
                    [str(new), str(old)],
                )
                db.execute("DELETE FROM dossier_followers WHERE destination = ?", [str(old)])
            self.outbox.move_destination(str(old), str(new))

    def subscriptions(self) -> dict[int, Collection[str]]:
        """Topics of every chat that wants alerts now (active, not paused), its own
        words' topic (``mots:<chat id>``) included."""
        rows = self.database.db.execute(
            """SELECT s.chat_id, s.topic FROM subscriptions s
               JOIN subscribers u ON u.chat_id = s.chat_id
               WHERE u.active = 1 AND u.paused = 0"""
        )
        result: dict[int, set[str]] = {}
        for chat_id, topic in rows:
            result.setdefault(chat_id, set()).add(topic)
        # A chat's own words (/mots) are a topic only it subscribes to.
        rows = self.database.db.execute(
            """SELECT DISTINCT w.chat_id FROM chat_words w
               JOIN subscribers u ON u.chat_id = w.chat_id
               WHERE u.active = 1 AND u.paused = 0"""
        )
        for (chat_id,) in rows:
            result.setdefault(chat_id, set()).add(f"mots:{chat_id}")
        return dict(result)

    def digest_chat_ids(self) -> list[int]:
        rows = self.database.db.execute(
            "SELECT chat_id FROM subscribers WHERE digest = 1 AND active = 1"
        )
        return [chat_id for (chat_id,) in rows]

    def digest_chats(self) -> list[Subscriber]:
        return [s for chat_id in self.digest_chat_ids() if (s := self.get(chat_id)) is not None]

    def mark_digest(self, chat_id: int, *, now: datetime) -> None:
        self.database.db.execute(
            "UPDATE subscribers SET last_digest = ? WHERE chat_id = ?", [now_iso(now), chat_id]
        )

    def counts(self) -> dict[str, int]:
        row = self.database.db.execute(
            """SELECT COUNT(*), COALESCE(SUM(active), 0), COALESCE(SUM(paused), 0),
                      COALESCE(SUM(digest), 0) FROM subscribers"""
        ).fetchone()
        return {"total": row[0], "active": row[1], "paused": row[2], "digest": row[3]}
