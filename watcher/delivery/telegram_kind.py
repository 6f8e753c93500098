"""Telegram as a configured target: its options, its audience, and how it opens.

``targets: [{kind: telegram}]`` is today's bot: the subscribed chats, and the
channels of feeds.yml (top-level ``channels:``, which keeps working as written,
and the entry's own ``channels:``, read by the same declaration). The token is
read from the environment variable ``token_env`` names (``TELEGRAM_BOT_TOKEN``
by default). The Bot API calls themselves are in ``delivery.telegram``; the
bot's wiring is the host's (``Host.telegram``), so this module imports neither
python-telegram-bot nor the bot.
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from watcher.delivery.base import Host, Opened, TargetConfig, TargetKind
from watcher.fields import entry, env_name, option, topic_ids, tuple_of
from watcher.routing import Recipient

NAME = "telegram"
DEFAULT_TOKEN_ENV = "TELEGRAM_BOT_TOKEN"


def chat_id(value: object) -> int | str:
    """A Telegram chat: its number, or a public channel's @name."""
    # Quoted ids are common, "-100555" copied as is from a message link or a bot.
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.startswith("@"))
    ):
        raise ValueError(f"{value!r} must be a numeric chat id or an @channelname")
    return value


@dataclass(frozen=True)
class ChannelConfig:
    """A Telegram chat that receives every alert of its topics."""

    chat_id: int | str = option(parse=chat_id, missing="give the chat's number or @channelname")
    topics: tuple[str, ...] = option((), parse=topic_ids)  # none given: every topic


# feeds.yml's ``channels:``, at the top level and in a telegram target.
CHANNELS = tuple_of(entry(ChannelConfig), allow_empty=True)


@dataclass(frozen=True)
class TelegramOptions:
    """Its feeds.yml keys: the variable holding the bot's token, its channels."""

    token_env: str = option(DEFAULT_TOKEN_ENV, parse=env_name)
    channels: tuple[ChannelConfig, ...] = option((), parse=CHANNELS)


def audience(
    target: TargetConfig, topics: Collection[str], subscriptions: Mapping[int, Collection[str]]
) -> list[Recipient]:
    """The channels and the subscribed chats (active, not paused)."""
    options: TelegramOptions = target.options or TelegramOptions()
    recipients = [
        Recipient(target.name, str(c.chat_id), frozenset(c.topics or topics))
        for c in options.channels
    ]
    recipients += [
        Recipient(target.name, str(chat_id), frozenset(wanted))
        for chat_id, wanted in subscriptions.items()
    ]
    return recipients


def _open(target: TargetConfig, host: Host) -> Opened:
    return host.telegram(target)


KIND = TargetKind(
    NAME, TelegramOptions, _open, audience, subscribers=True, own_name="one bot per token"
)
