"""What happened to one message, and what the outbox must do about it. Pure.

A target translates its library's answers into an ``Outcome``; ``apply`` turns
that outcome into an ``OutboxChange`` with no I/O, so every transition is unit
tested with a fixed clock. Transient errors are retried for as long as it takes,
at most ``retry_max`` apart: an alert is never dropped because a network was down.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

RETRY_MIN = 5.0  # seconds before the first retry after a transient error
RETRY_MAX = 15 * 60.0  # retries never wait longer than this, and never stop


@dataclass(frozen=True)
class Sent:
    """The target took the message (``message_id``: its id there, when it has one)."""

    message_id: int | None = None


@dataclass(frozen=True)
class RetryAfter:
    """The target asks not to send to this chat for ``seconds`` (Telegram 429)."""

    seconds: float


@dataclass(frozen=True)
class Transient:
    """Network error, 5xx, timeout: try again later, however long it takes."""

    error: str


@dataclass(frozen=True)
class ChatGone:
    """The chat refuses every message (blocked, kicked, deactivated): stop sending there."""

    reason: str


@dataclass(frozen=True)
class ChatMoved:
    """The chat has a new id (a group upgraded to a supergroup): its alerts follow it."""

    new_destination: str


@dataclass(frozen=True)
class Refused:
    """This message is refused for good (even as plain text): a bug to report, not retry."""

    reason: str


Outcome = Sent | RetryAfter | Transient | ChatGone | ChatMoved | Refused


@dataclass(frozen=True)
class AlertState:
    """What ``apply`` needs to know of the alert(s) the message carried."""

    attempts: int  # sends tried before this one


# -- what the outbox does -----------------------------------------------------


@dataclass(frozen=True)
class MarkSent:
    at: datetime
    message_id: int | None


@dataclass(frozen=True)
class DeferChat:
    """Hold every pending alert of the chat until ``until``."""

    until: datetime


@dataclass(frozen=True)
class RetryAt:
    """Keep the alert pending; count the attempt; try again at ``at``."""

    at: datetime
    error: str


@dataclass(frozen=True)
class DeactivateChat:
    reason: str


@dataclass(frozen=True)
class MoveChat:
    new_destination: str


@dataclass(frozen=True)
class MarkRefused:
    reason: str


OutboxChange = MarkSent | DeferChat | RetryAt | DeactivateChat | MoveChat | MarkRefused


def retry_delay(
    attempts: int, *, retry_min: float = RETRY_MIN, retry_max: float = RETRY_MAX
) -> float:
    """Seconds before the next try after ``attempts`` failed ones: doubling, capped."""
    return float(min(retry_min * 2.0 ** min(attempts, 32), retry_max))


def apply(
    outcome: Outcome,
    state: AlertState,
    now: datetime,
    *,
    retry_min: float = RETRY_MIN,
    retry_max: float = RETRY_MAX,
) -> OutboxChange:
    """What the outbox must do after ``outcome``, decided at ``now``."""
    match outcome:
        case Sent(message_id):
            return MarkSent(now, message_id)
        case RetryAfter(seconds):
            return DeferChat(now + timedelta(seconds=seconds))
        case Transient(error):
            delay = retry_delay(state.attempts, retry_min=retry_min, retry_max=retry_max)
            return RetryAt(now + timedelta(seconds=delay), error)
        case ChatGone(reason):
            return DeactivateChat(reason)
        case ChatMoved(new_destination):
            return MoveChat(new_destination)
        case Refused(reason):
            return MarkRefused(reason)


def failure_kind(outcome: Outcome) -> str | None:
    """The permanent failure an outcome is, as counted and told to maintainers."""
    match outcome:
        case ChatGone():
            return "chat_gone"
        case Refused():
            return "refused"
        case _:
            return None
