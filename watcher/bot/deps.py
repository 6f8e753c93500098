"""What the bot's handlers may use: the store's views and actions, the running
configuration, and the few service actions a command triggers. Nothing else.

Handlers read it as ``runtime(context)``. It is built from the service by
``bot.target`` (the only bot module that knows the service), so the bot imports
neither the runtime nor the delivery stage.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from watcher.config import Config
from watcher.matching.engine import Assessment
from watcher.store import Store
from watcher.store.subscribers import Subscribers


class Invalidates(Protocol):
    """A cache of the subscriptions that a change of them must empty."""

    def invalidate(self) -> None: ...


@dataclass(frozen=True)
class BotDeps:
    """The bot handlers' one dependency."""

    store: Store
    subscribers: Subscribers
    subscriptions: Invalidates  # emptied when a chat changes its topics or territories
    current_config: Callable[[], Config]  # the running configuration (a reload swaps it)
    assess: Callable[[Sequence[str]], Assessment]  # /tester: the running rules, explained
    reload: Callable[[], Awaitable[Config]]  # /recharger
    environ: Mapping[str, str]  # /verifier: the sources' credentials
    is_stopping: Callable[[], bool]
    wait_stopping: Callable[[], Awaitable[None]]
    # /suivre: whether a dossier's page answers (url -> its body; FetchError otherwise).
    fetch_page: Callable[[str], Awaitable[bytes]] | None = None

    @property
    def config(self) -> Config:
        return self.current_config()

    @property
    def stopping(self) -> bool:
        return self.is_stopping()
