"""Is the service healthy? Pure: the sources' statuses and the loop's heartbeat in, problems out.

``watcher status --check`` (and the Docker HEALTHCHECK) exits non-zero when the
run loop has stopped turning, when every source is failing, or when a source
drifts (``watcher.drift``): the ways a watcher can look alive while nobody
would be alerted.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from watcher.drift import Drift
from watcher.store.sources import SourceStatus

# The run loop records a heartbeat every 30 s; this much silence means it is stuck or gone.
STALE_AFTER = timedelta(minutes=3)


def problems(
    statuses: Sequence[SourceStatus],
    last_beat: datetime | None,
    now: datetime,
    drifts: Sequence[Drift] = (),
) -> list[str]:
    """What is wrong, one line each; empty when healthy."""
    found = []
    if last_beat is None:
        found.append("the run loop has never run on this database (is `watcher run` started?)")
    elif now - last_beat > STALE_AFTER:
        minutes = int((now - last_beat).total_seconds() // 60)
        found.append(
            f"the run loop has not turned for {minutes} min "
            f"(last at {last_beat.isoformat(timespec='seconds')})"
        )
    failing = [s for s in statuses if s.consecutive_errors > 0]
    if statuses and len(failing) == len(statuses):
        found.append(f"every source is failing ({len(failing)} of {len(statuses)})")
    found += [f"source {drift.source_id} drifts: {drift.detail}" for drift in drifts]
    return found
