"""All of watcher's persistent state, in one SQLite file, in small parts.

``Store`` composes them over one ``Database``: the sources' state, items and
matches, the alert outbox, the subscribers. One poll of one source is saved in
one transaction from one pure ``PollOutcome``, so a crash leaves all of it or
none of it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from watcher.decide import ItemChange
from watcher.figures import PollFigures
from watcher.following import FOLLOW_AFTER_LAW
from watcher.sources.base import SourceState
from watcher.store.db import Database
from watcher.store.dossier_steps import note_change, untold
from watcher.store.dossiers import DossierTable
from watcher.store.items import ItemTable, save_change
from watcher.store.meta import Meta
from watcher.store.outbox import Outbox, PendingAlert
from watcher.store.polls import PollHistory, save_figures
from watcher.store.review import ReviewQueue, save_held
from watcher.store.schema import now_iso
from watcher.store.sources import (
    SourceRecord,
    SourceStatus,
    SourceTable,
    save_failure,
    save_success,
)
from watcher.store.subscribers import Subscribers

__all__ = [
    "Database",
    "PendingAlert",
    "PollOutcome",
    "SourceRecord",
    "SourceStatus",
    "Store",
    "now_iso",
]


@dataclass(frozen=True)
class PollOutcome:
    """Everything one poll of one source decided, ready to be saved at once."""

    source_id: str
    at: datetime
    next_check: datetime
    state: SourceState | None = None  # None when the poll failed
    changes: tuple[ItemChange, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = field(default=())
    fetched: int = 0
    unchanged: bool = False
    backlog: bool = False  # a first poll that only noted where the source stands
    stream: str = ""  # a followed dossier's own stream (its state is the dossier's)
    figures: PollFigures | None = None  # what the poll read (None: unchanged, or a stream)
    # How long a dossier whose law this poll shows published is followed for its decrees.
    follow_after_law: timedelta = FOLLOW_AFTER_LAW

    @property
    def new(self) -> int:
        return sum(1 for c in self.changes if c.known is None)

    @property
    def alerts(self) -> int:
        return sum(len(c.alerts) for c in self.changes)


class Store:
    """The database and its parts."""

    def __init__(self, path: str | Path) -> None:
        self.database = Database(path)
        self.path = self.database.path
        self.sources = SourceTable(self.database)
        self.items = ItemTable(self.database)
        self.outbox = Outbox(self.database)
        self.meta = Meta(self.database)
        self.subscribers = Subscribers(self)
        self.dossiers = DossierTable(self.database)
        self.polls = PollHistory(self.database)
        self.review = ReviewQueue(self.database)

    def close(self) -> None:
        """Close the calling thread's connection."""
        self.database.close()

    def save_poll(self, outcome: PollOutcome) -> None:
        """Write a poll's outcome: the source's state, its items, their alerts."""
        with self.database.transaction() as db:
            if outcome.stream:
                for change in outcome.changes:
                    change = untold(db, change)
                    note_change(
                        db,
                        change,
                        save_change(db, change, now=outcome.at),
                        now=outcome.at,
                        follow_after_law=outcome.follow_after_law,
                    )
                self.dossiers.save_stream_state(
                    db, outcome.stream, state=outcome.state, now=outcome.at, error=outcome.error
                )
                return
            if outcome.figures is not None:
                save_figures(db, outcome.source_id, outcome.figures)
            if outcome.state is None:
                save_failure(
                    db,
                    outcome.source_id,
                    outcome.error or "failed",
                    now=outcome.at,
                    next_check=outcome.next_check,
                )
                return
            for change in outcome.changes:
                change = untold(db, change)
                item_id = save_change(db, change, now=outcome.at)
                note_change(
                    db, change, item_id, now=outcome.at, follow_after_law=outcome.follow_after_law
                )
                if change.held:
                    save_held(db, item_id, change.held, now=outcome.at)
            save_success(
                db,
                outcome.source_id,
                outcome.state,
                now=outcome.at,
                next_check=outcome.next_check,
                warning=outcome.warnings[-1] if outcome.warnings else None,
            )

    def count(self, table: str) -> int:
        if table not in ("items", "matches", "alerts", "subscribers", "sources"):
            raise ValueError(table)
        return int(self.database.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
