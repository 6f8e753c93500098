"""``watcher poll`` and ``watcher run``: the one service, assembled for each command.

Both hold the database's writer lock, build the same ``Service`` and the same
delivery stage (the terminal without a token, Telegram with one), and differ
only in what they run: one cycle then the outbox, or everything until a signal.
"""

import asyncio
import ctypes
import ctypes.util
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from watcher.bot.settings import TelegramSettings
from watcher.config import Config
from watcher.delivery.stage import DeliveryStage, TelegramStage, console_stage
from watcher.renames import apply_renames
from watcher.runtime import Service
from watcher.store import Store
from watcher.store.lock import WriterLock
from watcher.store.subscribers import Subscribers

logger = logging.getLogger(__name__)
# `watcher poll` waits this long at most for alerts Telegram asked to hold back.
SETTLE_SECONDS = 120.0
M_ARENA_MAX = -8  # glibc's mallopt parameter


def poll_once(config: Config, db: Path, environ: Mapping[str, str], out: TextIO) -> int:
    """``watcher poll``: poll every source, deliver what is pending, exit."""
    telegram = TelegramSettings.from_environ(environ)
    with WriterLock(db, command="poll"):
        store = renamed(opened(db), config)
        service = Service(config, store, environ=environ, out=out, telegram=telegram)
        return asyncio.run(_poll_once(service, telegram))


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


async def _poll_once(service: Service, telegram: TelegramSettings | None) -> int:
    asyncio.get_running_loop().set_default_executor(service.db_executor)
    try:
        await service.poll_cycle()
        # Alerts queued for the console before a token was set are printed, not stranded.
        await console_stage(service).flush()
        if telegram is not None:
            stage = TelegramStage(service, telegram)
            try:
                if await stage.reachable():
                    await stage.flush(settle=SETTLE_SECONDS)
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
    telegram = TelegramSettings.from_environ(environ)
    with WriterLock(db, command="run"):
        store = renamed(opened(db), config)
        service = Service(
            config, store, environ=environ, out=out, config_path=config_path, telegram=telegram
        )
        return asyncio.run(_run(service, telegram))


async def _run(service: Service, telegram: TelegramSettings | None) -> int:
    stage: DeliveryStage = console_stage(service)
    if telegram is not None:
        await stage.flush()  # queued for the console before the token was set
        stage = TelegramStage(service, telegram)
        chats = len(await service.blocking(service.subscribers.active_chat_ids))
        logger.info(
            "alerts go to Telegram: %d subscriber chat(s) + %d channel(s); watching %d source(s)",
            chats,
            len(service.config.channels),
            len(service.config.sources),
        )
    else:
        logger.info(
            "no TELEGRAM_BOT_TOKEN: alerts print here; watching %d source(s); Ctrl-C to stop",
            len(service.config.sources),
        )
    service.delivery = stage
    return await service.run_forever(extra=stage.tasks(service))
