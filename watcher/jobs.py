"""Wall-clock jobs, on the ``schedule`` library: the digests at each chat's hour, the
weekly report to the maintainers, and the nightly maintenance of the database.

The per-source polling has its own scheduler (``scheduling``): these are the
jobs that happen at a time of day. Times are the machine's local time, as
``schedule`` reads it (set ``TZ`` in the service's environment). The runtime turns
``run_pending`` every few seconds on its loop; each job's blocking part runs in
the service's executor. A job that fails is logged and runs again next time.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import schedule

from watcher.config import Config
from watcher.delivery.deliverer import RunBlocking
from watcher.store import Store
from watcher.store.maintenance import (
    WeekFigures,
    backup,
    optimize_search,
    prune,
    week_figures,
)

logger = logging.getLogger(__name__)
WEEKLY_AT = "09:00"  # Mondays
NIGHTLY_AT = "03:30"
TURN_SECONDS = 1.0  # how often ``schedule`` is asked what is due
# Digest chats are checked this often against their hour (a chat that moves its hour
# to one already past gets today's digest within seconds).
DIGEST_CHECK_SECONDS = 5


@dataclass
class JobsHost:
    """What the jobs use: the store and configuration, the executor, and the deliverers."""

    store: Store
    config: Callable[[], Config]  # the running configuration (a reload swaps it)
    blocking: RunBlocking
    notify_maintainers: Callable[[str], Awaitable[None]]
    send_digests: Callable[[datetime], Awaitable[int]]


class Jobs:
    """The wall-clock jobs of one run."""

    def __init__(
        self, host: JobsHost, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.host = host
        self.now = now
        self.scheduler = schedule.Scheduler()
        self._pending: list[Coroutine[Any, Any, None]] = []
        self.scheduler.every(DIGEST_CHECK_SECONDS).seconds.do(self._queue, self.digests)
        self.scheduler.every().monday.at(WEEKLY_AT).do(self._queue, self.weekly_report)
        self.scheduler.every().day.at(NIGHTLY_AT).do(self._queue, self.nightly)

    def _queue(self, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self._pending.append(job())

    async def run_pending(self) -> None:
        """Run the jobs whose time came (``schedule`` decides), one after another."""
        self.scheduler.run_pending()
        pending, self._pending = self._pending, []
        for job in pending:
            try:
                await job
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.error("scheduled job failed, it runs again next time: %s", exc)

    async def run_forever(self, stopping: Callable[[], Awaitable[None]]) -> None:
        await self.digests()  # a digest due while watcher was stopped goes now
        while True:
            await self.run_pending()
            try:
                await asyncio.wait_for(stopping(), TURN_SECONDS)
                return
            except TimeoutError:
                continue

    # -- the jobs --------------------------------------------------------------------

    async def digests(self) -> None:
        await self.host.send_digests(self.now())

    async def weekly_report(self) -> None:
        config = self.host.config()
        figures = await self.host.blocking(
            week_figures, self.host.store.database, [s.id for s in config.sources], self.now()
        )
        await self.host.notify_maintainers(report_text(figures, config))
        logger.info("weekly report sent to the maintainers")

    async def nightly(self) -> None:
        """Back up, prune, optimise the search index."""
        config = self.host.config()
        settings, database, now = config.settings, self.host.store.database, self.now()
        if settings.backup_dir is not None:
            directory = config.path.parent / settings.backup_dir
            path = await self.host.blocking(
                backup, database, directory, now, keep=settings.backup_keep
            )
            logger.info("database backed up to %s", path)
        retention = timedelta(seconds=settings.retention)
        pruned = await self.host.blocking(prune, database, now, retention=retention)
        await self.host.blocking(optimize_search, database)
        logger.info("nightly maintenance: %d unmatched old item(s) pruned", pruned)


def report_text(figures: WeekFigures, config: Config) -> str:
    """The weekly report, in French, for the maintainers' Telegram chat."""
    labels = {t: escape(r.label) for t, r in config.topics.items()}
    lines = [
        "📊 <b>Rapport de la semaine</b>",
        f"Sources : {len(figures.healthy)} en bonne santé, {len(figures.silent)} silencieuses "
        f"(rien de neuf depuis 30 jours), {len(figures.failing)} en échec",
    ]
    if figures.failing:
        lines.append("En échec : " + escape(", ".join(figures.failing)))
    if figures.silent:
        lines.append("Silencieuses : " + escape(", ".join(figures.silent)))
    topics = ", ".join(
        f"{labels.get(t, escape(t))} {n}" for t, n in sorted(figures.by_topic.items())
    )
    sources = escape(", ".join(f"{s} {n}" for s, n in sorted(figures.by_source.items())))
    lines.append(f"Alertes par sujet : {topics or 'aucune'}")
    lines.append(f"Alertes par source : {sources or 'aucune'}")
    if figures.review_queue is not None:
        lines.append(f"File de relecture : {figures.review_queue}")
    lines.append(f"Base de données : {figures.size_bytes / 1e6:.1f} Mo")
    return "\n".join(lines)
