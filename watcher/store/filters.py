"""Each chat's filters of /reglages (kinds of text, families of source).

The table is migration 12 (``schema.py``); its ``chat_id`` column lets /stop erase it.
"""

import json

from watcher.filters import ChatFilter
from watcher.store.db import Database


class ChatFilters:
    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, chat_id: int) -> ChatFilter:
        row = self.database.db.execute(
            "SELECT kinds, families FROM chat_filters WHERE chat_id = ?", [chat_id]
        ).fetchone()
        return _filter(row[0], row[1]) if row else ChatFilter()

    def set(self, chat_id: int, chosen: ChatFilter) -> None:
        self.database.db.execute(
            """INSERT INTO chat_filters (chat_id, kinds, families) VALUES (?,?,?)
               ON CONFLICT (chat_id) DO UPDATE SET kinds = excluded.kinds,
               families = excluded.families""",
            [chat_id, json.dumps(sorted(chosen.kinds)), json.dumps(sorted(chosen.families))],
        )

    def every(self) -> dict[str, ChatFilter]:
        """The chats that filter something, by destination (their id as text)."""
        rows = self.database.db.execute(
            "SELECT chat_id, kinds, families FROM chat_filters "
            "WHERE kinds != '[]' OR families != '[]'"
        )
        return {str(chat_id): _filter(kinds, families) for chat_id, kinds, families in rows}


def _filter(kinds: str, families: str) -> ChatFilter:
    return ChatFilter(frozenset(json.loads(kinds)), frozenset(json.loads(families)))
