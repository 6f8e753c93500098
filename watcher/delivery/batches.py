"""Reading what is due from the outbox, a batch of destinations at a time.

Each batch holds up to ``BATCH_DESTINATIONS`` destinations, each with all its due
alerts, so a burst stays whole whatever the outbox holds (``Outbox.due_by_destination``
also keeps each destination's order behind an alert that waits). Destinations
held back (a 429 for longer than a minute, digest chats, the ones of
the batch being sent) are left out of the query itself, so that they never take
the places of destinations that can be sent to now. Blocking: called through the
runtime's executor.

Reliability (clock steps): waits are stored as wall-clock due times. One further
away than the longest wait watcher sets plus ``CLOCK_STEP_MARGIN`` was pushed there
by the clock stepping back: it is due now (and the outbox's order with it).
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta

from watcher.delivery.base import Target
from watcher.delivery.pacing import Pacer
from watcher.delivery.preferences import ChatPreferences
from watcher.delivery.recording import OutcomeBook
from watcher.store.outbox import Outbox, PendingAlert

# Destinations read from the outbox at a time, each with all its due alerts; the
# next ones are read while these are sent.
BATCH_DESTINATIONS = 200
CLOCK_STEP_MARGIN = timedelta(hours=1)
# A chat held back (429) until later than this many seconds from now is left out.
HELD_BEYOND = 60.0

Batch = dict[str, list[PendingAlert]]  # destination -> its due alerts, oldest first


class DueBatches:
    """Reads a target's due alerts by destination; says when the next wait ends."""

    def __init__(
        self,
        outbox: Outbox,
        book: OutcomeBook,
        *,
        now: Callable[[], datetime],
        clock: Callable[[], float],
        retry_max: float,
        destinations: int = BATCH_DESTINATIONS,
    ) -> None:
        self.outbox, self.book = outbox, book
        self.now, self.clock = now, clock
        self.retry_max = retry_max
        self.destinations = destinations

    def held(
        self,
        target: Target,
        pacer: Pacer,
        preferences: Mapping[str, ChatPreferences],
        busy: Collection[str] = (),
    ) -> list[str]:
        """Destinations to leave out of the next batch: held back (429) for longer than
        ``HELD_BEYOND``, digest chats, and the ``busy`` ones (being sent to). Called on
        the event loop, where the pacer changes."""
        soon = self.clock() + HELD_BEYOND
        skip = [d for d, free_at in pacer.chat_free_at.items() if free_at > soon]
        if target.groups:
            skip += [d for d, prefs in preferences.items() if prefs.mode == "digest"]
        return skip + list(busy)

    def read(self, target: str, skip: Sequence[str], taken: Collection[int]) -> Batch:
        """The next batch, without the ``skip`` destinations nor the ``taken`` alerts
        (sent already, their record waiting for disk space)."""
        now = self.now()

        def query() -> list[PendingAlert]:
            return self.outbox.due_by_destination(
                target,
                now=now,
                skip=skip,
                destinations=self.destinations,
                horizon=self.horizon(now),
            )

        due = query()
        if self.book.follow_moves({alert.destination for alert in due}):
            due = query()
        batch: Batch = {}
        for alert in due:
            if alert.id not in taken:
                batch.setdefault(alert.destination, []).append(alert)
        return batch

    def horizon(self, now: datetime) -> datetime:
        """No wait watcher sets ends later than this (see CLOCK_STEP_MARGIN)."""
        return now + timedelta(seconds=self.retry_max) + CLOCK_STEP_MARGIN

    def seconds_to_next_attempt(self, targets: Sequence[str]) -> float | None:
        """Seconds until the first alert deferred to the future becomes due, if any."""
        # Only alerts deferred to the future: one already due but held back (a digest
        # chat's) would otherwise be waited for again and again until the deadline.
        now = self.now()
        dues = [d for name in targets if (d := self.outbox.next_attempt_due(name, after=now))]
        if not dues:
            return None
        first, horizon = min(dues), self.horizon(now)
        if first > horizon:  # set before the clock stepped back: due now (see CLOCK_STEP_MARGIN)
            return 0.0
        return max(0.0, (first - now).total_seconds())
