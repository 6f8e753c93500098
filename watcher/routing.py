"""Who gets an alert: the console, or the Telegram chats whose topics matched. Pure."""

from collections.abc import Collection, Mapping, Sequence

from watcher.config import ChannelConfig

CONSOLE = "console"


def destinations(
    matched_topics: Collection[str],
    *,
    telegram: bool,
    channels: Sequence[ChannelConfig],
    subscriptions: Mapping[int, Collection[str]],
) -> list[tuple[str, list[str]]]:
    """(destination, topics it gets) pairs for an item that matched ``matched_topics``.

    Without Telegram every alert goes to the console. With it, a chat that both
    is a channel and subscribed gets one alert listing all its topics.
    """
    if not matched_topics:
        return []
    if not telegram:
        return [(CONSOLE, sorted(matched_topics))]
    wanted: dict[str, set[str]] = {}
    for channel in channels:
        topics = set(channel.topics) & set(matched_topics)
        if topics:
            wanted.setdefault(str(channel.chat_id), set()).update(topics)
    for chat_id, chat_topics in subscriptions.items():
        topics = set(chat_topics) & set(matched_topics)
        if topics:
            wanted.setdefault(str(chat_id), set()).update(topics)
    return [(dest, sorted(topics)) for dest, topics in wanted.items()]


def chat_id_of(destination: str) -> int | str:
    """The Telegram chat id a destination names: a number, or an @channelname."""
    return int(destination) if destination.lstrip("-").isdigit() else destination
