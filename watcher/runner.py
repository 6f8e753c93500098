"""Running watcher: one cycle (``poll``) or until stopped (``run``).

Without ``TELEGRAM_BOT_TOKEN`` alerts go to standard output. With it, ``run``
starts the Telegram bot and the outbox sender in one asyncio loop, and the
poller's blocking work runs in worker threads so it never blocks the bot.
"""

import asyncio
import logging
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType

from watcher.config import Config
from watcher.delivery.console import ConsoleTarget
from watcher.delivery.deliverer import Deliverer
from watcher.fetch import Fetcher
from watcher.poll import Poller, summarize
from watcher.scheduling import Schedule
from watcher.store import Store
from watcher.subscribers import Subscribers

logger = logging.getLogger(__name__)
TICK_SECONDS = 1.0


def make_poller(
    config: Config, store: Store, *, telegram: bool, environ: Mapping[str, str]
) -> Poller:
    fetcher = Fetcher(timeout=config.settings.timeout, max_bytes=config.settings.max_response_bytes)
    subscribers = Subscribers(store)
    return Poller(
        config,
        store,
        fetcher,
        telegram=telegram,
        subscriptions=subscribers.subscriptions,
        environ=environ,
    )


def poll_once(config: Config, db: Path, environ: Mapping[str, str]) -> int:
    """``watcher poll``: poll every source, deliver what is pending, exit."""
    from watcher.bot.settings import TelegramSettings

    telegram = TelegramSettings.from_environ(environ)
    store = Store(db)
    poller = make_poller(config, store, telegram=telegram is not None, environ=environ)
    try:
        reports = poller.poll_all()
    finally:
        poller.fetcher.close()
    logger.info("%s", summarize(reports))
    if telegram is not None:
        from watcher.bot.app import deliver_pending_once

        asyncio.run(deliver_pending_once(config, store, telegram, environ))
    else:
        print_pending(config, store)
    return 0


def print_pending(config: Config, store: Store) -> None:
    """Deliver the console's pending alerts to standard output."""
    asyncio.run(Deliverer(store, config, [ConsoleTarget(sys.stdout)]).drain())


def run_forever(config_path: Path, config: Config, db: Path, environ: Mapping[str, str]) -> int:
    """``watcher run``: poll on schedule until SIGINT/SIGTERM; exit 0 with nothing lost."""
    from watcher.bot.settings import TelegramSettings

    telegram = TelegramSettings.from_environ(environ)
    store = Store(db)
    if telegram is not None:
        from watcher.bot.app import run_bot

        return asyncio.run(run_bot(config_path, config, db, telegram, environ))
    poller = make_poller(config, store, telegram=False, environ=environ)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("signal %d received: finishing the current step, then exiting", signum)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    due_sources = Schedule(config.sources)
    logger.info("watching %d source(s); Ctrl-C to stop", len(config.sources))
    try:
        while not stop.is_set():
            if due := due_sources.take():
                poller.poll_all(only=set(due))
                print_pending(config, store)
            stop.wait(TICK_SECONDS)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        poller.fetcher.close()
    logger.info("stopped")
    return 0
