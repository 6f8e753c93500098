"""The terminal as a delivery target: every alert in plain text, when no token is set."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from watcher.delivery.base import (
    Host,
    Message,
    Opened,
    OptionError,
    TargetConfig,
    TargetKind,
    no_secrets,
    whole_audience,
)
from watcher.delivery.outcome import Outcome, Sent, Transient

NAME = "console"


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


def _options(data: Mapping[str, Any], topics: Collection[str]) -> None:
    for key in data:
        raise OptionError(key, "unknown key; the console takes no option")


def _open(target: TargetConfig, host: Host) -> Opened:
    return Opened(ConsoleTarget(host.out, name=target.name))


KIND = TargetKind(
    name=NAME,
    options=_options,
    secrets=no_secrets,
    audience=lambda target, topics, subscriptions: whole_audience(target, topics),
    open=_open,
)
