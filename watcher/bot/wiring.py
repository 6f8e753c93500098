"""The Telegram bot: its handlers wired into one python-telegram-bot Application.

``serve_bot`` is one task of the runtime's event loop: it starts the bot when the
Bot API answers (an API unreachable at start-up is a warning and a retry, while
polling goes on and alerts wait in the outbox), and stops it when the service
stops. A 409 Conflict while running means another process polls with the same
token: this one keeps running and retries; a process that meets the conflict at
start-up is the second one, and it stops with one line.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
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

from watcher.bot import (
    chat_id,
    chat_settings,
    commands,
    export,
    following,
    maintainer,
    review,
    search,
    topics,
    words,
)
from watcher.bot.chat_queue import SLOW_DOWN, PerChatProcessor
from watcher.bot.settings import TelegramSettings
from watcher.delivery.outcome import Sent
from watcher.delivery.telegram import Conflict, answer, ask, attempt, classify, describe
from watcher.errors import DeliveryError

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps

logger = logging.getLogger(__name__)
BotApplication: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
# Start-up retries when the Bot API cannot be reached: 5 s, doubling, at most 5 min.
FIRST_RETRY_SECONDS = 5.0
MAX_RETRY_SECONDS = 300.0
# How long a starting bot listens for another process polling with its token.
PROBE_SECONDS = 3.0
SECOND_PROCESS = (
    "another process is already polling Telegram with this bot token "
    "(409 Conflict): run one watcher per token"
)


def build_application(service: "BotDeps", settings: TelegramSettings) -> BotApplication:
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
    # Reliability: chats are handled side by side, each in order, with a limit each.
    processor = PerChatProcessor()
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
        .concurrent_updates(processor)
        .build()
    )
    processor.tell = lambda chat: answer(
        lambda: application.bot.send_message(chat, SLOW_DOWN), f"slow-down notice to chat {chat}"
    )
    application.bot_data["runtime"] = service
    application.bot_data["requests"] = requests
    handlers = {
        "start": commands.start,
        "sujets": topics.topics,
        "sources": topics.sources,
        "abonnements": topics.subscriptions,
        "recent": search.recent,
        "chercher": search.search,
        "pause": commands.pause,
        "reprendre": commands.resume,
        "digest": commands.digest,
        "stop": commands.stop,
        "aide": commands.help_command,
        "help": commands.help_command,
        "statut": maintainer.status,
        "verifier": maintainer.verify,
        "tester": maintainer.test_text,
        "recharger": maintainer.reload,
        "stats": maintainer.stats,
        "reglages": chat_settings.settings,
        "id": chat_id.chat_id,
        "mots": words.words,
        "export": export.export,
        "import": export.import_command,
    }
    for name, handler in {**handlers, **following.COMMANDS}.items():
        application.add_handler(CommandHandler(name, handler))
    review.register(application)  # /revue and its 👍 / 👎 buttons (maintainers)
    application.add_handler(CallbackQueryHandler(topics.topic_button, pattern=r"^(un)?sub:"))
    application.add_handler(CallbackQueryHandler(search.search_more, pattern=r"^plus:"))
    application.add_handler(CallbackQueryHandler(chat_settings.settings_button, pattern=r"^set:"))
    application.add_handler(
        CallbackQueryHandler(following.follow_button_pressed, pattern=following.CALLBACK_PATTERN)
    )
    application.add_handler(
        CallbackQueryHandler(following.stop_button_pressed, pattern=following.STOP_PATTERN)
    )
    application.add_handler(CallbackQueryHandler(words.remove_button, pattern=words.REMOVE_PATTERN))
    application.add_handler(
        ChatMemberHandler(commands.chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.COMMAND, commands.unknown))
    application.add_handler(
        MessageHandler(
            filters.Document.ALL & filters.CaptionRegex(r"^/import"), export.import_document
        )
    )
    application.add_handler(
        MessageHandler(~filters.COMMAND & filters.ChatType.PRIVATE, chat_id.free_text)
    )
    application.add_error_handler(commands.on_error)
    return application


async def close_requests(application: BotApplication) -> None:
    for request in application.bot_data.get("requests", ()):
        await request.shutdown()


async def connect(application: BotApplication, service: "BotDeps") -> bool:
    """Initialise the bot (getMe), retrying while the Bot API is unreachable.

    Returns False when the service stopped first. A rejected token is fatal.
    """
    return await retried(application.initialize, service)


async def retried(call: Callable[[], Awaitable[object]], service: "BotDeps") -> bool:
    """Make a Bot API call until Telegram takes it: 5 s, doubling, at most 5 min apart.

    Returns False when the service stopped first; a rejected token raises.
    """
    delay = FIRST_RETRY_SECONDS
    while not service.stopping:
        outcome = await attempt(call)
        if isinstance(outcome, Sent):
            return True
        logger.warning(
            "Telegram Bot API unreachable (%s): polling goes on, alerts wait in the "
            "outbox; retrying in %.0fs",
            describe(outcome),
            delay,
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(service.wait_stopping(), delay)
        delay = min(delay * 2, MAX_RETRY_SECONDS)
    return False


async def refuse_second_process(application: BotApplication) -> None:
    """Stop here, before taking updates, when another process polls with this token.

    Telegram ends a pending getUpdates with 409 when another one arrives, so once
    both poll, both see conflicts and neither can tell it came second. A starting
    bot therefore listens first: its long poll ends the running bot's, which asks
    again within about a second (python-telegram-bot retries after 1 s), and that
    request ends ours with 409. After PROBE_SECONDS without one, this process
    takes updates. A network error ends the probe early: the update loop retries.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROBE_SECONDS
    # A webhook also makes getUpdates answer 409; polling would delete it anyway.
    answered = await attempt(application.bot.delete_webhook)
    while isinstance(answered, Sent) and loop.time() < deadline:
        updates = await ask(lambda: application.bot.get_updates(timeout=1, limit=1))
        if not isinstance(updates, tuple):
            answered = updates
        elif updates:  # answered at once: wait a little rather than spin
            await asyncio.sleep(0.2)
    if isinstance(answered, Conflict):
        raise DeliveryError(SECOND_PROCESS)
    if not isinstance(answered, Sent):
        logger.warning("Telegram getUpdates failed at start-up, retrying: %s", describe(answered))


class PollingErrors:
    """python-telegram-bot's error callback for getUpdates, which it retries by itself:
    a 409 Conflict is warned of once (the other process may run for hours), any other
    failure each time."""

    def __init__(self) -> None:
        self.warned = False

    def __call__(self, error: Exception) -> None:
        outcome = classify(error)
        if not isinstance(outcome, Conflict):
            logger.warning("Telegram getUpdates failed, retrying: %s", describe(outcome))
        elif not self.warned:
            logger.warning("%s; this one keeps running and retries", SECOND_PROCESS)
            self.warned = True


async def serve_bot(application: BotApplication, service: "BotDeps") -> None:
    """Run the bot's update loop until the service stops."""
    try:
        if not await connect(application, service):
            return
        await refuse_second_process(application)
        await answer(
            lambda: application.bot.set_my_commands(commands.BOT_COMMANDS), "the command menu"
        )
        await application.start()
        updater = application.updater
        assert updater is not None
        errors = PollingErrors()
        # Starting to poll deletes any webhook first: that call may fail like any other.
        if await retried(
            lambda: updater.start_polling(allowed_updates=Update.ALL_TYPES, error_callback=errors),
            service,
        ):
            logger.info("bot started")
            await service.wait_stopping()
            await updater.stop()
        await application.stop()
        await application.shutdown()
    finally:
        await close_requests(application)
