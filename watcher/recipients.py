"""Who may be alerted at run time: the active targets' audiences, over a snapshot of
the chats' subscriptions read lazily and reused for a moment (``decide`` intersects
them with what matched).

Only a poll that matched something asks, so a cycle of unchanged sources costs
the same with or without subscribers.
"""

import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace

from watcher.config import Config
from watcher.delivery.active import audience, wants_subscribers
from watcher.delivery.base import TargetConfig
from watcher.routing import Recipient
from watcher.store.subscribers import Subscribers

# How long a routing snapshot of the subscribers is reused between matched items.
SUBSCRIPTIONS_TTL = 2.0


class Subscriptions:
    """Which chats want which topics (and which territories), read lazily, kept briefly."""

    def __init__(self, subscribers: Subscribers, *, ttl: float = SUBSCRIPTIONS_TTL) -> None:
        self.subscribers = subscribers
        self.ttl = ttl
        self._lock = threading.Lock()
        self._value: Mapping[int, Collection[str]] = {}
        self.territories: Mapping[int, frozenset[str]] = {}  # read with the topics
        self._read_at = -float("inf")

    def __call__(self) -> Mapping[int, Collection[str]]:
        with self._lock:
            if time.monotonic() - self._read_at > self.ttl:
                self._value = self.subscribers.subscriptions()
                self.territories = self.subscribers.territories()
                self._read_at = time.monotonic()
            return self._value

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = -float("inf")


def with_territories(
    recipients: list[Recipient], territories: Mapping[int, frozenset[str]]
) -> list[Recipient]:
    """The chats' territory choices (/reglages) added to their recipients."""
    if not territories:
        return recipients
    return [
        replace(r, territories=territories.get(int(r.destination), frozenset()))
        if r.destination.lstrip("-").isdigit()
        else r
        for r in recipients
    ]


def recipients_for(
    config: Config, targets: Sequence[TargetConfig], subscriptions: Subscriptions
) -> Callable[[], list[Recipient]]:
    """Who may be alerted: the targets' audience, rebuilt when the subscriptions change."""
    serve_chats = wants_subscribers(targets)
    recipients: list[Recipient] = []
    read: Mapping[int, Collection[str]] | None = None

    def current() -> list[Recipient]:
        nonlocal recipients, read
        snapshot = subscriptions() if serve_chats else {}
        if snapshot is not read:
            recipients = audience(targets, list(config.topics), snapshot)
            recipients, read = with_territories(recipients, subscriptions.territories), snapshot
        return recipients

    return current
