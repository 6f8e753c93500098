"""Daily digests: each digest chat gets its pending alerts as one compact message set,
once a day after its digest time (``/reglages``, else ``settings.digest_time``).

Called each minute by the wall-clock jobs (``jobs``) and at the end of ``watcher
poll``; the parts go through the deliverer's one send path, so each is paced and
recorded like any message.
"""

from dataclasses import replace
from datetime import datetime

from watcher.delivery.base import Target
from watcher.delivery.buttons import digest_keyboard
from watcher.delivery.deliverer import Deliverer, DeliveryStats, plain_text
from watcher.delivery.preferences import ChatPreferences, digest_due
from watcher.delivery.render import Part, digest_order, render_digest
from watcher.store.outbox import PendingAlert


async def send_digests(sender: Deliverer, now: datetime) -> int:
    """Send each digest chat its pending alerts, once a day after its digest time."""
    sent = 0
    preferences = await sender.run_blocking(sender.preferences)
    subscribers = {
        str(s.chat_id): s for s in await sender.run_blocking(sender.subscribers.digest_chats)
    }
    settings = sender.config.settings
    for target in sender.targets.values():
        if not target.groups:
            continue
        for destination, prefs in preferences.items():
            if prefs.mode != "digest":
                continue
            subscriber = subscribers.get(destination)
            last = subscriber.last_digest if subscriber else None
            if not digest_due(
                last, now, prefs.digest_time or settings.digest_time, settings.timezone
            ):
                continue
            alerts = await sender.run_blocking(sender.outbox.pending_for, target.name, destination)
            if alerts and not await _send_digest(sender, target, destination, alerts, prefs):
                continue
            sent += len(alerts)
            if subscriber is not None:
                await sender.run_blocking(
                    sender.subscribers.mark_digest, subscriber.chat_id, now=now
                )
    return sent


async def _send_digest(
    sender: Deliverer,
    target: Target,
    destination: str,
    alerts: list[PendingAlert],
    prefs: ChatPreferences,
) -> bool:
    views = [sender.view(alert) for alert in alerts]
    parts: list[Part] = render_digest(views)
    numbers = {p: n for n, p in enumerate(digest_order(views), start=1)}
    stats = DeliveryStats()
    for n, (html, positions) in enumerate(parts):
        # Each part is recorded as soon as it is taken: a later part that must
        # wait does not make the earlier ones be sent again.
        message = sender._message(html, plain_text(html), prefs, quiet=n > 0)
        carried = [alerts[p] for p in positions]
        # A follow button per dossier, named by its text's number ("Suivre n° 2").
        keyboard = await sender.run_blocking(
            digest_keyboard,
            [(a.item.dossier, numbers[p]) for a, p in zip(carried, positions, strict=True)],
            lambda dossier: sender.store.dossiers.follows(dossier, destination),
        )
        message = replace(message, keyboard=keyboard)
        if not await sender._deliver(target, destination, message, carried, stats):
            return False
    return True
