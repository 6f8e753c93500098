"""Telegram subscribers and what they subscribed to, kept in the store."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from watcher.store.schema import now_iso

if TYPE_CHECKING:
    from watcher.store import Store


@dataclass(frozen=True)
class Subscriber:
    chat_id: int
    chat_type: str
    active: bool
    paused: bool
    digest: bool
    topics: frozenset[str]
    last_digest: str | None = None


class Subscribers:
    """Reads and changes subscribers; every method is one short transaction."""

    def __init__(self, store: "Store") -> None:
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
        )

    def start(self, chat_id: int, chat_type: str, *, now: datetime) -> Subscriber:
        """Register a chat, or reactivate one that had blocked the bot."""
        with self.database.transaction() as db:
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
        """/stop: forget the chat entirely, and what was waiting for it."""
        with self.database.transaction() as db:
            self.outbox.drop_pending(str(chat_id), "unsubscribed", status="dropped")
            db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [chat_id])
            db.execute("DELETE FROM subscribers WHERE chat_id = ?", [chat_id])

    def migrate(self, old: int, new: int) -> None:
        """A group became a supergroup with a new id."""
        with self.database.transaction() as db:
            if self.get(old) is not None and self.get(new) is None:
                db.execute("UPDATE subscribers SET chat_id = ? WHERE chat_id = ?", [new, old])
                db.execute("UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", [new, old])
            self.outbox.move_destination(str(old), str(new))

    def subscriptions(self) -> dict[int, Collection[str]]:
        """Topics of every chat that wants alerts now (active, not paused)."""
        rows = self.database.db.execute(
            """SELECT s.chat_id, s.topic FROM subscriptions s
               JOIN subscribers u ON u.chat_id = s.chat_id
               WHERE u.active = 1 AND u.paused = 0"""
        )
        result: dict[int, set[str]] = {}
        for chat_id, topic in rows:
            result.setdefault(chat_id, set()).add(topic)
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
