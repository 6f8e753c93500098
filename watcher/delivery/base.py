"""What every delivery target is: a name, its pacing, and ``send`` one message -> an Outcome.

A target never touches the outbox: the deliverer decides what to send, the
target says what happened (``outcome``), and ``outcome.apply`` what follows.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from watcher.config import Config
from watcher.delivery.outcome import Outcome
from watcher.routing import Recipient


@dataclass(frozen=True)
class Button:
    """An inline button: a callback (``data``) or a link (``url``)."""

    text: str
    data: str = ""
    url: str = ""


@dataclass(frozen=True)
class Message:
    """One rendered message, in both forms: HTML first, plain text as the fallback."""

    html: str
    plain: str
    reply_to: int | None = None  # the target's id of the message this one follows up
    keyboard: tuple[tuple[Button, ...], ...] = ()
    silent: bool = False
    preview: bool = False


class Target(Protocol):
    """Somewhere alerts go: the terminal, Telegram, tomorrow a webhook or e-mail."""

    @property
    def name(self) -> str:
        """The ``target`` of the alert rows this target sends."""

    @property
    def groups(self) -> bool:
        """Whether bursts go grouped and digests apply (a person reads them on a phone)."""

    @property
    def overall_rate(self) -> float:
        """Messages per second at most, all destinations together (0: no limit)."""

    def spacing(self, destination: str) -> float:
        """Seconds at least between two messages to one destination."""

    async def send(self, destination: str, message: Message) -> Outcome:
        """Send one message; say what happened, never raise for a refusal or a network error."""


class Audience(Protocol):
    """Who a target's alerts are for: each recipient and the topics it wants."""

    def __call__(
        self, config: Config, subscriptions: Mapping[int, Collection[str]]
    ) -> list[Recipient]: ...
