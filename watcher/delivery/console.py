"""The terminal as a delivery target: every alert in plain text, when no token is set."""

from dataclasses import dataclass
from typing import TextIO

from watcher.delivery.base import Host, Message, Opened, TargetConfig, TargetKind
from watcher.delivery.outcome import Outcome, Sent, Transient
from watcher.fields import NoOptions

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


def _open(target: TargetConfig, host: Host) -> Opened:
    return Opened(ConsoleTarget(host.out, name=target.name))


KIND = TargetKind(NAME, NoOptions, _open)
