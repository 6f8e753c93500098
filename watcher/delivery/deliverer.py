"""The delivery stage: due alerts from the outbox -> rendered messages -> targets -> outcomes.

For each target, the alerts due now are read a batch of destinations at a time
(``batches``), the next batch while one is being sent; each destination's alerts
become messages (``compose``: grouped in a burst, else one each) sent in order,
paced under the target's limits. What the target answers goes through the pure
``outcome.apply`` and is recorded at once (``recording``), so a crash at any
moment loses nothing and repeats at most the messages in flight. Digest chats get
one compact message set a day instead (``send_digests``).

Every blocking call (SQLite) goes through ``run_blocking``, an executor the
runtime provides, so the event loop never waits on the disk.

Reliability: a full disk is a pause, not a storm. When the outbox cannot record
that a message was taken, its alerts are held in memory as sent (never sent
again by this process), nothing more is sent, and ``drain`` raises
``StorageFull``; the next drain writes those records first. A stored alert that
cannot be rendered goes as plain text instead of blocking its chat.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from watcher.config import Config
from watcher.delivery.base import Message, Target
from watcher.delivery.batches import BATCH_DESTINATIONS, Batch, DueBatches
from watcher.delivery.buttons import follow_keyboard
from watcher.delivery.compose import Composer, plain_text, styled_message
from watcher.delivery.outcome import (
    RETRY_MAX,
    RETRY_MIN,
    AlertState,
    DeactivateChat,
    DeferChat,
    MarkRefused,
    MarkSent,
    OutboxChange,
    apply,
)
from watcher.delivery.pacing import Pacer
from watcher.delivery.preferences import ChatPreferences, Preferences
from watcher.delivery.recording import Attempt, OutcomeBook, Unrecorded
from watcher.delivery.render import AlertView
from watcher.store import Store
from watcher.store.outbox import PendingAlert
from watcher.store.space import is_disk_full
from watcher.store.subscribers import Subscribers

__all__ = ["Deliverer", "DeliveryStats", "NotifyMaintainers", "RunBlocking", "plain_text"]

T = TypeVar("T")

# Sends in flight at once, all targets together: at Telegram's 30 msg/s this leaves
# half a second per send; more only grows the HTTP pool that each request scans
# (httpcore checks every pooled connection), which a burst to thousands of chats pays.
MAX_CONCURRENT_SENDS = 16


class RunBlocking(Protocol):
    """Runs a blocking call away from the event loop (``asyncio.to_thread`` by default)."""

    def __call__(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> Awaitable[T]: ...


NotifyMaintainers = Callable[[str], Awaitable[None]]


@dataclass
class DeliveryStats:
    sent: int = 0  # alerts delivered
    messages: int = 0  # messages that carried them
    retried: int = 0  # sends to try again (429, network, moved chat)
    failed: int = 0  # alerts ended by a permanent failure
    notices: list[str] = field(default_factory=list)  # what maintainers were told


class Deliverer:
    """Sends the outbox through its targets, paced, recording each outcome."""

    def __init__(
        self,
        store: Store,
        config: Config,
        targets: Sequence[Target],
        *,
        run_blocking: RunBlocking = asyncio.to_thread,
        preferences: Preferences | None = None,
        notify_maintainers: NotifyMaintainers | None = None,
        retry_min: float = RETRY_MIN,
        retry_max: float = RETRY_MAX,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch_destinations: int = BATCH_DESTINATIONS,
    ) -> None:
        self.store = store
        self.outbox = store.outbox
        self.targets = {target.name: target for target in targets}
        self.subscribers = Subscribers(store)
        self.run_blocking = run_blocking
        self.preferences = preferences or self._digest_flags
        self.notify_maintainers = notify_maintainers
        self.retry_min, self.retry_max = retry_min, retry_max
        self.clock, self.now = clock, now
        self.pacers = {target.name: Pacer(target.overall_rate) for target in targets}
        self.composer = Composer(config, now)
        self.book = OutcomeBook(self.outbox, self.subscribers)
        self.batches = DueBatches(
            self.outbox,
            self.book,
            now=now,
            clock=clock,
            retry_max=retry_max,
            destinations=batch_destinations,
        )
        self._semaphore = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
        self.unrecorded = Unrecorded(self.outbox, store.path)  # a full disk's pause

    @property
    def config(self) -> Config:
        return self.composer.config

    @config.setter
    def config(self, config: Config) -> None:
        """A reload: later renderings use the new labels and names."""
        self.composer.config = config

    def view(self, alert: PendingAlert) -> AlertView:
        """Resolve an outbox alert into what a message shows (digests use it too)."""
        return self.composer.view(alert)

    _message = staticmethod(styled_message)

    def _digest_flags(self) -> Mapping[str, ChatPreferences]:
        digest = ChatPreferences(mode="digest")
        return {str(chat_id): digest for chat_id in self.subscribers.digest_chat_ids()}

    # -- immediate and grouped delivery ----------------------------------------

    async def drain(self, settle: float = 0.0) -> DeliveryStats:
        """Send everything that is due now (digest chats excepted).

        With ``settle``, also wait for alerts deferred (429, network retry) to at
        most ``settle`` seconds from now, so a one-shot ``watcher poll`` leaves
        nothing behind that it could have sent, and still ends during an outage.
        """
        stats = DeliveryStats()
        deadline = self.clock() + settle
        await self.unrecorded.write(self.run_blocking)
        while True:
            preferences = await self.run_blocking(self.preferences)
            sent_any = False
            for target in self.targets.values():
                sent_any |= await self._drain_target(target, preferences, stats)
            if self.unrecorded.full is not None:
                raise self.unrecorded.full
            if sent_any:
                continue
            wait = await self.run_blocking(self.batches.seconds_to_next_attempt, list(self.targets))
            if wait is None or self.clock() + wait > deadline:
                return stats
            await asyncio.sleep(wait + 0.05)

    async def _drain_target(
        self, target: Target, preferences: Mapping[str, ChatPreferences], stats: DeliveryStats
    ) -> bool:
        """Send one target's due alerts, batch by batch; True if there were any.

        While a full batch is sent, the next is read (from SQLite, in the executor),
        so that the target is not left idle between batches.
        """
        batch = await self._read(target, preferences)
        sent_any = bool(batch)
        while batch and self.unrecorded.full is None:
            self.composer.new_batch()
            following = None
            if len(batch) >= self.batches.destinations:  # more may be due: read them now
                following = asyncio.ensure_future(self._read(target, preferences, busy=batch))
            await asyncio.gather(
                *(
                    self._send_chat(target, dest, alerts, preferences.get(dest), stats)
                    for dest, alerts in batch.items()
                )
            )
            batch = await following if following is not None else {}
        return sent_any

    async def _read(
        self,
        target: Target,
        preferences: Mapping[str, ChatPreferences],
        busy: Batch | None = None,
    ) -> Batch:
        skip = self.batches.held(target, self.pacers[target.name], preferences, busy or ())
        return await self.run_blocking(self.batches.read, target.name, skip, self.unrecorded.ids())

    async def _send_chat(
        self,
        target: Target,
        destination: str,
        alerts: list[PendingAlert],
        prefs: ChatPreferences | None,
        stats: DeliveryStats,
    ) -> None:
        """One destination's alerts in order; stop at the first that must wait."""
        prefs = prefs or ChatPreferences()
        messages = self.composer.messages(
            target.name, destination, alerts, prefs, groups=target.groups
        )
        for message, carried in messages:
            if len(carried) == 1 and carried[0].item.dossier:
                message = await self._in_thread(message, carried[0], destination)
            if not await self._deliver(target, destination, message, carried, stats):
                return  # this chat must wait: its next alerts keep their order

    async def _in_thread(self, message: Message, alert: PendingAlert, destination: str) -> Message:
        """An alert about a dossier: its follow button, and a next stage answers the
        message of the previous one."""
        dossier = alert.item.dossier
        if alert.reason == "follow-up":
            reply_to = await self.run_blocking(self.outbox.reply_target, dossier, destination)
            message = replace(message, reply_to=reply_to)
        followed = await self.run_blocking(self.store.dossiers.follows, dossier, destination)
        return replace(message, keyboard=follow_keyboard(alert.item, followed))

    # -- one message ---------------------------------------------------------------

    async def _deliver(
        self,
        target: Target,
        destination: str,
        message: Message,
        alerts: Sequence[PendingAlert],
        stats: DeliveryStats,
    ) -> bool:
        """Send one message carrying ``alerts``, record what happened; True: go on."""
        if self.unrecorded.full is not None:
            return False  # the disk is full: nothing more is sent until it can be recorded
        pacer = self.pacers[target.name]
        at = pacer.reserve(destination, target.spacing(destination), self.clock())
        if (delay := at - self.clock()) > 0:
            await asyncio.sleep(delay)
        if self.unrecorded.full is not None:
            return False
        state = AlertState(attempts=max(a.attempts for a in alerts))
        attempt = Attempt(target.name, destination, [a.id for a in alerts], self.now(), state)
        async with self._semaphore:
            while (delay := pacer.overall_wait(self.clock())) > 0:
                await asyncio.sleep(delay)
            pacer.sent(self.clock())
            outcome = await target.send(destination, message)
        change = apply(
            outcome, state, self.now(), retry_min=self.retry_min, retry_max=self.retry_max
        )
        if isinstance(change, DeferChat):
            pacer.hold(destination, self.clock() + (change.until - self.now()).total_seconds())
        try:
            notice = await self.run_blocking(self.book.record, attempt, outcome, change)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.unrecorded.hold(attempt, change, exc)  # taken, recorded when space returns
            return False
        if notice is not None:
            stats.notices.append(notice)
            if self.notify_maintainers is not None:
                await self.notify_maintainers(notice)
        return _tally(change, len(attempt.ids), stats)


def _tally(change: OutboxChange, alerts: int, stats: DeliveryStats) -> bool:
    """Count what a message's outcome did; True if the chat's next alerts may go."""
    match change:
        case MarkSent():
            stats.sent += alerts
            stats.messages += 1
            return True
        case MarkRefused():
            stats.failed += alerts
            return True
        case DeactivateChat():
            stats.failed += alerts
            return False
        case _:
            stats.retried += 1
            return False
