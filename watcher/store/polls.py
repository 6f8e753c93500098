"""Each source's poll figures over time, and the drift they show (``watcher.drift``).

A row per poll that read something or failed (an unchanged source adds none),
the latest ``KEEP`` per source. ``source_drift`` holds the problem each source
shows now and when the maintainers were told of it: once per problem, again
only after the source recovered and drifted anew.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watcher.drift import Drift, detect
from watcher.figures import PollFigures
from watcher.store.db import Database
from watcher.store.schema import now_iso

KEEP = 500


@dataclass(frozen=True)
class DriftNotice:
    """A drift the maintainers have not been told of yet."""

    source_id: str
    problem: str
    text: str


def save_figures(db: Any, source_id: str, figures: PollFigures) -> None:
    """Inside a poll's transaction: its figures, and the oldest beyond ``KEEP`` dropped."""
    db.execute(
        """INSERT INTO source_polls (source_id, at, outcome, items, with_text, without_text,
           dated, sittings, newest, whole, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            source_id,
            now_iso(figures.at),
            figures.outcome,
            figures.items,
            figures.with_text,
            figures.without_text,
            figures.dated,
            figures.sittings,
            now_iso(figures.newest) if figures.newest else None,
            int(figures.whole),
            figures.error,
        ],
    )
    db.execute(
        """DELETE FROM source_polls WHERE source_id = ? AND id <= (
             SELECT id FROM source_polls WHERE source_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)""",
        [source_id, source_id, KEEP],
    )


def _figures(
    at: str,
    outcome: str,
    items: int,
    with_text: int,
    without_text: int,
    dated: int,
    sittings: int,
    newest: str | None,
    whole: int,
    error: str,
) -> PollFigures:
    return PollFigures(
        at=datetime.fromisoformat(at),
        outcome=outcome,
        items=items,
        with_text=with_text,
        without_text=without_text,
        dated=dated,
        sittings=sittings,
        newest=datetime.fromisoformat(newest) if newest else None,
        whole=bool(whole),
        error=error,
    )


class PollHistory:
    """The ``source_polls`` and ``source_drift`` tables."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def history(self, source_id: str) -> list[PollFigures]:
        """The source's stored polls, oldest first."""
        rows = self.database.db.execute(
            """SELECT at, outcome, items, with_text, without_text, dated, sittings, newest,
               whole, error FROM source_polls WHERE source_id = ? ORDER BY id""",
            [source_id],
        ).fetchall()
        return [_figures(*row) for row in rows]

    def drifts(self, source_ids: Sequence[str], now: datetime) -> list[Drift]:
        """The sources drifting now, in the order given."""
        found = (detect(source_id, self.history(source_id), now) for source_id in source_ids)
        return [drift for drift in found if drift is not None]

    def note(self, source_id: str, now: datetime) -> Drift | None:
        """After a poll: record the drift the source shows (or its recovery).

        Returns the drift when it is new (not noted before with the same problem).
        """
        drift = detect(source_id, self.history(source_id), now)
        with self.database.transaction() as db:
            row = db.execute(
                "SELECT problem FROM source_drift WHERE source_id = ?", [source_id]
            ).fetchone()
            if drift is None:
                if row is not None:
                    db.execute("DELETE FROM source_drift WHERE source_id = ?", [source_id])
                return None
            if row is not None and row[0] == drift.problem:
                return None
            db.execute(
                """INSERT INTO source_drift (source_id, problem, since, notice) VALUES (?, ?, ?, ?)
                   ON CONFLICT (source_id) DO UPDATE SET problem = excluded.problem,
                   since = excluded.since, notice = excluded.notice, told_at = NULL""",
                [source_id, drift.problem, now_iso(now), drift.notice_fr()],
            )
        return drift

    def untold(self) -> list[DriftNotice]:
        """Drifts the maintainers were not told of."""
        rows = self.database.db.execute(
            "SELECT source_id, problem, notice FROM source_drift WHERE told_at IS NULL "
            "ORDER BY since"
        ).fetchall()
        return [DriftNotice(*row) for row in rows]

    def told(self, notice: DriftNotice, now: datetime) -> None:
        """The maintainers were told of this drift (unless it changed meanwhile)."""
        with self.database.transaction() as db:
            db.execute(
                "UPDATE source_drift SET told_at = ? WHERE source_id = ? AND problem = ?",
                [now_iso(now), notice.source_id, notice.problem],
            )
