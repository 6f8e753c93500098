"""Wiring the Telegram bot, the poller and the outbox sender into one asyncio loop.

The schedule library decides when each source is due; polls run in a worker
thread (fetching, parsing, SQLite) so the bot keeps answering; the sender drains
the outbox every second. SIGINT/SIGTERM finish the current steps, then exit 0.
"""

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import Conflict, InvalidToken, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from watcher.bot import commands, maintainer
from watcher.bot.settings import TelegramSettings
from watcher.config import Config, load_config
from watcher.delivery.console import ConsoleTarget
from watcher.delivery.deliverer import Deliverer
from watcher.delivery.telegram import TelegramTarget
from watcher.errors import DeliveryError
from watcher.fetch import Fetcher
from watcher.poll import Poller
from watcher.scheduling import Schedule
from watcher.store import Store
from watcher.subscribers import Subscribers

logger = logging.getLogger(__name__)
TICK_SECONDS = 1.0
# `watcher poll` waits this long at most for alerts Telegram asked to hold back.
SETTLE_SECONDS = 120.0


class Runtime:
    """What the handlers share: the configuration (reloadable), the store, the poller."""

    def __init__(
        self,
        config_path: Path | None,
        config: Config,
        store: Store,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.config_path = config_path
        self.environ = environ if environ is not None else {}
        self.store = store
        self.subscribers = Subscribers(store)
        self.config = config
        self.poller = self._poller(config)

    def _poller(self, config: Config) -> Poller:
        fetcher = Fetcher(
            timeout=config.settings.timeout, max_bytes=config.settings.max_response_bytes
        )
        return Poller(
            config,
            self.store,
            fetcher,
            telegram=True,
            subscriptions=self.subscribers.subscriptions,
            environ=self.environ,
        )

    def reload(self) -> Config:
        """Read feeds.yml again; on error the running configuration stays."""
        if self.config_path is None:
            return self.config
        config = load_config(self.config_path)
        old = self.poller
        self.config, self.poller = config, self._poller(config)
        old.fetcher.close()
        logger.info("configuration reloaded from %s", self.config_path)
        return config


def build_application(runtime: Runtime, settings: TelegramSettings) -> Application:  # type: ignore[type-arg]
    """The python-telegram-bot Application with every handler."""
    # watcher owns the HTTP clients: PTB does not close them when initialize() fails
    # (a wrong token), so close_requests() must be able to.
    # Generous timeouts: a send that times out may still have arrived, and is then
    # sent twice; waiting longer makes that rarer.
    requests = (
        HTTPXRequest(
            connection_pool_size=64, connect_timeout=15.0, read_timeout=30.0, write_timeout=30.0
        ),
        HTTPXRequest(connection_pool_size=2, read_timeout=30.0),
    )
    application = (
        Application.builder()
        .request(requests[0])
        .get_updates_request(requests[1])
        .token(settings.token)
        .base_url(settings.api_url)
        .base_file_url(settings.file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .build()
    )
    application.bot_data["runtime"] = runtime
    application.bot_data["requests"] = requests
    handlers = {
        "start": commands.start,
        "sujets": commands.topics,
        "sources": commands.sources,
        "abonnements": commands.subscriptions,
        "recent": commands.recent,
        "chercher": commands.search,
        "pause": commands.pause,
        "reprendre": commands.resume,
        "digest": commands.digest,
        "stop": commands.stop,
        "aide": commands.help_command,
        "help": commands.help_command,
        "statut": maintainer.status,
        "tester": maintainer.test_text,
        "recharger": maintainer.reload,
        "stats": maintainer.stats,
    }
    for name, handler in handlers.items():
        application.add_handler(CommandHandler(name, handler))
    application.add_handler(CallbackQueryHandler(commands.topic_button, pattern=r"^(un)?sub:"))
    application.add_handler(
        ChatMemberHandler(commands.chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.COMMAND, commands.unknown))
    application.add_error_handler(commands.on_error)
    return application


def deliverer(runtime: Runtime, application: Application) -> Deliverer:  # type: ignore[type-arg]
    """The delivery stage: Telegram, and the console for alerts queued before the token."""
    bot = application.bot

    async def notify_maintainers(text: str) -> None:
        for chat_id in runtime.config.maintainers:
            try:
                await bot.send_message(chat_id, text)
            except TelegramError as exc:  # the notice is also in the log
                logger.warning("could not tell maintainer %s: %s", chat_id, exc)

    backoff = runtime.config.settings.delivery_backoff
    return Deliverer(
        runtime.store,
        runtime.config,
        [ConsoleTarget(sys.stdout), TelegramTarget(bot)],
        notify_maintainers=notify_maintainers,
        retry_min=min(5.0, backoff),
        retry_max=backoff,
    )


async def close_requests(application: Application) -> None:  # type: ignore[type-arg]
    for request in application.bot_data.get("requests", ()):
        await request.shutdown()


async def deliver_pending_once(
    config: Config, store: Store, settings: TelegramSettings, environ: Mapping[str, str]
) -> None:
    """``watcher poll`` with a token: send what the outbox holds, then return."""
    runtime = Runtime(None, config, store, environ)
    application = build_application(runtime, settings)
    try:
        async with application:
            sender = deliverer(runtime, application)
            stats = await sender.drain(settle=SETTLE_SECONDS)
            await sender.send_digests(datetime.now(UTC))
            logger.info(
                "telegram: %d sent, %d to retry, %d failed", stats.sent, stats.retried, stats.failed
            )
    except InvalidToken:
        raise DeliveryError(
            "Telegram rejected TELEGRAM_BOT_TOKEN: check the token from @BotFather"
        ) from None
    finally:
        await close_requests(application)
        runtime.poller.fetcher.close()


async def run_bot(
    config_path: Path,
    config: Config,
    db: Path,
    settings: TelegramSettings,
    environ: Mapping[str, str],
) -> int:
    """``watcher run`` with a token: the bot, the poller and the sender until a signal."""
    store = Store(db)
    runtime = Runtime(config_path, config, store, environ)
    application = build_application(runtime, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with application:
            await application.bot.set_my_commands(commands.BOT_COMMANDS)
            await application.start()
            assert application.updater is not None
            conflicts: list[Conflict] = []

            def polling_error(error: TelegramError) -> None:
                if isinstance(error, Conflict):  # another process polls with this token
                    conflicts.append(error)
                    stop.set()
                else:
                    logger.warning("Telegram getUpdates failed, retrying: %s", error)

            await application.updater.start_polling(
                allowed_updates=Update.ALL_TYPES, error_callback=polling_error
            )
            logger.info("bot started; watching %d source(s)", len(runtime.config.sources))
            await _main_loop(runtime, application, stop)
            await application.updater.stop()
            await application.stop()
            if conflicts:
                raise DeliveryError(
                    "another process is already polling Telegram with this bot token "
                    "(409 Conflict): run one watcher per token"
                )
    except InvalidToken:
        raise DeliveryError(
            "Telegram rejected TELEGRAM_BOT_TOKEN: check the token from @BotFather"
        ) from None
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await close_requests(application)
        runtime.poller.fetcher.close()
    logger.info("stopped")
    return 0


async def _main_loop(runtime: Runtime, application: Application, stop: asyncio.Event) -> None:  # type: ignore[type-arg]
    due_sources = Schedule(runtime.config.sources)
    scheduled_config = runtime.config
    poll_task: asyncio.Task[None] | None = None
    send_task: asyncio.Task[None] | None = None
    sender = deliverer(runtime, application)

    async def poll(source_ids: list[str]) -> None:
        if not stop.is_set():
            await asyncio.to_thread(runtime.poller.poll_all, only=set(source_ids))

    async def send() -> None:
        sender.config = runtime.config
        await sender.drain()
        await sender.send_digests(datetime.now(UTC))

    while not stop.is_set():
        if scheduled_config is not runtime.config:  # after /recharger
            scheduled_config = runtime.config
            due_sources.replace(scheduled_config.sources)
        if (poll_task is None or poll_task.done()) and (due := due_sources.take()):
            poll_task = asyncio.create_task(poll(due))
        if send_task is None or send_task.done():
            if send_task is not None and send_task.exception() is not None:
                error = send_task.exception()
                if isinstance(error, DeliveryError):
                    raise error
                logger.error("delivery failed: %s", error)
            send_task = asyncio.create_task(send())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK_SECONDS)
    logger.info("stopping: finishing the current poll and sends")
    for task in (poll_task, send_task):
        if task is not None:
            try:
                await asyncio.wait_for(task, 60)
            except (TimeoutError, Exception):
                logger.warning("a task did not finish cleanly while stopping", exc_info=True)
