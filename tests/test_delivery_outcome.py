"""What the outbox does after each answer of a target (pure, fixed clock)."""

from datetime import UTC, datetime, timedelta

import pytest

from watcher.delivery.outcome import (
    RETRY_MAX,
    AlertState,
    ChatGone,
    ChatMoved,
    DeactivateChat,
    DeferChat,
    MarkRefused,
    MarkSent,
    MoveChat,
    OutboxChange,
    Outcome,
    Refused,
    RetryAfter,
    RetryAt,
    Sent,
    Transient,
    apply,
    failure_kind,
)
from watcher.delivery.preferences import digest_due

NOW = datetime(2026, 7, 13, 9, 0, tzinfo=UTC)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("outcome", "attempts", "change"),
    [
        (Sent(42), 0, MarkSent(NOW, 42)),
        (Sent(), 3, MarkSent(NOW, None)),
        (RetryAfter(7), 0, DeferChat(later(7))),
        (Transient("network: Bad Gateway"), 0, RetryAt(later(5), "network: Bad Gateway")),
        (Transient("timed out"), 1, RetryAt(later(10), "timed out")),
        (Transient("timed out"), 5, RetryAt(later(160), "timed out")),
        (Transient("timed out"), 8, RetryAt(later(RETRY_MAX), "timed out")),
        # Far past the old 12-attempt cap: still retried, never failed.
        (Transient("connection refused"), 12, RetryAt(later(RETRY_MAX), "connection refused")),
        (Transient("connection refused"), 10_000, RetryAt(later(RETRY_MAX), "connection refused")),
        (
            ChatGone("Forbidden: bot was blocked by the user"),
            0,
            DeactivateChat("Forbidden: bot was blocked by the user"),
        ),
        (ChatMoved("-100042"), 0, MoveChat("-100042")),
        (
            Refused("Bad Request: message is too long"),
            2,
            MarkRefused("Bad Request: message is too long"),
        ),
    ],
    ids=[
        "sent",
        "sent-no-id",
        "429",
        "transient-first",
        "transient-second",
        "transient-doubling",
        "transient-capped",
        "transient-past-old-cap",
        "transient-forever",
        "chat-gone",
        "chat-moved",
        "refused",
    ],
)
def test_apply(outcome: Outcome, attempts: int, change: OutboxChange) -> None:
    assert apply(outcome, AlertState(attempts), NOW) == change


def test_the_retry_cap_is_a_setting() -> None:
    change = apply(Transient("down"), AlertState(30), NOW, retry_min=0.1, retry_max=0.5)
    assert change == RetryAt(later(0.5), "down")


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        (ChatGone("blocked"), "chat_gone"),
        (Refused("too long"), "refused"),
        (Transient("down"), None),
        (RetryAfter(3), None),
        (Sent(1), None),
        (ChatMoved("-1"), None),
    ],
)
def test_only_permanent_answers_are_failures(outcome: Outcome, kind: str | None) -> None:
    assert failure_kind(outcome) == kind


@pytest.mark.parametrize(
    ("last", "now", "due"),
    [
        (None, datetime(2026, 7, 13, 5, 59, tzinfo=UTC), False),  # 07:59 in Paris
        (None, datetime(2026, 7, 13, 6, 0, tzinfo=UTC), True),  # 08:00 in Paris
        ("2026-07-13T06:00:05+00:00", datetime(2026, 7, 13, 18, 0, tzinfo=UTC), False),
        ("2026-07-12T06:00:05+00:00", datetime(2026, 7, 13, 6, 30, tzinfo=UTC), True),
    ],
    ids=["before-the-hour", "at-the-hour", "sent-today", "sent-yesterday"],
)
def test_a_digest_is_due_once_a_day_after_its_hour(
    last: str | None, now: datetime, due: bool
) -> None:
    assert digest_due(last, now, "08:00", "Europe/Paris") is due
