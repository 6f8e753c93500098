"""Reliability (disk full): what a target took but the outbox could not record yet.

A full disk is a pause, not a storm. When the "sent" of a message cannot be
written, its alerts are held here as sent (never sent again by this process),
the deliverer sends nothing more and its drain raises ``StorageFull``; the next
drain writes these records first, and goes on only once they are written.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from watcher.delivery.outcome import MarkSent, OutboxChange
from watcher.delivery.recording import Attempt
from watcher.store.outbox import Outbox
from watcher.store.space import StorageFull, full_error, is_disk_full

RunBlocking = Callable[..., Awaitable[Any]]


class Unrecorded:
    """Alerts taken whose "sent" waits for disk space, and the full disk that holds them."""

    def __init__(self, outbox: Outbox, path: str) -> None:
        self.outbox = outbox
        self.path = path
        self.full: StorageFull | None = None  # set while nothing more may be sent
        self._sent: dict[int, tuple[datetime, int | None]] = {}  # id: (when, message id)

    def ids(self) -> frozenset[int]:
        """The alerts taken already: never read for sending again."""
        return frozenset(self._sent)

    def hold(self, attempt: Attempt, change: OutboxChange, exc: Exception) -> None:
        """Recording ``change`` met a full disk: keep it here (if it was a send) and pause."""
        if isinstance(change, MarkSent):
            self._sent.update(dict.fromkeys(attempt.ids, (change.at, change.message_id)))
        self.full = full_error(self.path, exc)

    async def write(self, run_blocking: RunBlocking) -> None:
        """Write the held records; StorageFull while they still cannot be."""
        by_message: dict[tuple[datetime, int | None], list[int]] = {}
        for alert_id, sent in self._sent.items():
            by_message.setdefault(sent, []).append(alert_id)
        for (at, message_id), ids in by_message.items():
            try:
                await run_blocking(self.outbox.record_sent, ids, now=at, message_id=message_id)
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                self.full = full_error(self.path, exc)
                raise self.full from None
            for alert_id in ids:
                del self._sent[alert_id]
        self.full = None
