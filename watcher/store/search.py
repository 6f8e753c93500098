"""Search over every stored item (not only alerts), through the FTS5 index ``items_fts``.

The index folds case and accents (``unicode61 remove_diacritics 2``), as the
matcher does, so ``cameras augmentees`` finds « caméras augmentées ». Each word
of a query is a prefix (``camera`` finds « caméras »), and every word must be
found. Newest first walks the index by rowid (the items' order of arrival) and
stops at the page's end, so a search costs the same on a million items;
``relevance`` ranks by bm25 and has to score every item found.
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.matching.normalize import fold
from watcher.store.db import Database
from watcher.store.schema import item_from_row, match_from_row

Order = Literal["date", "relevance"]
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Found:
    """One item a search found, with its matches (empty when it alerted no topic)."""

    id: int
    item: Item
    matches: tuple[TopicMatch, ...]
    seen: datetime | None = None  # when watcher first stored it
    updated: datetime | None = None  # when it last changed, if it did


@dataclass(frozen=True)
class Page:
    """One page of results; ``more`` is the offset of the next page, None at the end."""

    results: tuple[Found, ...]
    more: int | None


def fts_query(words: str) -> str:
    """The FTS5 query for what a person typed: every word, as a prefix, folded.

    Punctuation and FTS5 operators are dropped, so no input is a syntax error.
    """
    tokens = _WORD.findall(fold(words))
    return " ".join(f'"{token}"*' for token in tokens)


class Search:
    """Full-text search over the ``items`` table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def search(
        self,
        words: str,
        *,
        limit: int = 10,
        offset: int = 0,
        order: Order = "date",
        topics: Sequence[str] | None = None,
    ) -> Page:
        """Items containing every word of ``words``, newest (or most relevant) first.

        With ``topics``, only items that matched one of them.
        """
        query = fts_query(words)
        if not query:
            return Page((), None)
        params: list[object] = [query]
        condition = ""
        if topics is not None:
            marks = ",".join("?" * len(topics))
            condition = (
                f" AND EXISTS (SELECT 1 FROM matches m WHERE m.item_id = items_fts.rowid "
                f"AND m.topic IN ({marks}))"
            )
            params += list(topics)
        ranking = (
            "bm25(items_fts, 10.0, 3.0, 1.0), rowid DESC" if order == "relevance" else "rowid DESC"
        )
        params += [limit + 1, offset]
        db = self.database.db
        ids = [
            rowid
            for (rowid,) in db.execute(
                f"""SELECT rowid FROM items_fts WHERE items_fts MATCH ? {condition}
                    ORDER BY {ranking} LIMIT ? OFFSET ?""",
                params,
            )
        ]
        more = offset + limit if len(ids) > limit else None
        return Page(tuple(self._found(item_id) for item_id in ids[:limit]), more)

    def matched(self, *, topic: str | None = None, limit: int | None = None) -> Iterator[Found]:
        """Items that matched a topic (any topic), newest first: what feeds and exports show."""
        condition = "WHERE topic = ?" if topic else ""
        params: list[object] = [topic] if topic else []
        params.append(-1 if limit is None else limit)
        rows = self.database.db.execute(
            f"""SELECT DISTINCT item_id FROM matches {condition}
                ORDER BY item_id DESC LIMIT ?""",
            params,
        ).fetchall()
        for (item_id,) in rows:
            found = self._found(item_id)
            if topic:
                found = Found(
                    found.id,
                    found.item,
                    tuple(m for m in found.matches if m.topic == topic),
                    found.seen,
                    found.updated,
                )
            yield found

    def _found(self, item_id: int) -> Found:
        db = self.database.db
        row = next(db.query("SELECT * FROM items WHERE id = ?", [item_id]))
        matches = tuple(
            match_from_row(m)
            for m in db.query("SELECT * FROM matches WHERE item_id = ? ORDER BY topic", [item_id])
        )
        return Found(
            item_id,
            item_from_row(row),
            matches,
            _time(row.get("first_seen")),
            _time(row.get("updated")),
        )


def _time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
