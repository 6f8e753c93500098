"""Telegram's one gate: every message the bot sends (alerts, follow-ups, announcements,
maintainers' notices through the outbox; replies to commands through ``answer``) and
what Telegram answered.

python-telegram-bot's exceptions are translated here, and only here (``classify``),
into Outcomes:

- 429 RetryAfter: hold that chat exactly ``retry_after`` seconds;
- 403 Forbidden (blocked, kicked, deactivated), 400 "chat not found": the chat is gone;
- ChatMigrated: the group became a supergroup with a new id;
- 400 "can't parse entities": a rendering bug; resent at once as plain text and logged;
  any other 400 after that is a refusal for good;
- timeouts, 5xx, resets (NetworkError): transient, retried for as long as it takes.

``BadRequest`` and ``TimedOut`` subclass ``NetworkError``, so they are caught first.
"""

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
)
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
        try:
            return await self._send(chat_id, message, html=True)
        except BadRequest as exc:
            if "parse entities" not in exc.message.lower():
                return classify(exc)
            logger.error("chat %s: HTML refused (%s); sent as plain text", destination, exc.message)
        try:
            return await self._send(chat_id, message, html=False)
        except BadRequest as exc:
            return classify(exc)

    async def _send(self, chat_id: int | str, message: Message, *, html: bool) -> Outcome:
        """One sendMessage; PTB's answers as Outcomes, BadRequest left to the caller."""
        try:
            sent = await self.bot.send_message(
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
        except BadRequest:
            raise
        except TelegramError as exc:
            return classify(exc)
        return Sent(sent.message_id)


def classify(exc: TelegramError) -> Outcome:
    """What a Bot API error means for the message: decided here, once, for every call."""
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
    return Transient(f"telegram: {exc.message}")  # e.g. 409, or an answer PTB cannot classify


async def answer(call: Callable[[], Awaitable[object]], what: str) -> Outcome:
    """One reply to a command, through the gate: a 429 is waited once (a person is
    waiting for it), anything else is logged and the command can be sent again."""
    outcome = await attempt(call)
    if isinstance(outcome, Wait) and outcome.seconds <= REPLY_WAIT_MAX:
        await asyncio.sleep(outcome.seconds)
        outcome = await attempt(call)
    if not isinstance(outcome, Sent):
        logger.warning("%s: not answered (%s)", what, outcome)
    return outcome


async def attempt(call: Callable[[], Awaitable[object]]) -> Outcome:
    """One Bot API call, its failure classified (a rejected token raises DeliveryError)."""
    try:
        await call()
    except TelegramError as exc:
        return classify(exc)
    return Sent()


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
