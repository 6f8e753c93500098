"""Which chat a command comes from, and who may change its alerts.

No dead ends: a command from a chat the bot does not know registers it with every
topic and greets it (``chat_of``). A chat that said /stop is the exception: only
/start brings it back (in a group, an administrator's), so no other command
subscribes it again behind its back. In a group, what changes the group's alerts is
for its administrators only: Telegram is asked (through the gate), and the answer
kept for a minute.
"""

import asyncio
import html
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telegram import CallbackQuery, Chat, ChatMember, Update
from telegram.constants import ChatMemberStatus, ChatType

from watcher.bot.replies import Context, answer_press, reply, runtime
from watcher.delivery.telegram import ask, describe

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps as Runtime
    from watcher.store.subscribers import Subscriber

logger = logging.getLogger(__name__)
ADMIN_CACHE_SECONDS = 60.0
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)

ADMINS_ONLY = "Seuls les administrateurs de ce groupe peuvent changer ses alertes."


STOPPED = (
    "Ce chat s'est désabonné (/stop) : aucune alerte n'y est envoyée. /start pour vous "
    "réabonner (dans un groupe : un administrateur)."
)


async def chat_of(update: Update, context: Context) -> "tuple[Runtime, Subscriber, str] | None":
    """The chat's subscriber, registered with every topic if the bot did not know it.

    The third value is the greeting to put before the answer ('' for a known chat).
    """
    chat = update.effective_chat
    if chat is None:
        return None
    rt = runtime(context)
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    if subscriber is not None:
        return rt, subscriber, ""
    if await asyncio.to_thread(rt.subscribers.stopped, chat.id):
        await reply(update, STOPPED)
        return None
    subscriber = await register(rt, chat.id, chat.type)
    return rt, subscriber, greeting(rt, subscriber) + "\n\n"


async def register(rt: "Runtime", chat_id: int, chat_type: str) -> "Subscriber":
    """A new chat, subscribed to every topic."""
    await asyncio.to_thread(rt.subscribers.start, chat_id, chat_type, now=datetime.now(UTC))
    for topic in rt.config.topics:
        await asyncio.to_thread(rt.subscribers.subscribe, chat_id, topic)
    rt.subscriptions.invalidate()
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat_id)
    assert subscriber is not None
    return subscriber


def greeting(rt: "Runtime", subscriber: "Subscriber") -> str:
    """What a chat the bot did not know reads before the answer to its first command."""
    return (
        "👋 Bienvenue ! Vous êtes abonné(e) à : "
        + html.escape(topic_labels(rt, subscriber.topics))
        + ". Les alertes arriveront ici. /sujets pour choisir vos sujets, /aide pour tout le reste."
    )


def topic_labels(rt: "Runtime", topic_ids: "frozenset[str] | Sequence[str]") -> str:
    """The topics' labels, as the chat reads them."""
    return ", ".join(rt.config.topics[t].label for t in sorted(topic_ids) if t in rt.config.topics)


async def is_admin(update: Update, context: Context, *, channels: bool = False) -> bool:
    """In a group (and with ``channels``, a channel), whether the sender administers it
    (asked of Telegram, kept a minute)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or not (chat.type in GROUPS or (channels and chat.type == ChatType.CHANNEL)):
        return True
    if user is None:
        return False
    cache: dict[tuple[int, int], tuple[float, bool]] = context.application.bot_data.setdefault(
        "admins", {}
    )
    known = cache.get((chat.id, user.id))
    if known is not None and time.monotonic() - known[0] < ADMIN_CACHE_SECONDS:
        return known[1]
    member = await ask(lambda: context.bot.get_chat_member(chat.id, user.id))
    if not isinstance(member, ChatMember):  # unknown is not allowed; nothing is cached
        logger.warning(
            "could not ask Telegram who administers chat %s: %s", chat.id, describe(member)
        )
        return False
    allowed = member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
    cache[(chat.id, user.id)] = (time.monotonic(), allowed)
    return allowed


async def admin_chat(update: Update, context: Context) -> "tuple[Runtime, Subscriber, str] | None":
    """``chat_of`` for commands that change the chat's alerts: admins only in a group."""
    if not await is_admin(update, context):
        await reply(update, ADMINS_ONLY + " /recent et /chercher restent ouverts à tous.")
        return None
    return await chat_of(update, context)


async def admin_press(update: Update, context: Context) -> tuple[CallbackQuery, Chat, str] | None:
    """A button press that changes the chat's alerts: its query, chat and data, or None when there
    is nothing to do (no data, or a group member who is not an administrator, told so)."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None or not query.data:
        return None
    if not await is_admin(update, context):
        await answer_press(query, ADMINS_ONLY, alert=True)
        return None
    return query, chat, query.data
