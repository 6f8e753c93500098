"""The terminal as a delivery target: every alert in plain text, when no token is set."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TextIO

from watcher.config import Config
from watcher.delivery.base import Message
from watcher.delivery.outcome import Outcome, Sent, Transient
from watcher.routing import Recipient

NAME = "console"


def audience(config: Config, subscriptions: Mapping[int, Collection[str]]) -> list[Recipient]:
    """The terminal wants every topic."""
    return [Recipient(NAME, NAME, frozenset(config.topics))]


@dataclass
class ConsoleTarget:
    """Writes each message to ``out`` (standard output for ``watcher run``/``poll``)."""

    out: TextIO
    name: str = NAME
    groups: bool = False  # a terminal scrolls: each alert in full
    overall_rate: float = 0.0

    def spacing(self, destination: str) -> float:
        return 0.0

    async def send(self, destination: str, message: Message) -> Outcome:
        try:
            self.out.write(message.plain + "\n\n")
            self.out.flush()
        except OSError as exc:  # a closed pipe: keep the alert for the next run
            return Transient(f"console: {exc}")
        return Sent()
