"""How the bot answers people, through Telegram's one gate (``delivery.telegram``).

Replies, answers to button presses, redrawn messages and files all go through the
gate's ``answer``: a 429 is waited once (a person is waiting), an edit that changes
nothing is done already, any other failure is logged and the person can ask again.
Handlers call these, never the Bot API themselves.
"""

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from watcher.delivery.telegram import answer, describe, download

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps as Runtime

logger = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def runtime(context: Context) -> "Runtime":
    """The handlers' one dependency (``bot.deps``)."""
    value: Runtime = context.application.bot_data["runtime"]
    return value


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer in the chat the update came from."""
    message = update.effective_message
    if message is None:
        return
    await answer(
        lambda: message.reply_text(text, **kwargs),  # type: ignore[arg-type]
        f"reply in chat {message.chat_id}",
    )


async def answer_press(
    query: CallbackQuery, text: str | None = None, *, alert: bool = False
) -> None:
    """Answer a button press: a short note, or with ``alert`` a box to close."""
    await answer(
        lambda: query.answer(text, show_alert=alert), f"answer to user {query.from_user.id}'s press"
    )


async def redraw(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Rewrite the message whose button was pressed: its text and its buttons."""
    await answer(
        lambda: query.edit_message_text(text, reply_markup=markup),
        f"redraw for user {query.from_user.id}",
    )


async def redraw_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    """Change only the buttons of the message whose button was pressed."""
    await answer(
        lambda: query.edit_message_reply_markup(reply_markup=markup),
        f"buttons redrawn for user {query.from_user.id}",
    )


async def send_file(
    context: Context, chat_id: int, data: bytes, *, filename: str, caption: str
) -> None:
    """A document sent to the chat (``/export``)."""
    await answer(
        lambda: context.bot.send_document(chat_id, data, filename=filename, caption=caption),
        f"file {filename} to chat {chat_id}",
    )


async def received_file(context: Context, file_id: str) -> bytes | None:
    """The bytes of a document a user sent; None when Telegram would not give them."""
    data = await download(context.bot, file_id)
    if isinstance(data, bytes):
        return data
    logger.warning("could not read the file a user sent: %s", describe(data))
    return None
