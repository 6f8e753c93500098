"""Each chat's own words (/mots): stored rules, and a version that says when they changed.

The table is migration 12 (``schema.py``); it has a ``chat_id`` column, so /stop erases
it with every other row naming the chat (``Subscribers.delete``).
"""

from collections.abc import Sequence
from typing import Any

from watcher.store.db import Database
from watcher.store.schema import now_iso

VERSION_KEY = "chat_words_version"


class ChatWords:
    """Reads and changes the rules; each change bumps the version pollers watch."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def of(self, chat_id: int) -> list[str]:
        rows = self.database.db.execute(
            "SELECT rule FROM chat_words WHERE chat_id = ? ORDER BY added, rowid", [chat_id]
        )
        return [rule for (rule,) in rows]

    def every(self) -> dict[int, list[str]]:
        """Every chat's rules, active chats only (a paused chat's are matched: /reprendre
        sums up what the pause kept back)."""
        rows = self.database.db.execute(
            """SELECT w.chat_id, w.rule FROM chat_words w
               JOIN subscribers s ON s.chat_id = w.chat_id WHERE s.active = 1
               ORDER BY w.chat_id, w.added, w.rowid"""
        )
        result: dict[int, list[str]] = {}
        for chat_id, rule in rows:
            result.setdefault(chat_id, []).append(rule)
        return result

    def add(self, chat_id: int, rule: str) -> bool:
        """False when the chat has this rule already."""
        with self.database.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO chat_words (chat_id, rule, added) VALUES (?,?,?)",
                [chat_id, rule, now_iso()],
            )
            if cursor.rowcount:
                self._bump(db)
        return bool(cursor.rowcount)

    def replace(self, chat_id: int, rules: Sequence[str]) -> None:
        """/import: the chat's rules become these."""
        with self.database.transaction() as db:
            db.execute("DELETE FROM chat_words WHERE chat_id = ?", [chat_id])
            for rule in rules:
                db.execute(
                    "INSERT OR IGNORE INTO chat_words (chat_id, rule, added) VALUES (?,?,?)",
                    [chat_id, rule, now_iso()],
                )
            self._bump(db)

    def remove(self, chat_id: int, rule: str) -> bool:
        with self.database.transaction() as db:
            cursor = db.execute(
                "DELETE FROM chat_words WHERE chat_id = ? AND rule = ?", [chat_id, rule]
            )
            if cursor.rowcount:
                self._bump(db)
        return bool(cursor.rowcount)

    def version(self) -> str:
        row = self.database.db.execute(
            "SELECT value FROM meta WHERE key = ?", [VERSION_KEY]
        ).fetchone()
        return str(row[0]) if row else ""

    @staticmethod
    def _bump(db: Any) -> None:
        db.execute(
            """INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key)
               DO UPDATE SET value = CAST(value AS INTEGER) + 1""",
            [VERSION_KEY],
        )
