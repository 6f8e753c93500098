"""``watcher poll`` and ``watcher run``: the one service, assembled for each command.

Both hold the database's writer lock, build the same ``Service`` and the same
delivery stage (the targets of feeds.yml, else Telegram with a token, else the
terminal), and differ only in what they run: one cycle then the outbox, or
everything until a signal. ``ServiceHost`` is what the targets are opened with.
"""

import asyncio
import ctypes
import ctypes.util
import logging
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TextIO

from watcher.bot.settings import TelegramSettings
from watcher.config import Config
from watcher.delivery import console
from watcher.delivery.active import active_targets
from watcher.delivery.base import Opened, TargetConfig
from watcher.delivery.deliverer import RunBlocking
from watcher.delivery.digests import send_digests
from watcher.delivery.preferences import ChatPreferences
from watcher.delivery.stage import open_stage
from watcher.delivery.telegram_kind import TelegramOptions
from watcher.jobs import Jobs, JobsHost
from watcher.renames import apply_renames
from watcher.runtime import Service
from watcher.store import Store
from watcher.store.lock import WriterLock
from watcher.store.subscribers import Subscribers

logger = logging.getLogger(__name__)
# `watcher poll` waits this long at most for alerts a target asked to hold back.
SETTLE_SECONDS = 120.0
# The console as a run without targets has it: a target compares equal only with its options.
CONSOLE = TargetConfig(console.NAME, console.NAME, options=console.KIND.options())
M_ARENA_MAX = -8  # glibc's mallopt parameter


class ServiceHost:
    """The service as its delivery targets see it."""

    def __init__(self, service: Service) -> None:
        self.service = service

    @property
    def out(self) -> TextIO:
        return self.service.out

    @property
    def environ(self) -> Mapping[str, str]:
        return self.service.environ

    @property
    def store(self) -> Store:
        return self.service.store

    @property
    def config(self) -> Config:
        return self.service.config

    @property
    def blocking(self) -> RunBlocking:
        return self.service.blocking

    @property
    def stopping(self) -> bool:
        return self.service.stopping

    async def wait_stopping(self) -> None:
        await self.service.wait_stopping()

    def preferences(self) -> Mapping[str, ChatPreferences]:
        return self.service.subscribers.preferences()

    def telegram(self, target: TargetConfig) -> Opened:
        from watcher.bot.target import open_bot

        return open_bot(self.service, target)


def checked_targets(config: Config, environ: Mapping[str, str]) -> tuple[TargetConfig, ...]:
    """The run's targets, their secrets present and a bot token well formed (before polling)."""
    targets = active_targets(config, environ)
    for target in targets:
        if isinstance(target.options, TelegramOptions):
            TelegramSettings.from_environ(environ, token_env=target.options.token_env)
    return targets


def poll_once(config: Config, db: Path, environ: Mapping[str, str], out: TextIO) -> int:
    """``watcher poll``: poll every source, deliver what is pending, exit."""
    targets = checked_targets(config, environ)
    with WriterLock(db, command="poll"):
        store = renamed(opened(db), config)
        service = Service(config, store, environ=environ, out=out, targets=targets)
        return asyncio.run(_poll_once(service, targets))


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Fewer glibc malloc arenas for a long-running process (a no-op elsewhere).

    Reliability (memory): glibc gives each thread that allocates its own arena, up to
    8 per core, and returns little of them to the system; with 32 poll threads a
    soak's RSS kept creeping up. Two arenas cost nothing measurable here (the work
    is I/O and parsing in other processes). Must run before the threads start.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_ARENA_MAX, arenas)
    except (OSError, AttributeError):  # not glibc: its allocator decides
        pass


def opened(db: Path) -> Store:
    """The store, its file checked once: a damaged file is said at start-up, not met later."""
    store = Store(db)
    problem = store.database.integrity_problem()
    if problem is not None:
        logger.error("%s", integrity_line(db, problem))
    return store


def renamed(store: Store, config: Config) -> Store:
    """Subscriptions to topics renamed in feeds.yml follow them (watcher.renames)."""
    apply_renames(Subscribers(store), config)
    return store


def integrity_line(db: Path | str, problem: str) -> str:
    return (
        f"{db} fails SQLite's integrity check ({problem}): stop watcher, back the file up, "
        f"then rebuild it with `sqlite3 {db} .recover | sqlite3 recovered.db`"
    )


async def _poll_once(service: Service, targets: Sequence[TargetConfig]) -> int:
    asyncio.get_running_loop().set_default_executor(service.db_executor)
    host = ServiceHost(service)
    try:
        await service.polling.cycle()
        if CONSOLE not in targets:
            # Alerts queued for the console before a token was set are printed, not stranded.
            await open_stage(host, [CONSOLE]).flush()
        stage = open_stage(host, targets)
        try:
            if await stage.reachable():
                await stage.flush(settle=0.0 if list(targets) == [CONSOLE] else SETTLE_SECONDS)
        finally:
            await stage.close()
    finally:
        await service.close()
    return 0


def run_forever(
    config_path: Path, config: Config, db: Path, environ: Mapping[str, str], out: TextIO
) -> int:
    """``watcher run``: poll on schedule until SIGINT/SIGTERM; exit 0 with nothing lost."""
    limit_malloc_arenas()
    targets = checked_targets(config, environ)
    with WriterLock(db, command="run"):
        store = renamed(opened(db), config)
        service = Service(
            config, store, environ=environ, out=out, config_path=config_path, targets=targets
        )
        return asyncio.run(_run(service, targets))


async def _run(service: Service, targets: Sequence[TargetConfig]) -> int:
    host = ServiceHost(service)
    if CONSOLE not in targets:
        await open_stage(host, [CONSOLE]).flush()  # queued for the console before
    stage = open_stage(host, targets)
    sources = len(service.config.sources)
    if list(targets) == [CONSOLE]:
        logger.info(
            "no TELEGRAM_BOT_TOKEN: alerts print here; watching %d source(s); Ctrl-C to stop",
            sources,
        )
    else:
        chats = len(await service.blocking(service.subscribers.active_chat_ids))
        logger.info(
            "alerts go to %s (%d subscriber chat(s), %d channel(s)); watching %d source(s)",
            ", ".join(t.name for t in targets),
            chats,
            len(service.config.channels),
            sources,
        )
    service.delivery = stage
    jobs = Jobs(
        JobsHost(
            service.store,
            lambda: service.config,
            service.blocking,
            stage.notify_maintainers,
            partial(send_digests, stage.sender),
        )
    )
    try:
        return await service.run_forever(
            extra=[*stage.tasks(), lambda: jobs.run_forever(service.wait_stopping)]
        )
    finally:
        await stage.close()
