"""The delivery stage: due alerts from the outbox -> rendered messages -> targets -> outcomes.

For each target, the alerts due now are grouped per destination and sent in
order, paced under the target's limits. What the target answers goes through
the pure ``outcome.apply`` and is recorded at once, so a crash at any moment
loses nothing and repeats at most the messages in flight.

Bursts: when more than ``BURST_SIZE`` alerts for one chat are due together, they
go as grouped messages, and so do the ones that follow until the chat has had no
new alert for ``BURST_QUIET`` seconds. Digest chats get one compact message set
a day instead (``send_digests``).

Every blocking call (SQLite) goes through ``run_blocking``, an executor the
runtime provides, so the event loop never waits on the disk.

Reliability: a full disk is a pause, not a storm. When the outbox cannot record
that a message was taken, its alerts are held in memory as sent (never sent
again by this process), nothing more is sent, and ``drain`` raises
``StorageFull``; the next drain writes those records first. A stored alert that
cannot be rendered goes as plain text instead of blocking its chat.
"""

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html import escape, unescape
from typing import Any, Protocol, TypeVar

from watcher.config import Config
from watcher.delivery.base import Message, Target
from watcher.delivery.buttons import follow_keyboard
from watcher.delivery.outcome import (
    RETRY_MAX,
    RETRY_MIN,
    AlertState,
    DeactivateChat,
    DeferChat,
    MarkRefused,
    MarkSent,
    MoveChat,
    OutboxChange,
    Outcome,
    RetryAt,
    apply,
    failure_kind,
)
from watcher.delivery.pacing import Pacer
from watcher.delivery.preferences import ChatPreferences, Preferences
from watcher.delivery.render import (
    AlertView,
    render_burst,
    render_html,
    render_text,
    web_url,
)
from watcher.following import stage_label
from watcher.store import Store
from watcher.store.outbox import PendingAlert
from watcher.store.space import StorageFull, full_error, is_disk_full
from watcher.store.subscribers import Subscribers

logger = logging.getLogger(__name__)
T = TypeVar("T")

BURST_SIZE = 3  # more alerts than this for one chat at once: one grouped message
BURST_QUIET = 60.0  # a burst ends when its chat has had no new alert for this long
MAX_CONCURRENT_SENDS = 32
# Destinations read from the outbox at a time, each with all its due alerts (a burst
# stays whole whatever the outbox holds); the next ones come once these are served.
BATCH_DESTINATIONS = 200
# Reliability (clock steps): waits are stored as wall-clock due times. One further
# away than the longest wait watcher sets plus this margin was pushed there by the
# clock stepping back: it is due now (and the outbox's order with it).
CLOCK_STEP_MARGIN = timedelta(hours=1)
_TAG = re.compile(r"<[^>]+>")


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
        self.config = config  # the runtime swaps it after a reload
        self.targets = {target.name: target for target in targets}
        self.subscribers = Subscribers(store)
        self.run_blocking = run_blocking
        self.preferences = preferences or self._digest_flags
        self.notify_maintainers = notify_maintainers
        self.retry_min, self.retry_max = retry_min, retry_max
        self.clock, self.now = clock, now
        self.batch_destinations = batch_destinations
        self.pacers = {target.name: Pacer(target.overall_rate) for target in targets}
        self._burst_until: dict[tuple[str, str], datetime] = {}
        self._semaphore = asyncio.Semaphore(MAX_CONCURRENT_SENDS)
        # Reliability (disk full): alerts a target took whose "sent" could not be
        # written yet, by id: (when, the message's id there). Never sent again.
        self._unrecorded: dict[int, tuple[datetime, int | None]] = {}
        self._storage_full: StorageFull | None = None
        self._render_failed: set[int] = set()  # alert ids already logged as unrenderable
        self._moves: dict[str, str] | None = None  # chats that moved: old id -> new id

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
        await self._record_unrecorded()
        while True:
            preferences = await self.run_blocking(self.preferences)
            sent_any = False
            for target in self.targets.values():
                batch = await self.run_blocking(self._due, target, preferences)
                if batch:
                    sent_any = True
                    await asyncio.gather(
                        *(
                            self._send_chat(target, dest, alerts, preferences.get(dest), stats)
                            for dest, alerts in batch.items()
                        )
                    )
            if self._storage_full is not None:
                raise self._storage_full
            if sent_any:
                continue
            wait = await self.run_blocking(self._seconds_to_next_attempt)
            if wait is None or self.clock() + wait > deadline:
                return stats
            await asyncio.sleep(wait + 0.05)

    def _due(
        self, target: Target, preferences: Mapping[str, ChatPreferences]
    ) -> dict[str, list[PendingAlert]]:
        soon = self.clock() + BURST_QUIET
        pacer = self.pacers[target.name]
        # Chats held back (429) and digest chats are left out of the query itself, so
        # that they never take the places of chats that can be sent to now.
        skip = [d for d, free_at in pacer.chat_free_at.items() if free_at > soon]
        if target.groups:
            skip += [d for d, prefs in preferences.items() if prefs.mode == "digest"]
        by_destination: dict[str, list[PendingAlert]] = {}
        now = self.now()

        def query() -> list[PendingAlert]:
            return self.outbox.due_by_destination(
                target.name,
                now=now,
                skip=skip,
                destinations=self.batch_destinations,
                horizon=self._horizon(now),
            )

        due = query()
        if self._follow_moves(due):
            due = query()
        for alert in due:
            if alert.id in self._unrecorded:
                continue
            by_destination.setdefault(alert.destination, []).append(alert)
        return by_destination

    def _follow_moves(self, alerts: Sequence[PendingAlert]) -> bool:
        """Alerts to a chat known to have moved go to its new id first; True if any did."""
        if self._moves is None:
            self._moves = self.outbox.moves()
        stale = {a.destination for a in alerts if a.destination in self._moves}
        for old in stale:
            self.outbox.move_destination(old, self._moves[old])
        return bool(stale)

    async def _record_unrecorded(self) -> None:
        """Write the "sent" that a full disk kept from being written; StorageFull while
        it still cannot be."""
        if not self._unrecorded:
            self._storage_full = None
            return
        by_message: dict[tuple[datetime, int | None], list[int]] = {}
        for alert_id, sent in self._unrecorded.items():
            by_message.setdefault(sent, []).append(alert_id)
        for (at, message_id), ids in by_message.items():
            try:
                await self.run_blocking(self.outbox.record_sent, ids, now=at, message_id=message_id)
            except Exception as exc:
                if not is_disk_full(exc):
                    raise
                self._storage_full = full_error(self.store.path, exc)
                raise self._storage_full from None
            for alert_id in ids:
                del self._unrecorded[alert_id]
        self._storage_full = None

    def _horizon(self, now: datetime) -> datetime:
        """No wait watcher sets ends later than this (see CLOCK_STEP_MARGIN)."""
        return now + timedelta(seconds=self.retry_max) + CLOCK_STEP_MARGIN

    def _seconds_to_next_attempt(self) -> float | None:
        # Only alerts deferred to the future: one already due but held back (a digest
        # chat's) would otherwise be waited for again and again until the deadline.
        now = self.now()
        dues = [d for name in self.targets if (d := self.outbox.next_attempt_due(name, after=now))]
        if not dues:
            return None
        first, horizon = min(dues), self._horizon(now)
        if first > horizon:  # set before the clock stepped back: due now (see CLOCK_STEP_MARGIN)
            return 0.0
        return max(0.0, (first - now).total_seconds())

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
        # A dossier's step is never folded into a burst: it answers its thread.
        steps = [alert for alert in alerts if alert.reason == "follow-up"]
        alerts = [alert for alert in alerts if alert.reason != "follow-up"]
        messages = self._messages(target, destination, alerts, prefs)
        messages += [(self._single(step, prefs), [step]) for step in steps]
        for message, carried in messages:
            if len(carried) == 1 and carried[0].reason == "follow-up" and carried[0].item.dossier:
                # A dossier's next stage answers the message of its previous one.
                reply_to = await self.run_blocking(
                    self.outbox.reply_target, carried[0].item.dossier, destination
                )
                message = replace(message, reply_to=reply_to)
            if len(carried) == 1 and carried[0].item.dossier:
                followed = await self.run_blocking(
                    self.store.dossiers.follows, carried[0].item.dossier, destination
                )
                message = replace(message, keyboard=follow_keyboard(carried[0].item, followed))
            if not await self._deliver(target, destination, message, carried, stats):
                return  # this chat must wait: its next alerts keep their order

    def _messages(
        self, target: Target, destination: str, alerts: list[PendingAlert], prefs: ChatPreferences
    ) -> list[tuple[Message, list[PendingAlert]]]:
        """The messages carrying a chat's alerts: grouped in a burst, else one each.

        Reliability: rendering never stops delivery. A burst that cannot be rendered
        goes alert by alert, and an alert that cannot be rendered goes as plain text.
        """
        if target.groups and len(alerts) > 1 and self._grouped(target, destination, alerts, prefs):
            try:
                views = [self.view(alert) for alert in alerts]
                # Only the first part of a burst rings: the rest follow it silently.
                return [
                    (
                        self._message(html, _plain(html), prefs, quiet=n > 0),
                        [alerts[p] for p in positions],
                    )
                    for n, (html, positions) in enumerate(render_burst(views))
                ]
            except Exception:
                logger.exception("%s %s: a burst could not be grouped", target.name, destination)
        return [(self._single(alert, prefs), [alert]) for alert in alerts]

    def _single(self, alert: PendingAlert, prefs: ChatPreferences) -> Message:
        """One alert's message; the bare title and link if it cannot be rendered."""
        try:
            view = self.view(alert)
            message = self._message(render_html(view), render_text(view), prefs)
            return replace(message, view=view, key=alert_key(alert))
        except Exception:
            if alert.id not in self._render_failed:  # said once, not at every retry
                self._render_failed.add(alert.id)
                logger.exception("alert %d cannot be rendered: sent as plain text", alert.id)
            plain = _bare(alert)
            return Message(escape(plain, quote=False), plain, silent=prefs.silent, preview=False)

    def _grouped(
        self, target: Target, destination: str, alerts: list[PendingAlert], prefs: ChatPreferences
    ) -> bool:
        """Whether these alerts go as one grouped message: a burst, or the chat's choice."""
        key = (target.name, destination)
        now = self.now()
        in_burst = len(alerts) > BURST_SIZE or now < self._burst_until.get(key, now)
        if in_burst:
            latest = max((a.created or now for a in alerts), default=now)
            self._burst_until[key] = max(latest, now) + timedelta(seconds=BURST_QUIET)
        return in_burst or prefs.mode == "grouped"

    @staticmethod
    def _message(html: str, plain: str, prefs: ChatPreferences, *, quiet: bool = False) -> Message:
        return Message(html, plain, silent=prefs.silent or quiet, preview=prefs.previews)

    def view(self, alert: PendingAlert) -> AlertView:
        """Resolve an outbox alert into what a message shows."""
        config = self.config
        source = config.source(alert.item.source_id)
        return AlertView(
            source_name=source.name if source else alert.item.source_id,
            item=alert.item,
            matches=alert.matches,
            topic_labels={t: r.label for t, r in config.topics.items()},
            timezone=config.settings.timezone,
            update=alert.reason == "update",
            follow_up=stage_label(alert.item) if alert.reason == "follow-up" else "",
            event_at=alert.item.event_at,
            event_label=alert.item.event or "Examen",
            # Sources get a territory with the councils' work; until then there is none.
            territory=str(getattr(source, "territory", "") or ""),
            now=self.now(),
        )

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
        if self._storage_full is not None:
            return False  # the disk is full: nothing more is sent until it can be recorded
        pacer = self.pacers[target.name]
        at = pacer.reserve(destination, target.spacing(destination), self.clock())
        if (delay := at - self.clock()) > 0:
            await asyncio.sleep(delay)
        if self._storage_full is not None:
            return False
        attempted_at = self.now()
        async with self._semaphore:
            outcome = await target.send(destination, message)
        state = AlertState(attempts=max(a.attempts for a in alerts))
        change = apply(
            outcome, state, self.now(), retry_min=self.retry_min, retry_max=self.retry_max
        )
        if isinstance(change, DeferChat):
            pacer.hold(destination, self.clock() + (change.until - self.now()).total_seconds())
        ids = [a.id for a in alerts]
        try:
            notice = await self.run_blocking(
                self._record, target.name, destination, ids, outcome, change, attempted_at, state
            )
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            # Taken but not recorded: held as sent here, written when space returns.
            if isinstance(change, MarkSent):
                self._unrecorded.update(dict.fromkeys(ids, (change.at, change.message_id)))
            self._storage_full = full_error(self.store.path, exc)
            return False
        if notice is not None:
            stats.notices.append(notice)
            if self.notify_maintainers is not None:
                await self.notify_maintainers(notice)
        match change:
            case MarkSent():
                stats.sent += len(ids)
                stats.messages += 1
                return True
            case MarkRefused():
                stats.failed += len(ids)
                return True
            case DeactivateChat():
                stats.failed += len(ids)
                return False
            case _:
                stats.retried += 1
                return False

    def _record(
        self,
        target: str,
        destination: str,
        ids: list[int],
        outcome: Outcome,
        change: OutboxChange,
        attempted_at: datetime,
        state: AlertState,
    ) -> str | None:
        """Apply ``change`` to the outbox; the maintainers' notice, the first time only."""
        outbox = self.outbox
        match change:
            case MarkSent(at, message_id):
                outbox.record_sent(ids, now=at, message_id=message_id)
            case DeferChat(until):
                outbox.defer_destination(target, destination, until=until)
                logger.info("%s %s: asked to wait until %s", target, destination, until)
            case RetryAt(at, error):
                outbox.mark_retry(ids, error, next_attempt=at)
                # Said loudly at the first failure and every tenth, so an outage is
                # visible without a line per alert per retry.
                level = logging.WARNING if state.attempts % 10 == 0 else logging.INFO
                logger.log(
                    level,
                    "%s %s: %s (attempt %d); retrying at %s",
                    target,
                    destination,
                    error,
                    state.attempts + 1,
                    at.isoformat(timespec="seconds"),
                )
            case DeactivateChat(reason):
                chat = int(destination) if destination.lstrip("-").isdigit() else None
                if chat is not None and self.subscribers.get(chat) is not None:
                    # A chat that /started again since the refused send stays active.
                    self.subscribers.deactivate(chat, reason, refused_at=attempted_at)
                else:
                    outbox.drop_pending(destination, reason)
                logger.warning("%s %s refuses messages (%s): stopped", target, destination, reason)
            case MoveChat(new):
                old = int(destination) if destination.lstrip("-").isdigit() else None
                logger.warning(
                    "%s %s moved to %s: its alerts follow (if it is listed under channels:, "
                    "write %s there)",
                    target,
                    destination,
                    new,
                    new,
                )
                outbox.record_move(destination, new)
                if self._moves is not None:
                    self._moves[destination] = new
                if old is not None and new.lstrip("-").isdigit():
                    self.subscribers.migrate(old, int(new))
                else:
                    outbox.move_destination(destination, new)
            case MarkRefused(reason):
                outbox.mark_refused(ids, reason)
                logger.error("%s %s: message refused for good: %s", target, destination, reason)
        kind = failure_kind(outcome)
        if kind is None or not outbox.first_notice(kind, destination, now=attempted_at):
            return None
        return _notice(kind, target, destination, change)


def alert_key(alert: PendingAlert) -> str:
    """The same for every attempt at one alert (Mastodon's Idempotency-Key, a webhook's id)."""
    digest = hashlib.sha256(f"{alert.item.source_id}\0{alert.item.key}".encode()).hexdigest()
    return f"watcher-{alert.id}-{digest[:16]}"


def plain_text(html: str) -> str:
    """The plain-text fallback of a rendered message (links lose their address)."""
    return unescape(_TAG.sub("", html))


_plain = plain_text


def _bare(alert: PendingAlert) -> str:
    """An alert at its plainest: its title and its web link."""
    item = alert.item
    return "\n".join(p for p in (item.title or "(sans titre)", web_url(item.url)) if p)


def _notice(kind: str, target: str, destination: str, change: OutboxChange) -> str:
    if isinstance(change, DeactivateChat):
        return (
            f"⚠️ {target} {destination} refuse les messages ({escape(change.reason)}) : "
            "ses alertes sont arrêtées."
        )
    reason = change.reason if isinstance(change, MarkRefused) else kind
    return (
        f"⚠️ {target} {destination} : un message a été refusé ({escape(reason)}). Voir les journaux."
    )
