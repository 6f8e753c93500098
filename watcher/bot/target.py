"""The bot as a delivery target: one python-telegram-bot Application that sends the
alerts (``delivery.telegram``), answers the commands (``bot.wiring``), tells the
maintainers and announces new topics.
"""

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from watcher.bot.deps import BotDeps
from watcher.bot.dossier_site import CHECK_SECONDS
from watcher.bot.maintainer import announce
from watcher.bot.settings import TelegramSettings
from watcher.bot.wiring import build_application, close_requests, serve_bot
from watcher.delivery.base import Opened, TargetConfig
from watcher.delivery.outcome import Sent
from watcher.delivery.telegram import TelegramTarget, attempt
from watcher.delivery.telegram_kind import TelegramOptions
from watcher.errors import ConfigError
from watcher.store.notices import Notices

if TYPE_CHECKING:
    from watcher.runtime import Service

logger = logging.getLogger(__name__)


def bot_deps(service: "Service") -> BotDeps:
    """The service as the bot's handlers see it: the store, the configuration, a few actions."""
    return BotDeps(
        store=service.store,
        subscribers=service.subscribers,
        subscriptions=service.subscriptions,
        current_config=lambda: service.config,
        assess=lambda fields: service.poller.matcher.assess(fields),
        reload=service.reload,
        environ=service.environ,
        is_stopping=lambda: service.stopping,
        wait_stopping=service.wait_stopping,
        fetch_page=lambda url: fetch_page(service, url),
    )


async def fetch_page(service: "Service", url: str) -> bytes:
    """One page for /suivre's check, under the fetcher's rules (private addresses only
    when the settings, or the address's own host, allow them)."""
    import asyncio

    from watcher.netguard import is_private_host

    settings = service.config.settings
    allow_private = settings.allow_private_addresses or await is_private_host(url)
    deadline = asyncio.get_running_loop().time() + CHECK_SECONDS
    response = await service.fetcher.fetch(
        "GET", url, deadline=deadline, allow_private=allow_private
    )
    return response.body if response is not None else b""


def open_bot(service: "Service", target: TargetConfig) -> Opened:
    """The Telegram target of a run, with the bot's update loop as its task."""
    options: TelegramOptions = target.options or TelegramOptions()
    settings = TelegramSettings.from_environ(service.environ, token_env=options.token_env)
    if settings is None:
        raise ConfigError(f"targets: {target.name}: set {options.token_env}")
    deps = bot_deps(service)
    application = build_application(deps, settings)
    bot = application.bot

    async def notify(text: str) -> None:
        """A notice for the maintainers, queued in the notices outbox (sent like alerts)."""
        now = datetime.now(UTC)
        key = f"notice:{now.isoformat()}:{hashlib.sha256(text.encode()).hexdigest()[:12]}"
        chats = [str(chat_id) for chat_id in sorted(service.config.maintainers)]
        await service.blocking(Notices(service.store.database).queue, target.name, chats, key, text)

    async def announce_topics(topic_ids: Sequence[str]) -> None:
        await announce(deps, topic_ids)

    async def reachable() -> bool:
        """Is the Bot API there, and is the token good (a bad one raises)?"""
        outcome = await attempt(bot.get_me)
        if isinstance(outcome, Sent):
            return True
        logger.warning(
            "Telegram Bot API unreachable (%s): alerts stay in the outbox for the next run",
            getattr(outcome, "error", outcome),
        )
        return False

    async def serve() -> None:
        await serve_bot(application, deps)

    async def close() -> None:
        await close_requests(application)

    return Opened(
        TelegramTarget(bot, name=target.name),
        tasks=[serve],
        close=close,
        reachable=reachable,
        notify=notify,
        announce=announce_topics,
    )
