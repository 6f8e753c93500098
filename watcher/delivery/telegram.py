"""Telegram's one gate: every Bot API call watcher makes, and what Telegram answered.

Alerts, follow-ups, announcements and maintainers' notices go through the outbox to
``TelegramTarget.send``; the bot's replies, button answers and redraws through
``answer``; the calls whose result the bot reads (getMe, getUpdates, getChatMember, a
document's bytes) through ``ask``. python-telegram-bot's exceptions are translated
here, and only here (``classify``), into Outcomes:

- 429 RetryAfter: hold that chat exactly ``retry_after`` seconds;
- 403 Forbidden (blocked, kicked, deactivated), 400 "chat not found": the chat is gone;
- ChatMigrated: the group became a supergroup with a new id;
- 400 "can't parse entities": a rendering bug; resent at once as plain text and logged;
  any other 400 after that is a refusal for good;
- timeouts, 5xx, resets (NetworkError): transient, retried for as long as it takes;
- 409 Conflict (another process takes this bot's updates): ``Conflict``, a transient
  the bot's polling life-cycle tells apart;
- a rejected token raises ``DeliveryError``: nothing can work without it.

``BadRequest`` and ``TimedOut`` subclass ``NetworkError``, so they are caught first.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
from telegram import Message as TgMessage
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.error import (
    Conflict as PollingConflict,
)

from watcher.delivery.base import Message
from watcher.delivery.outcome import (
    ChatGone,
    ChatMoved,
    Outcome,
    Refused,
    Sent,
    Transient,
)
from watcher.delivery.outcome import RetryAfter as Wait
from watcher.delivery.pacing import GROUP_SPACING, OVERALL_RATE, PRIVATE_SPACING, is_group
from watcher.errors import DeliveryError

logger = logging.getLogger(__name__)
NAME = "telegram"
TEXT_LIMIT = 4096
REPLY_WAIT_MAX = 60.0  # a reply held longer than this is not worth waiting for
# What Telegram answers an edit that would leave the message as it is.
NOT_MODIFIED = "message is not modified"
T = TypeVar("T")
Failure = Wait | Transient | ChatGone | ChatMoved | Refused  # an Outcome but Sent


class Conflict(Transient):
    """409: another process takes this bot's updates (getUpdates, or a webhook)."""


def chat_id_of(destination: str) -> int | str:
    """The Telegram chat id a destination names: a number, or an @channelname."""
    return int(destination) if destination.lstrip("-").isdigit() else destination


def retry_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this PTB version gives."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


@dataclass
class TelegramTarget:
    """Sends through a python-telegram-bot ``Bot`` (initialised by the runtime)."""

    bot: Bot
    name: str = NAME
    groups: bool = True
    overall_rate: float = OVERALL_RATE

    def spacing(self, destination: str) -> float:
        return GROUP_SPACING if is_group(chat_id_of(destination)) else PRIVATE_SPACING

    async def send(self, destination: str, message: Message) -> Outcome:
        chat_id = chat_id_of(destination)
        outcome = await self._send(chat_id, message, html=True)
        if isinstance(outcome, Refused) and "parse entities" in outcome.reason.lower():
            logger.error(
                "chat %s: HTML refused (%s); sent as plain text", destination, outcome.reason
            )
            outcome = await self._send(chat_id, message, html=False)
        return outcome

    async def _send(self, chat_id: int | str, message: Message, *, html: bool) -> Outcome:
        """One sendMessage, and what Telegram answered."""
        sent = await ask(
            lambda: self.bot.send_message(
                chat_id,
                message.html if html else message.plain[:TEXT_LIMIT],
                parse_mode=ParseMode.HTML if html else None,
                link_preview_options=LinkPreviewOptions(is_disabled=not message.preview),
                disable_notification=message.silent,
                reply_parameters=(
                    ReplyParameters(message.reply_to, allow_sending_without_reply=True)
                    if message.reply_to is not None
                    else None
                ),
                reply_markup=_keyboard(message),
            )
        )
        return Sent(sent.message_id) if isinstance(sent, TgMessage) else sent


def classify(exc: Exception) -> Failure:
    """What a Bot API error means for the call: decided here, once, for every call."""
    if isinstance(exc, InvalidToken):
        raise DeliveryError(
            "Telegram rejected TELEGRAM_BOT_TOKEN: check the token from @BotFather"
        ) from exc
    if isinstance(exc, RetryAfter):
        return Wait(retry_seconds(exc))
    if isinstance(exc, ChatMigrated):
        return ChatMoved(str(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        return ChatGone(exc.message)
    if isinstance(exc, BadRequest):  # before NetworkError, which it subclasses
        if "chat not found" in exc.message.lower():
            return ChatGone(exc.message)
        return Refused(exc.message)
    if isinstance(exc, TimedOut | NetworkError):  # a timed-out send may have arrived
        return Transient(f"network: {exc.message}")
    if isinstance(exc, PollingConflict):
        return Conflict(f"telegram: {exc.message}")
    return Transient(f"telegram: {exc}")  # an answer PTB cannot classify


def describe(outcome: Outcome) -> str:
    """An outcome in a log line."""
    match outcome:
        case Sent():
            return "sent"
        case Wait(seconds):
            return f"asked to wait {seconds:.0f}s"
        case Transient(error):
            return error
        case ChatGone(reason) | Refused(reason):
            return reason
        case ChatMoved(new_destination):
            return f"moved to {new_destination}"


async def ask(call: Callable[[], Awaitable[T]]) -> T | Failure:
    """One Bot API call: its result, or its failure classified (a rejected token raises
    DeliveryError)."""
    try:
        return await call()
    except TelegramError as exc:
        return classify(exc)


async def attempt(call: Callable[[], Awaitable[object]]) -> Outcome:
    """One Bot API call whose result is not needed: Sent, or its failure classified."""
    result = await ask(call)
    return result if isinstance(result, Failure) else Sent()


async def answer(call: Callable[[], Awaitable[object]], what: str) -> Outcome:
    """One reply to a person (a message, a button's answer, a redraw), through the gate:
    a 429 is waited once (a person is waiting for it), an edit that changes nothing is
    done already, anything else is logged and the person can ask again."""
    outcome = await attempt(call)
    if isinstance(outcome, Wait) and outcome.seconds <= REPLY_WAIT_MAX:
        await asyncio.sleep(outcome.seconds)
        outcome = await attempt(call)
    if isinstance(outcome, Refused) and NOT_MODIFIED in outcome.reason.lower():
        return Sent()
    if not isinstance(outcome, Sent):
        logger.warning("%s: not answered (%s)", what, describe(outcome))
    return outcome


async def download(bot: Bot, file_id: str) -> bytes | Failure:
    """A document a user sent: getFile, then its bytes."""

    async def fetch() -> bytes:
        file = await bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    return await ask(fetch)


def _keyboard(message: Message) -> InlineKeyboardMarkup | None:
    if not message.keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.text, url=b.url)
                if b.url
                else InlineKeyboardButton(b.text, callback_data=b.data)
                for b in row
            ]
            for row in message.keyboard
        ]
    )
