"""Who gets an alert: each recipient of each target whose topics matched. Pure.

Targets say who their recipients are (``delivery.active.audience``); this
module only intersects topics, so it knows no target by name.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Recipient:
    """Someone a target delivers to, and the topics it wants."""

    target: str
    destination: str  # the target's own address: "console", a chat id, an @channel...
    topics: frozenset[str]
    # Only alerts from sources of these territories (/reglages); empty: every one.
    # Sources with no territory (national ones) reach everybody.
    territories: frozenset[str] = frozenset()
    # The same, from the target's own ``territories:`` filter in feeds.yml.
    target_territories: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Route:
    """One alert to queue: which target, which destination, for which topics."""

    target: str
    destination: str
    topics: tuple[str, ...]


def routes(
    matched_topics: Collection[str], audience: Iterable[Recipient], territory: str = ""
) -> list[Route]:
    """The alerts an item that matched ``matched_topics`` makes.

    A destination listed twice (a channel that also subscribed) gets one alert
    listing all its topics.
    """
    if not matched_topics:
        return []
    wanted: dict[tuple[str, str], set[str]] = {}
    for recipient in audience:
        if territory and not _place_wanted(territory, recipient):
            continue
        topics = recipient.topics & set(matched_topics)
        if topics:
            wanted.setdefault((recipient.target, recipient.destination), set()).update(topics)
    return [Route(target, dest, tuple(sorted(topics))) for (target, dest), topics in wanted.items()]


def _place_wanted(territory: str, recipient: Recipient) -> bool:
    return all(
        not chosen or territory in chosen
        for chosen in (recipient.territories, recipient.target_territories)
    )
