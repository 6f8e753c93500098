"""What every delivery target is: a kind (options, audience, opening) and, once
opened, a name, its pacing, and ``send`` one message -> an Outcome.

A target never touches the outbox: the deliverer decides what to send, the
target says what happened (``outcome``), and ``outcome.apply`` what follows.
A kind is declared by its module as one ``TargetKind`` and listed once in
``delivery.targets``; nothing else in the package names it. Its options are
declared with feeds.yml's one vocabulary (``watcher.fields``), like a source
kind's. This module imports no configuration, so ``config`` can validate
targets through the registry.
"""

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from watcher.delivery.outcome import Outcome
from watcher.delivery.render import AlertView
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


def whole_audience(
    target: TargetConfig, topics: Collection[str], subscriptions: Mapping[int, Collection[str]]
) -> list[Recipient]:
    """One recipient, named like the target, wanting every topic (its filter applies later)."""
    return [Recipient(target.name, target.name, frozenset(topics))]


@dataclass(frozen=True)
class TargetKind:
    """A kind of target: how feeds.yml configures it, whom it serves, how it opens."""

    name: str  # the feeds.yml ``kind:``
    # A frozen dataclass whose fields ARE its feeds.yml keys (``fields.option``), like a
    # source kind's: an option read by ``fields.env_name`` names a secret the run needs,
    # one read by ``fields.topic_ids`` names topics that feeds.yml must define.
    options: type[Any]
    open: Callable[[TargetConfig, Host], Opened]
    # (target, every topic id, the chats' subscriptions) -> its recipients.
    audience: Callable[
        [TargetConfig, Collection[str], Mapping[int, Collection[str]]], list[Recipient]
    ] = whole_audience
    subscribers: bool = False  # whether its audience reads the chats' subscriptions
    # Why a target of this kind is always named like it ("one bot"; "" when it may be named).
    own_name: str = ""
