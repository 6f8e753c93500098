"""A chat as a follower of dossiers: the names it follows under, whether it may.

A chat is one follower whatever name it is known by: a channel listed in feeds.yml
as ``@veille`` is followed as ``@veille``, the name its alerts go to, not a second
time under its numeric id. In a group only its administrators follow or stop, in a
channel only the channel's administrators.
"""

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Update
from telegram.constants import ChatType

from watcher.bot.chats import STOPPED, is_admin
from watcher.bot.dossier_site import source_for
from watcher.bot.replies import Context, runtime
from watcher.store.dossiers import Dossier

ADMINS_ONLY = "Réservé aux administrateurs de ce chat."


def chat_names(chat: Chat) -> list[str]:
    """The names a chat's alerts may be routed to: its id, and its @username."""
    return [str(chat.id)] + ([f"@{chat.username}"] if chat.username else [])


def spellings(context: Context, chat: Chat) -> list[str]:
    """Every name the chat may follow under: its names, as feeds.yml spells them too."""
    names = chat_names(chat)
    lowered = {n.lower() for n in names}
    listed = [str(c.chat_id) for c in runtime(context).config.channels]
    return list(dict.fromkeys(names + [c for c in listed if c.lower() in lowered]))


def follower_name(context: Context, chat: Chat, dossier: str) -> str:
    """The one name under which this chat follows a dossier (a blocking read)."""
    rt = runtime(context)
    names = chat_names(chat)
    for name in names:  # already following under one of its names: that one
        if rt.store.dossiers.follows(dossier, name):
            return name
    listed = {str(c.chat_id).lower(): str(c.chat_id) for c in rt.config.channels}
    for name in names:  # a channel of feeds.yml: the name its alerts go to
        if name.lower() in listed:
            return listed[name.lower()]
    return names[0]


async def may_follow(update: Update, context: Context, chat: Chat) -> str:
    """'' when this chat may follow from here, else why not (in French)."""
    if not await is_admin(update, context, channels=True):
        return ADMINS_ONLY
    if chat.type == ChatType.CHANNEL:
        return ""
    rt = runtime(context)
    if await asyncio.to_thread(rt.subscribers.get, chat.id) is None:
        if await asyncio.to_thread(rt.subscribers.stopped, chat.id):
            return STOPPED
        # Steps are routed to registered chats: a chat that never said /start is now.
        await asyncio.to_thread(rt.subscribers.start, chat.id, chat.type, now=datetime.now(UTC))
        rt.subscriptions.invalidate()
    return ""


async def follow(context: Context, chat: Chat, dossier: str, title: str = "") -> None:
    """The chat follows the dossier, under its one name (``title`` when none is stored)."""
    rt = runtime(context)
    existing = await asyncio.to_thread(rt.store.dossiers.get, dossier)
    destination = await asyncio.to_thread(follower_name, context, chat, dossier)
    await asyncio.to_thread(
        rt.store.dossiers.follow,
        dossier,
        source_id=existing.source_id if existing else source_for(context, dossier),
        target="telegram",
        destination=destination,
        how="channel" if chat.type == ChatType.CHANNEL else "suivre",
        now=datetime.now(UTC),
        title=existing.title
        if existing and existing.title
        else await asyncio.to_thread(rt.store.dossiers.title_of, dossier) or title,
    )


async def unfollow(context: Context, chat: Chat, dossier: str) -> None:
    """The chat stops following the dossier, under every name it may follow under."""
    rt = runtime(context)
    for name in spellings(context, chat):
        await asyncio.to_thread(rt.store.dossiers.unfollow, dossier, name)


async def follows(context: Context, chat: Chat, dossier: str) -> bool:
    """Whether the chat follows the dossier now."""
    rt = runtime(context)
    destination = await asyncio.to_thread(follower_name, context, chat, dossier)
    return await asyncio.to_thread(rt.store.dossiers.follows, dossier, destination)


async def followed_by(context: Context, chat: Chat) -> list[Dossier]:
    """The dossiers the chat follows, under any of its names, each once."""
    rt = runtime(context)
    found: dict[str, Dossier] = {}
    for name in spellings(context, chat):
        for dossier in await asyncio.to_thread(rt.store.dossiers.of_destination, name):
            found.setdefault(dossier.dossier, dossier)
    return list(found.values())
