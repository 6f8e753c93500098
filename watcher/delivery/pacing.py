"""Pacing sends under a target's limits. Pure: times in, times out.

Telegram allows about 1 message/s per private chat, 20/min per group or
channel, 30/s overall. The exact algorithms are not published, so watcher paces
a little below them rather than probing them, and holds a chat exactly
``retry_after`` when told to.
"""

from collections import deque
from dataclasses import dataclass, field

PRIVATE_SPACING = 1.0
GROUP_SPACING = 60.0 / 20
OVERALL_RATE = 29.0


def is_group(chat_id: int | str) -> bool:
    """Groups and channels have negative ids, or an @name for public channels."""
    return isinstance(chat_id, str) or chat_id < 0


@dataclass
class Pacer:
    """Reserves a send time per destination, respecting its spacing and the overall rate."""

    overall_rate: float = OVERALL_RATE  # 0: no overall limit
    chat_free_at: dict[str, float] = field(default_factory=dict)
    overall_free_at: float = 0.0
    # When the last sends actually went: reserved slots drift when the event loop is
    # late, and the sends held meanwhile would leave together, past the cap.
    recent: deque[float] = field(default_factory=deque)

    def reserve(self, destination: str, spacing: float, now: float) -> float:
        """The earliest time a message to this destination may go; books that slot."""
        at = max(now, self.chat_free_at.get(destination, 0.0), self.overall_free_at)
        self.chat_free_at[destination] = at + spacing
        if self.overall_rate > 0:
            self.overall_free_at = at + 1.0 / self.overall_rate
        return at

    def hold(self, destination: str, until: float) -> None:
        """The target said retry_after: nothing to this destination before ``until``."""
        self.chat_free_at[destination] = max(self.chat_free_at.get(destination, 0.0), until)

    def free_at(self, destination: str) -> float:
        return self.chat_free_at.get(destination, 0.0)

    def overall_wait(self, now: float) -> float:
        """Seconds before one more send keeps it within ``overall_rate`` sends in any
        second, as the sends actually go (0: it may go now)."""
        if self.overall_rate <= 0:
            return 0.0
        while self.recent and now - self.recent[0] >= 1.0:
            self.recent.popleft()
        if len(self.recent) < int(self.overall_rate):
            return 0.0
        return 1.0 - (now - self.recent[0])

    def sent(self, now: float) -> None:
        """A send went at ``now`` (after ``overall_wait`` said it could)."""
        if self.overall_rate > 0:
            self.recent.append(now)
