"""Search over every stored item (not only alerts), through the FTS5 index ``items_fts``.

The index folds case and accents (``unicode61 remove_diacritics 2``), as the
matcher does, so ``cameras augmentees`` finds « caméras augmentées ». Every word
of a query must be found, in its singular or plural form (``camera`` finds
« caméras », ``municipal`` « municipaux »); a word ending in ``*`` is a prefix.

Newest first means by publication date, among the ``RELEVANCE_WINDOW`` newest items
stored that contain the words (then in the order they were stored).

Why not every word as a prefix: FTS5 reads the whole posting list of a prefix
before the first result (300 ms for a common word on 1,000,000 items), while
exact terms, even OR-ed, stream newest first and stop at the page's end (under
a millisecond). Relevance (bm25) scores every item it ranks, so it ranks the
``RELEVANCE_WINDOW`` newest items containing the words: a search for a common
word stays fast, and the best of recent texts come first.
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
RELEVANCE_WINDOW = 1000
_WORD = re.compile(r"\w+\*?")


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
    """The FTS5 query for what a person typed: every word folded, with its plural forms.

    Punctuation and FTS5 operators are dropped, so no input is a syntax error;
    one-letter words (the l of « l'État ») are left out when there are others;
    numbers stay.
    """
    tokens = [
        (folded, raw.endswith("*"))
        for raw in _WORD.findall(words)
        for folded in _WORD.findall(fold(raw.rstrip("*")))
    ]
    if len(tokens) > 1:
        tokens = [t for t in tokens if len(t[0]) > 1 or t[0].isdigit()] or tokens
    groups = []
    for token, prefix in tokens:
        if prefix and len(token) >= 3:
            groups.append(f'"{token}"*')
        else:
            groups.append("(" + " OR ".join(f'"{form}"' for form in _forms(token)) + ")")
    return " AND ".join(groups)


def _forms(word: str) -> list[str]:
    """A word and its other number: camera/cameras, municipal/municipaux, prix."""
    if word.endswith("aux") and len(word) > 4:
        return [word, word[:-3] + "al"]
    stem = word[:-1] if len(word) > 3 and word[-1] in "sx" else word
    forms = [word, stem, stem + "s"]
    if stem.endswith("al"):
        forms.append(stem[:-2] + "aux")
    return list(dict.fromkeys(forms))


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
        db = self.database.db
        if order == "relevance":
            # The rowid of the RELEVANCE_WINDOW-th newest item found bounds the ranking.
            oldest = db.execute(
                f"""SELECT rowid FROM items_fts WHERE items_fts MATCH ? {condition}
                    ORDER BY rowid DESC LIMIT 1 OFFSET ?""",
                [*params, RELEVANCE_WINDOW - 1],
            ).fetchone()
            condition += " AND items_fts.rowid >= ?"
            params.append(oldest[0] if oldest else 0)
            ranking = "bm25(items_fts, 10.0, 3.0, 1.0), rowid DESC"
        else:
            return self._by_date(params, condition, limit=limit, offset=offset)
        params += [limit + 1, offset]
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

    def _by_date(self, params: list[object], condition: str, *, limit: int, offset: int) -> Page:
        """Newest publication first. The ``RELEVANCE_WINDOW`` most recently stored items
        found are sorted by their date (a backlog or a slow source stores old texts
        after new ones); beyond them, results go on in the order they were stored."""
        db = self.database.db
        window = [
            rowid
            for (rowid,) in db.execute(
                f"""SELECT rowid FROM items_fts WHERE items_fts MATCH ? {condition}
                    ORDER BY rowid DESC LIMIT ?""",
                [*params, RELEVANCE_WINDOW],
            )
        ]
        if window:
            marks = ",".join("?" * len(window))
            window = [
                item_id
                for (item_id,) in db.execute(
                    f"""SELECT id FROM items WHERE id IN ({marks})
                        ORDER BY COALESCE(published, first_seen) DESC, id DESC""",
                    window,
                )
            ]
        ids = window[offset : offset + limit + 1]
        if len(ids) <= limit and len(window) == RELEVANCE_WINDOW:
            after = max(offset - len(window), 0)
            ids += [
                rowid
                for (rowid,) in db.execute(
                    f"""SELECT rowid FROM items_fts WHERE items_fts MATCH ? {condition}
                        AND items_fts.rowid < ? ORDER BY rowid DESC LIMIT ? OFFSET ?""",
                    [*params, min(window), limit + 1 - len(ids), after],
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
