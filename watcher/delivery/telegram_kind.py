"""Telegram as a configured target: its options, its audience, and how it opens.

``targets: [{kind: telegram}]`` is today's bot: the subscribed chats, and the
channels of feeds.yml (top-level ``channels:``, which keeps working as written,
and the entry's own ``channels:``). The token is read from the environment
variable ``token_env`` names (``TELEGRAM_BOT_TOKEN`` by default). The Bot API
calls themselves are in ``delivery.telegram``; the bot's wiring is the host's
(``Host.telegram``), so this module imports neither python-telegram-bot nor the bot.
"""

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from watcher.delivery.base import Host, Opened, OptionError, TargetConfig, TargetKind, env_name
from watcher.routing import Recipient

NAME = "telegram"
DEFAULT_TOKEN_ENV = "TELEGRAM_BOT_TOKEN"


@dataclass(frozen=True)
class ChannelConfig:
    """A Telegram chat that receives every alert of its topics."""

    chat_id: int | str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class TelegramOptions:
    token_env: str = DEFAULT_TOKEN_ENV
    channels: tuple[ChannelConfig, ...] = ()


def channel(raw: object, path: str, topics: Collection[str]) -> ChannelConfig:
    """One ``{chat_id, topics}`` entry, its chat id a number or an @channelname."""
    if not isinstance(raw, Mapping) or set(raw) - {"chat_id", "topics"}:
        raise OptionError(path, "must be a mapping of chat_id and topics")
    chat_id = raw.get("chat_id")
    if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id.strip()):
        chat_id = int(chat_id)
    if isinstance(chat_id, bool) or not (
        isinstance(chat_id, int) or (isinstance(chat_id, str) and chat_id.startswith("@"))
    ):
        raise OptionError(f"{path}.chat_id", f"{chat_id!r} must be a numeric chat id or an @name")
    wanted = raw.get("topics", list(topics))
    wanted = [wanted] if isinstance(wanted, str) else wanted
    if not isinstance(wanted, list) or not wanted:
        raise OptionError(f"{path}.topics", "must be a non-empty list of topic ids")
    for i, topic in enumerate(wanted):
        if topic not in topics:
            raise OptionError(f"{path}.topics[{i}]", f"unknown topic {topic!r}")
    return ChannelConfig(chat_id, tuple(wanted))


def _options(data: Mapping[str, Any], topics: Collection[str]) -> TelegramOptions:
    for key in data:
        if key not in ("token_env", "channels"):
            raise OptionError(key, "unknown key; expected token_env, channels")
    raw = data.get("channels", [])
    if not isinstance(raw, list):
        raise OptionError("channels", "must be a list of {chat_id, topics}")
    return TelegramOptions(
        token_env=env_name(data, "token_env", DEFAULT_TOKEN_ENV),
        channels=tuple(channel(c, f"channels[{i}]", topics) for i, c in enumerate(raw)),
    )


def _secrets(options: TelegramOptions) -> tuple[str, ...]:
    return (options.token_env,)


def audience(
    target: TargetConfig, topics: Collection[str], subscriptions: Mapping[int, Collection[str]]
) -> list[Recipient]:
    """The channels and the subscribed chats (active, not paused)."""
    options: TelegramOptions = target.options or TelegramOptions()
    recipients = [
        Recipient(target.name, str(c.chat_id), frozenset(c.topics)) for c in options.channels
    ]
    recipients += [
        Recipient(target.name, str(chat_id), frozenset(wanted))
        for chat_id, wanted in subscriptions.items()
    ]
    return recipients


def _open(target: TargetConfig, host: Host) -> Opened:
    return host.telegram(target)


KIND = TargetKind(
    name=NAME,
    options=_options,
    secrets=_secrets,
    audience=audience,
    open=_open,
    subscribers=True,
)
