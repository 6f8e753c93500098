"""Followed dossiers: who follows each, their steps, and the state of their own stream.

A dossier becomes followed when one of its items is alerted (inside that poll's
transaction, ``dossier_steps.note_change``); the chats that got the alert follow it, and so do
those that ``/suivre`` it. ``/oublier`` stops it for everyone (``status``
``stopped``): its stream is no longer read and its steps no longer alerted.
"""

import json
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from watcher import following
from watcher.following.plan import Step
from watcher.routing import Route
from watcher.sources.base import SourceState
from watcher.store.db import Database
from watcher.store.schema import now_iso


@dataclass(frozen=True)
class Follower:
    target: str
    destination: str
    how: str  # "alert" (had the first alert), "suivre" (asked), "channel"
    active: bool = True


@dataclass(frozen=True)
class Dossier:
    """A followed (or once followed) dossier, as /dossiers and ``watcher dossiers`` show it."""

    dossier: str
    source_id: str
    title: str
    status: str  # "followed", "stopped"
    stage: str
    last_step_at: datetime | None
    next_date: datetime | None
    next_event: str
    law: str
    ends_at: datetime | None
    state: SourceState
    initialized: bool
    last_error: str | None
    followers: tuple[Follower, ...] = ()
    consecutive_errors: int = 0
    created: datetime | None = None  # when it was first followed
    steps: tuple["StepRecord", ...] = ()  # in order (read for /dossiers only)

    def followed(self, now: datetime) -> bool:
        return following.is_followed(self.status, self.ends_at, now)


@dataclass(frozen=True)
class StepRecord:
    """One step of a dossier, once, whichever sources showed it."""

    label: str
    at: datetime | None
    sources: tuple[str, ...]
    url: str | None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class DossierTable:
    """The ``dossiers`` and ``dossier_followers`` tables."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def get(self, dossier: str) -> Dossier | None:
        rows = list(self.database.db.query("SELECT * FROM dossiers WHERE dossier = ?", [dossier]))
        return self._dossier(rows[0]) if rows else None

    def all(self) -> list[Dossier]:
        rows = self.database.db.query("SELECT * FROM dossiers ORDER BY created, dossier")
        return [self._dossier(row) for row in rows]

    def followed(self, now: datetime) -> list[Dossier]:
        """Dossiers whose stream is read: followed, not ended."""
        return [d for d in self.all() if d.followed(now)]

    def of_destination(self, destination: str) -> list[Dossier]:
        """The dossiers a chat follows (for /dossiers), each with its steps."""
        rows = self.database.db.query(
            """SELECT dossiers.* FROM dossiers JOIN dossier_followers f USING (dossier)
               WHERE f.destination = ? AND f.active = 1 AND dossiers.status = 'followed'
               ORDER BY dossiers.created""",
            [destination],
        )
        return [
            replace(self._dossier(row), steps=tuple(self.steps(row["dossier"]))) for row in rows
        ]

    def follows(self, dossier: str, destination: str) -> bool:
        """Whether this destination gets the dossier's steps (it follows, it is not stopped)."""
        row = self.database.db.execute(
            """SELECT 1 FROM dossier_followers f JOIN dossiers USING (dossier)
               WHERE f.dossier = ? AND f.destination = ? AND f.active = 1
                 AND dossiers.status = 'followed'""",
            [dossier, destination],
        ).fetchone()
        return row is not None

    def resolve(self, name: str) -> str | None:
        """The dossier a name designates: a dossier key, or an alias of one of its texts."""
        if self.get(name) is not None:
            return name
        row = self.database.db.execute(
            """SELECT items.dossier FROM item_aliases JOIN items ON items.id = item_aliases.item_id
               WHERE item_aliases.alias = ? AND items.dossier != '' ORDER BY items.id LIMIT 1""",
            [name],
        ).fetchone()
        if row:
            return str(row[0])
        row = self.database.db.execute(
            "SELECT dossier FROM items WHERE dossier = ? LIMIT 1", [name]
        ).fetchone()
        return str(row[0]) if row else None

    def steps(self, dossier: str) -> list[StepRecord]:
        """The dossier's steps in the order they happened (then the order they were seen)."""
        rows = self.database.db.execute(
            """SELECT label, at, sources, url FROM dossier_steps WHERE dossier = ?
               ORDER BY COALESCE(at, seen), seen""",
            [dossier],
        )
        return [
            StepRecord(label, _when(at), tuple(json.loads(sources)), url)
            for label, at, sources, url in rows
        ]

    def find(self, words: str) -> list[str]:
        """The dossiers a maintainer names: a signet, a dossier key or link, an alias of
        one of its texts, or a text's number ("505", "n° 664": any of its steps)."""
        key = following.parse_dossier(words)
        found = [d for d in (self.resolve(key) if key else None, self.resolve(words)) if d]
        number = re.fullmatch(r"(?:n[°o]\s*)?(\d+(?:-\d+)?)", words.strip(), re.IGNORECASE)
        if number:
            rows = self.database.db.execute(
                """SELECT DISTINCT dossier FROM dossier_steps WHERE label LIKE ?
                   UNION SELECT dossier FROM dossiers WHERE dossier LIKE ? OR law = ?""",
                [f"%n° {number.group(1)})%", f"%-{number.group(1)}", number.group(1)],
            )
            found += [str(row[0]) for row in rows]
        return [d for d in dict.fromkeys(found) if self.get(d) is not None]

    def title_of(self, dossier: str) -> str:
        """The title of the dossier's first stored text ('' when none is stored)."""
        row = self.database.db.execute(
            "SELECT title FROM items WHERE dossier = ? ORDER BY id LIMIT 1", [dossier]
        ).fetchone()
        return " ".join(str(row[0]).split()) if row else ""

    def _dossier(self, row: dict[str, Any]) -> Dossier:
        followers = tuple(
            Follower(r["target"], r["destination"], r["how"], bool(r["active"]))
            for r in self.database.db.query(
                "SELECT * FROM dossier_followers WHERE dossier = ? ORDER BY since",
                [row["dossier"]],
            )
        )
        return Dossier(
            dossier=row["dossier"],
            source_id=row["source_id"],
            title=row["title"],
            status=row["status"],
            stage=row["stage"],
            last_step_at=_when(row["last_step_at"]),
            next_date=_when(row["next_date"]),
            next_event=row["next_event"],
            law=row["law"],
            ends_at=_when(row["ends_at"]),
            state=SourceState(
                row["etag"], row["last_modified"], row["content_hash"], json.loads(row["cursor"])
            ),
            initialized=bool(row["initialized"]),
            last_error=row["last_error"],
            followers=followers,
            consecutive_errors=int(row["consecutive_errors"]),
            created=_when(row["created"]),
        )

    # -- who follows ---------------------------------------------------------------

    def subjects(self, now: datetime) -> dict[str, str]:
        """The followed dossiers by their subject (``following.subject_of`` their title)."""
        rows = self.database.db.execute(
            "SELECT dossier, title, status, ends_at FROM dossiers WHERE status = 'followed'"
        ).fetchall()
        found = {}
        for dossier, title, status, end in rows:
            subject = following.subject_of(title)
            if subject and following.is_followed(status, _when(end), now):
                found[dossier] = subject
        return found

    def followers_of(
        self, keys: Iterable[str], *, now: datetime, channels: Collection[str]
    ) -> dict[str, Step]:
        """For each key (a dossier, or a followed law's ``loi:`` key): the dossier it is
        and who gets its steps now (a paused, stopped or departed chat does not)."""
        result: dict[str, Step] = {}
        for key in dict.fromkeys(keys):
            if key.startswith("loi:"):
                row = self.database.db.execute(
                    "SELECT dossier FROM dossiers WHERE law = ? AND status = 'followed'",
                    [key[4:]],
                ).fetchone()
                dossier = str(row[0]) if row else ""
            else:
                dossier = key
            record = self.get(dossier) if dossier else None
            if record is None or not record.followed(now):
                continue
            rows = self.database.db.execute(
                """SELECT f.target, f.destination, s.chat_id, s.active, s.paused
                   FROM dossier_followers f
                   LEFT JOIN subscribers s ON CAST(s.chat_id AS TEXT) = f.destination
                   WHERE f.dossier = ? AND f.active = 1 ORDER BY f.since""",
                [dossier],
            )
            routes = tuple(
                Route(target, destination, ())
                for target, destination, chat_id, active, paused in rows
                if (chat_id is not None and active and not paused)
                or (chat_id is None and (target != "telegram" or destination in channels))
            )
            if routes:
                result[key] = Step(dossier, routes)
        return result

    def follow(
        self,
        dossier: str,
        *,
        source_id: str,
        target: str,
        destination: str,
        how: str,
        now: datetime,
        title: str = "",
    ) -> None:
        """A chat follows a dossier by hand (it is followed again if it was stopped)."""
        with self.database.transaction() as db:
            db.execute(
                """INSERT INTO dossiers (dossier, source_id, title, created) VALUES (?,?,?,?)
                   ON CONFLICT (dossier) DO UPDATE SET status = 'followed'""",
                [dossier, source_id, title, now_iso(now)],
            )
            db.execute(
                """INSERT INTO dossier_followers (dossier, target, destination, how, since)
                   VALUES (?,?,?,?,?) ON CONFLICT (dossier, destination)
                   DO UPDATE SET active = 1, how = excluded.how""",
                [dossier, target, destination, how, now_iso(now)],
            )

    def unfollow(self, dossier: str, destination: str) -> bool:
        """A chat stops following; a later alert of the dossier does not make it follow again."""
        cursor = self.database.db.execute(
            "UPDATE dossier_followers SET active = 0 WHERE dossier = ? AND destination = ?",
            [dossier, destination],
        )
        return cursor.rowcount > 0

    def stop(self, dossier: str) -> bool:
        """A maintainer stops following a dossier for everyone."""
        cursor = self.database.db.execute(
            "UPDATE dossiers SET status = 'stopped' WHERE dossier = ?", [dossier]
        )
        return cursor.rowcount > 0

    # -- its stream ----------------------------------------------------------------

    def save_stream_state(
        self,
        db: Any,
        dossier: str,
        *,
        state: SourceState | None,
        now: datetime,
        error: str | None = None,
    ) -> None:
        """Inside a stream poll's transaction: where its stream stands, or why it failed."""
        if state is None:
            db.execute(
                """UPDATE dossiers SET last_poll = ?, last_error = ?,
                   consecutive_errors = consecutive_errors + 1 WHERE dossier = ?""",
                [now_iso(now), error, dossier],
            )
            return
        db.execute(
            """UPDATE dossiers SET etag = ?, last_modified = ?, content_hash = ?, cursor = ?,
               initialized = 1, last_poll = ?, last_error = NULL, consecutive_errors = 0
               WHERE dossier = ?""",
            [
                state.etag,
                state.last_modified,
                state.content_hash,
                json.dumps(dict(state.cursor)),
                now_iso(now),
                dossier,
            ],
        )
