"""What every delivery target is: a kind (options, audience, opening) and, once
opened, a name, its pacing, and ``send`` one message -> an Outcome.

A target never touches the outbox: the deliverer decides what to send, the
target says what happened (``outcome``), and ``outcome.apply`` what follows.
A kind is declared by its module as one ``TargetKind`` and listed once in
``delivery.targets``; nothing else in the package names it. This module imports
no configuration, so ``config`` can validate targets through the registry.
"""

import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from watcher.delivery.outcome import Outcome
from watcher.delivery.render import AlertView
from watcher.routing import Recipient

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_HTTP_ADDRESS = re.compile(r"^https?://[^/\s]+")


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
    # A message that carries one alert also carries its data, for targets that render
    # it their own way (a Mastodon status, a webhook's JSON), and a key that stays the
    # same for every attempt at it (idempotency: a retry is never taken twice).
    view: AlertView | None = None
    key: str = ""


class Target(Protocol):
    """Somewhere alerts go once opened: the terminal, Telegram, Mastodon, a webhook."""

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


class OptionError(ValueError):
    """A target's option is wrong: ``key`` names it, the message says what to fix."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class TargetConfig:
    """One entry of feeds.yml's ``targets:``: a kind, its name, its filters, its options."""

    kind: str
    name: str  # the alert rows' ``target``; the kind's name unless given
    topics: frozenset[str] | None = None  # only alerts of these topics (None: all)
    territories: frozenset[str] = frozenset()  # only these territories (national ones pass)
    options: Any = None  # the kind's own typed options (``TargetKind.options``)


@dataclass
class Opened:
    """A target ready to send, and what it runs or releases alongside (the bot, clients)."""

    target: Target
    tasks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    close: Callable[[], Awaitable[None]] | None = None
    # Whether it can be reached now (a one-shot ``watcher poll`` asks before sending).
    reachable: Callable[[], Awaitable[bool]] | None = None
    # The maintainers' channel, and new topics told to subscribers (the bot has both).
    notify: Callable[[str], Awaitable[None]] | None = None
    announce: Callable[[Sequence[str]], Awaitable[None]] | None = None


class Host(Protocol):
    """What opening a target may use from the service that runs it."""

    @property
    def out(self) -> TextIO:
        """Where the console writes."""

    @property
    def environ(self) -> Mapping[str, str]:
        """The environment, where secrets are read by their variable's name."""

    def telegram(self, target: TargetConfig) -> Opened:
        """The Telegram bot (alerts and commands), built by the service's wiring."""


@dataclass(frozen=True)
class TargetKind:
    """A kind of target: how feeds.yml configures it, whom it serves, how it opens."""

    name: str
    # feeds.yml's keys for this kind (the common ones excepted) -> typed options.
    options: Callable[[Mapping[str, Any], Collection[str]], Any]
    # Environment variables the options name, which must be set to open the target.
    secrets: Callable[[Any], tuple[str, ...]]
    # (target, every topic id, the chats' subscriptions) -> its recipients.
    audience: Callable[
        [TargetConfig, Collection[str], Mapping[int, Collection[str]]], list[Recipient]
    ]
    open: Callable[[TargetConfig, Host], Opened]
    subscribers: bool = False  # whether its audience reads the chats' subscriptions


def whole_audience(target: TargetConfig, topics: Collection[str]) -> list[Recipient]:
    """One recipient, named like the target, wanting every topic (its filter applies later)."""
    return [Recipient(target.name, target.name, frozenset(topics))]


def no_secrets(options: Any) -> tuple[str, ...]:
    return ()


def known_keys(data: Mapping[str, Any], allowed: Sequence[str]) -> None:
    """Refuse a key the target kind does not take (a typo would otherwise be ignored)."""
    for key in data:
        if key not in allowed:
            raise OptionError(key, f"unknown key; expected {', '.join(allowed)}")


def http_address(data: Mapping[str, Any], key: str, what: str) -> str:
    """An http(s) address option; ``what`` says what it must be, for the error."""
    value = data.get(key)
    if not isinstance(value, str) or not _HTTP_ADDRESS.match(value):
        raise OptionError(key, f"{value!r} must be {what}")
    return value


def env_name(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    """An environment variable's name (a secret is never written in feeds.yml)."""
    value = data.get(key, default)
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise OptionError(key, f"{value!r} must name an environment variable (like MASTODON_TOKEN)")
    return value
