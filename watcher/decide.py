"""Pure decisions of the poller: what is new, when to look again. No I/O, no clock."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from watcher.items import Item

# Minutes of jitter-free exponential backoff: interval, 2x, 4x... capped.
_MAX_DOUBLINGS = 10


def new_items(items: Sequence[Item], known_keys: Iterable[str]) -> list[Item]:
    """Items whose key was never stored, each once, in the order given."""
    seen = set(known_keys)
    fresh = []
    for item in items:
        if item.key not in seen:
            seen.add(item.key)
            fresh.append(item)
    return fresh


def should_alert(*, initialized: bool, backfill: bool) -> bool:
    """A source's first successful poll only marks its backlog as seen, unless backfill."""
    return initialized or backfill


def next_check_after_success(now: datetime, interval: float) -> datetime:
    return now + timedelta(seconds=interval)


def next_check_after_failure(
    now: datetime,
    *,
    interval: float,
    consecutive_errors: int,
    max_backoff: float,
    retry_after: float | None = None,
) -> datetime:
    """Back off exponentially from the source's interval, honouring Retry-After."""
    doublings = min(max(consecutive_errors - 1, 0), _MAX_DOUBLINGS)
    delay = min(interval * 2**doublings, max(max_backoff, interval))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)


def is_due(next_check: datetime | None, now: datetime) -> bool:
    return next_check is None or next_check <= now
