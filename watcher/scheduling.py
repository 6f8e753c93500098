"""When each source is due. Pure: times in (monotonic seconds), decisions out.

At start-up a source backing off keeps its stored next check; the others are
spread over their interval (five minutes at most) by a hash of their id, so a
thousand sources do not fire in one burst. After each poll a source is due
again when its outcome says (its interval, or its backoff).
"""

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

# Start-up polls are spread over each source's interval, or over this at most.
MAX_SPREAD_SECONDS = 300.0


def spread_offset(source_id: str, interval: float) -> float:
    """How long after start-up a source is first polled: stable, and spread out."""
    fraction = int.from_bytes(hashlib.sha256(source_id.encode()).digest()[:8]) / 2**64
    return fraction * min(interval, MAX_SPREAD_SECONDS)


@dataclass
class DueTimes:
    """The next due time of every source the service polls."""

    due: dict[str, float] = field(default_factory=dict)

    def sync(
        self,
        intervals: Mapping[str, float],
        now: float,
        *,
        known: Mapping[str, float] | None = None,
    ) -> None:
        """Follow the configuration: forget removed sources, place new ones.

        ``known`` gives a stored next check for sources that have one (a backoff).
        """
        for source_id in list(self.due):
            if source_id not in intervals:
                del self.due[source_id]
        for source_id, interval in intervals.items():
            if source_id not in self.due:
                stored = (known or {}).get(source_id)
                self.due[source_id] = (
                    stored if stored is not None else now + spread_offset(source_id, interval)
                )

    def take(self, now: float, *, running: Collection[str], capacity: int) -> list[str]:
        """The sources to poll now, earliest first, at most ``capacity`` of them."""
        ready = sorted(
            (at, source_id)
            for source_id, at in self.due.items()
            if at <= now and source_id not in running
        )
        return [source_id for _, source_id in ready[: max(capacity, 0)]]

    def polled(self, source_id: str, now: float, wait: float) -> None:
        """A poll ended; the source is due again in ``wait`` seconds."""
        if source_id in self.due:
            self.due[source_id] = now + max(wait, 0.0)

    def next_wake(self, now: float, *, running: Collection[str]) -> float | None:
        """Seconds until the next source not already running is due, if any."""
        waiting = [at for source_id, at in self.due.items() if source_id not in running]
        return max(0.0, min(waiting) - now) if waiting else None
