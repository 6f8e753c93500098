"""Delivery to standard output: the default when no Telegram token is set."""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TextIO

from watcher.alerts import AlertView, render_text
from watcher.config import Config
from watcher.routing import CONSOLE
from watcher.store import PendingAlert, Store


def alert_view(config: Config, alert: PendingAlert) -> AlertView:
    """Resolve an outbox alert into what a message shows."""
    source = config.source(alert.item.source_id)
    labels: Mapping[str, str] = {t: r.label for t, r in config.topics.items()}
    return AlertView(
        source_name=source.name if source else alert.item.source_id,
        item=alert.item,
        matches=alert.matches,
        topic_labels=labels,
        timezone=config.settings.timezone,
    )


def deliver_to_console(
    config: Config,
    store: Store,
    out: TextIO,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Print every pending console alert, oldest first, marking each sent once printed."""
    sent = 0
    while batch := store.outbox.pending_alerts(now=clock(), destinations=CONSOLE):
        for alert in batch:
            out.write(render_text(alert_view(config, alert)) + "\n\n")
            out.flush()
            store.outbox.mark_sent(alert.id, now=clock())
            sent += 1
    return sent
