"""How each chat wants its alerts, and when a daily digest is due. Pure.

The defaults are today's behaviour; ``/reglages`` stores per-chat choices and
gives them to the deliverer as a ``Preferences`` callable.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ChatPreferences:
    """One chat's choices."""

    mode: Literal["immediate", "grouped", "digest"] = "immediate"
    digest_time: str | None = None  # "08:00"; None: settings.digest_time
    silent: bool = False  # no notification sound
    previews: bool = False  # link previews under alerts


# Each destination's preferences (a blocking read); a destination left out has the defaults.
Preferences = Callable[[], Mapping[str, ChatPreferences]]


def digest_due(last: str | None, now: datetime, at: str, timezone: str) -> bool:
    """Whether today's digest (at ``at``, local time) is due and not yet sent."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    hour, minute = (int(p) for p in at.split(":"))
    today_at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if local < today_at:
        return False
    return last is None or datetime.fromisoformat(last).astimezone(zone) < today_at
