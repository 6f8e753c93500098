"""What the outbox keeps of one send: the pure ``outcome.apply`` decision, written.

``OutcomeBook.record`` applies an ``OutboxChange`` to the outbox in the step that
learns it (so a crash repeats at most the messages in flight), logs it at the
level it deserves, and returns the maintainers' notice the first time a
permanent failure of its kind is met for a destination. Blocking: the deliverer
calls it through the runtime's executor.

Reliability (disk full): a full disk is a pause, not a storm. When the "sent" of a
message cannot be written, ``Unrecorded`` holds its alerts as sent (never sent
again by this process), the deliverer sends nothing more and its drain raises
``StorageFull``; the next drain writes these records first, and goes on only once
they are written.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from watcher.delivery.outcome import (
    AlertState,
    DeactivateChat,
    DeferChat,
    MarkRefused,
    MarkSent,
    MoveChat,
    OutboxChange,
    Outcome,
    RetryAt,
    failure_kind,
)
from watcher.store.outbox import Outbox
from watcher.store.space import StorageFull, full_error, is_disk_full
from watcher.store.subscribers import Subscribers

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """One message sent: where, which alerts it carried, when, after how many tries."""

    target: str
    destination: str
    ids: list[int]
    at: datetime
    state: AlertState


class OutcomeBook:
    """Writes each send's outcome to the outbox; remembers the chats that moved."""

    def __init__(self, outbox: Outbox, subscribers: Subscribers) -> None:
        self.outbox = outbox
        self.subscribers = subscribers
        self._moves: dict[str, str] | None = None  # chats that moved: old id -> new id

    def follow_moves(self, destinations: set[str]) -> bool:
        """Alerts to a chat known to have moved go to its new id first; True if any did."""
        if self._moves is None:
            self._moves = self.outbox.moves()
        stale = destinations & self._moves.keys()
        for old in stale:
            self.outbox.move_destination(old, self._moves[old])
        return bool(stale)

    def record(self, attempt: Attempt, outcome: Outcome, change: OutboxChange) -> str | None:
        """Apply ``change`` to the outbox; the maintainers' notice, the first time only."""
        match change:
            case MarkSent(at, message_id):
                self.outbox.record_sent(attempt.ids, now=at, message_id=message_id)
            case DeferChat(until):
                self.outbox.defer(attempt.ids, until=until)
                logger.info("%s %s: asked to wait until %s", *_where(attempt), until)
            case RetryAt(at, error):
                self._retry(attempt, at, error)
            case DeactivateChat(reason):
                self._deactivate(attempt, reason)
            case MoveChat(new):
                self._move(attempt, new)
            case MarkRefused(reason):
                self.outbox.mark_refused(attempt.ids, reason)
                logger.error("%s %s: message refused for good: %s", *_where(attempt), reason)
        kind = failure_kind(outcome)
        if kind is None or not self.outbox.first_notice(kind, attempt.destination, now=attempt.at):
            return None
        return _notice(kind, attempt.target, attempt.destination, change)

    def _retry(self, attempt: Attempt, at: datetime, error: str) -> None:
        self.outbox.mark_retry(attempt.ids, error, next_attempt=at)
        # Said loudly at the first failure and every tenth, so an outage is visible
        # without a line per alert per retry.
        level = logging.WARNING if attempt.state.attempts % 10 == 0 else logging.INFO
        logger.log(
            level,
            "%s %s: %s (attempt %d); retrying at %s",
            *_where(attempt),
            error,
            attempt.state.attempts + 1,
            at.isoformat(timespec="seconds"),
        )

    def _deactivate(self, attempt: Attempt, reason: str) -> None:
        destination = attempt.destination
        chat = int(destination) if destination.lstrip("-").isdigit() else None
        if chat is not None and self.subscribers.get(chat) is not None:
            # A chat that /started again since the refused send stays active.
            self.subscribers.deactivate(chat, reason, refused_at=attempt.at)
        else:
            self.outbox.drop_pending(destination, reason)
        logger.warning("%s %s refuses messages (%s): stopped", *_where(attempt), reason)

    def _move(self, attempt: Attempt, new: str) -> None:
        destination = attempt.destination
        old = int(destination) if destination.lstrip("-").isdigit() else None
        logger.warning(
            "%s %s moved to %s: its alerts follow (if it is listed under channels:, "
            "write %s there)",
            *_where(attempt),
            new,
            new,
        )
        self.outbox.record_move(destination, new)
        if self._moves is not None:
            self._moves[destination] = new
        if old is not None and new.lstrip("-").isdigit():
            self.subscribers.migrate(old, int(new))
        else:
            self.outbox.move_destination(destination, new)


# The runtime's executor (``deliverer.RunBlocking``), as this module calls it.
Blocking = Callable[..., Awaitable[Any]]


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

    async def write(self, run_blocking: Blocking) -> None:
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


def _where(attempt: Attempt) -> tuple[str, str]:
    return attempt.target, attempt.destination


def _notice(kind: str, target: str, destination: str, change: OutboxChange) -> str:
    if isinstance(change, DeactivateChat):
        return (
            f"⚠️ {target} {destination} refuse les messages ({escape(change.reason)}) : "
            "ses alertes sont arrêtées."
        )
    reason = change.reason if isinstance(change, MarkRefused) else kind
    return (
        f"⚠️ {target} {destination} : un message a été refusé ({escape(reason)}). Voir les journaux."
    )
