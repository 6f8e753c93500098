"""Sending the notices outbox (``store.notices``) through the targets, like alerts.

Each notice goes through its target's ``send`` (for Telegram, the one gate that
classifies the Bot API's answers), paced by the deliverer's pacer of that target,
and what happened is recorded through the same pure ``outcome.apply``.
"""

import asyncio
import logging

from watcher.delivery.base import Button, Message, Target
from watcher.delivery.deliverer import Deliverer, plain_text
from watcher.delivery.outcome import (
    AlertState,
    DeactivateChat,
    DeferChat,
    MarkRefused,
    MarkSent,
    MoveChat,
    RetryAt,
    apply,
)
from watcher.store.notices import Notice, Notices

logger = logging.getLogger(__name__)


async def send_notices(sender: Deliverer, notices: Notices) -> int:
    """Send every due notice of every target; how many were taken."""
    taken = 0
    for target in sender.targets.values():
        due = await sender.run_blocking(notices.due, target.name, now=sender.now())
        waiting: set[str] = set()
        for notice in due:
            if notice.destination in waiting:
                continue  # this destination must wait: its later notices keep their order
            if await _send(sender, notices, target, notice):
                taken += 1
            else:
                waiting.add(notice.destination)
    return taken


async def _send(sender: Deliverer, notices: Notices, target: Target, notice: Notice) -> bool:
    pacer = sender.pacers[target.name]
    at = pacer.reserve(notice.destination, target.spacing(notice.destination), sender.clock())
    if (delay := at - sender.clock()) > 0:
        await asyncio.sleep(delay)
    keyboard = tuple((Button(label, data=data),) for label, data in notice.buttons)
    message = Message(notice.text, plain_text(notice.text), keyboard=keyboard)
    outcome = await target.send(notice.destination, message)
    now = sender.now()
    change = apply(
        outcome,
        AlertState(notice.attempts),
        now,
        retry_min=sender.retry_min,
        retry_max=sender.retry_max,
    )
    match change:
        case MarkSent():
            await sender.run_blocking(notices.sent, notice.id, now=now)
            return True
        case DeferChat(until):
            pacer.hold(notice.destination, sender.clock() + (until - now).total_seconds())
            await sender.run_blocking(notices.defer, target.name, notice.destination, until=until)
        case RetryAt(at_time, error):
            await sender.run_blocking(notices.retry, notice.id, error, at=at_time)
        case DeactivateChat(reason):
            await sender.run_blocking(notices.end, notice.id, "gone", reason)
        case MoveChat(new):
            await sender.run_blocking(notices.move, notice.destination, new)
        case MarkRefused(reason):
            logger.error(
                "%s %s: notice refused for good: %s", target.name, notice.destination, reason
            )
            await sender.run_blocking(notices.end, notice.id, "refused", reason)
    return False
