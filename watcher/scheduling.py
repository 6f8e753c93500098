"""When each source is due: every one at start-up, then each on its own interval.

Both run loops (console and Telegram) take the due sources from here and hand
them to ``Poller.poll_all``, which also honours the backoff of failing sources.
"""

from collections.abc import Sequence

import schedule

from watcher.config import SourceConfig


def schedule_seconds(interval: float) -> int:
    """The schedule library counts whole seconds."""
    return max(1, round(interval))


class Schedule:
    """Source ids that are due, collected by the ``schedule`` library."""

    def __init__(self, sources: Sequence[SourceConfig]) -> None:
        self._scheduler = schedule.Scheduler()
        self._due: list[str] = [source.id for source in sources]
        self.replace(sources)

    def replace(self, sources: Sequence[SourceConfig]) -> None:
        """New intervals (after a reload); sources already due stay due."""
        self._scheduler.clear()
        for source in sources:
            self._scheduler.every(schedule_seconds(source.interval)).seconds.do(
                self._due.append, source.id
            )

    def take(self) -> list[str]:
        """The sources due now, each once; they are no longer due afterwards."""
        self._scheduler.run_pending()
        due = list(dict.fromkeys(self._due))
        self._due.clear()
        return due
