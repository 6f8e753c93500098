"""Pacing sends under Telegram's limits. Pure: times in, times out.

About 1 message/s per private chat, 20/min per group or channel, 30/s overall.
The exact algorithms are not published, so watcher paces a little below them
rather than probing them, and backs off a chat by exactly ``retry_after``.
"""

from dataclasses import dataclass, field

PRIVATE_SPACING = 1.0
GROUP_SPACING = 60.0 / 20
OVERALL_RATE = 29.0


def is_group(chat_id: int | str) -> bool:
    """Groups and channels have negative ids, or an @name for public channels."""
    return isinstance(chat_id, str) or chat_id < 0


@dataclass
class Pacer:
    """Reserves a send time per chat, respecting per-chat and overall spacing."""

    overall_rate: float = OVERALL_RATE
    chat_free_at: dict[str, float] = field(default_factory=dict)
    overall_free_at: float = 0.0

    def reserve(self, destination: str, chat_id: int | str, now: float) -> float:
        """The earliest time a message to this chat may go; books that slot."""
        at = max(now, self.chat_free_at.get(destination, 0.0), self.overall_free_at)
        spacing = GROUP_SPACING if is_group(chat_id) else PRIVATE_SPACING
        self.chat_free_at[destination] = at + spacing
        self.overall_free_at = at + 1.0 / self.overall_rate
        return at

    def hold(self, destination: str, until: float) -> None:
        """Telegram said retry_after: nothing to this chat before ``until``."""
        self.chat_free_at[destination] = max(self.chat_free_at.get(destination, 0.0), until)

    def free_at(self, destination: str) -> float:
        return self.chat_free_at.get(destination, 0.0)
