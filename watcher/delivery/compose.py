"""What one chat's due alerts become: the messages that carry them.

More than ``BURST_SIZE`` alerts for one chat at once go as grouped messages, and so
do the ones that follow until the chat has had no new alert for ``BURST_QUIET``
seconds (or always, when the chat chose grouped messages); otherwise each alert
is its own message. A dossier's step is never folded into a burst: it answers
its thread. Rendering never stops delivery: a burst that cannot be rendered goes
alert by alert, and an alert that cannot be rendered goes as its bare title and
link, said once in the log.

A fan-out sends the same alerts to thousands of chats: a burst's rendering is
kept for the batch being sent (``new_batch`` clears it), so it is rendered once
per batch rather than once per chat.
"""

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from html import escape, unescape

from watcher.config import Config
from watcher.delivery.base import Message
from watcher.delivery.preferences import ChatPreferences
from watcher.delivery.render import AlertView, Part, render_burst, render_html, render_text, web_url
from watcher.following import stage_label
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.store.outbox import PendingAlert

logger = logging.getLogger(__name__)

BURST_SIZE = 3  # more alerts than this for one chat at once: one grouped message
BURST_QUIET = 60.0  # a burst ends when its chat has had no new alert for this long
_TAG = re.compile(r"<[^>]+>")

Carried = tuple[Message, list[PendingAlert]]  # a message and the alerts it carries
# What an alert shows, whichever chat it goes to: a fan-out's alerts share it.
_Shown = tuple[Item, tuple[TopicMatch, ...], str]


class Composer:
    """Renders a chat's due alerts into messages, remembering each chat's burst."""

    def __init__(self, config: Config, now: Callable[[], datetime]) -> None:
        self.config = config  # the runtime swaps it after a reload
        self.now = now
        self._burst_until: dict[tuple[str, str], datetime] = {}
        self._render_failed: set[int] = set()  # alert ids already logged as unrenderable
        self._bursts: dict[tuple[_Shown, ...], list[Part]] = {}

    def new_batch(self) -> None:
        """Forget the renderings kept for the batch sent before (labels, "dans N jours")."""
        self._bursts.clear()

    def messages(
        self,
        target: str,
        destination: str,
        alerts: list[PendingAlert],
        prefs: ChatPreferences,
        *,
        groups: bool,
    ) -> list[Carried]:
        """The messages carrying a chat's alerts, in the order they go."""
        steps = [alert for alert in alerts if alert.reason == "follow-up"]
        alerts = [alert for alert in alerts if alert.reason != "follow-up"]
        messages: list[Carried] = []
        if groups and len(alerts) > 1 and self._grouped(target, destination, alerts, prefs):
            messages = self._burst(target, destination, alerts, prefs)
        if not messages:
            messages = [(self.single(alert, prefs), [alert]) for alert in alerts]
        return messages + [(self.single(step, prefs), [step]) for step in steps]

    def _burst(
        self, target: str, destination: str, alerts: list[PendingAlert], prefs: ChatPreferences
    ) -> list[Carried]:
        """A burst as grouped messages; none if it cannot be rendered."""
        key = tuple((a.item, a.matches, a.reason) for a in alerts)
        try:
            if (parts := self._bursts.get(key)) is None:
                parts = self._bursts[key] = render_burst([self.view(a) for a in alerts])
        except Exception:
            logger.exception("%s %s: a burst could not be grouped", target, destination)
            return []
        # Only the first part of a burst rings: the rest follow it silently.
        return [
            (
                styled_message(html, plain_text(html), prefs, quiet=n > 0),
                [alerts[p] for p in positions],
            )
            for n, (html, positions) in enumerate(parts)
        ]

    def single(self, alert: PendingAlert, prefs: ChatPreferences) -> Message:
        """One alert's message; the bare title and link if it cannot be rendered."""
        try:
            view = self.view(alert)
            rendered = styled_message(render_html(view), render_text(view), prefs)
            return replace(rendered, view=view, key=alert_key(alert))
        except Exception:
            if alert.id not in self._render_failed:  # said once, not at every retry
                self._render_failed.add(alert.id)
                logger.exception("alert %d cannot be rendered: sent as plain text", alert.id)
            plain = _bare(alert)
            return Message(escape(plain, quote=False), plain, silent=prefs.silent, preview=False)

    def _grouped(
        self, target: str, destination: str, alerts: list[PendingAlert], prefs: ChatPreferences
    ) -> bool:
        """Whether these alerts go as one grouped message: a burst, or the chat's choice."""
        key = (target, destination)
        now = self.now()
        in_burst = len(alerts) > BURST_SIZE or now < self._burst_until.get(key, now)
        if in_burst:
            latest = max((a.created or now for a in alerts), default=now)
            self._burst_until[key] = max(latest, now) + timedelta(seconds=BURST_QUIET)
        return in_burst or prefs.mode == "grouped"

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


def styled_message(
    html: str, plain: str, prefs: ChatPreferences, *, quiet: bool = False
) -> Message:
    """A message as the chat's preferences want it (silent, link previews)."""
    return Message(html, plain, silent=prefs.silent or quiet, preview=prefs.previews)


def alert_key(alert: PendingAlert) -> str:
    """The same for every attempt at one alert (Mastodon's Idempotency-Key, a webhook's id)."""
    digest = hashlib.sha256(f"{alert.item.source_id}\0{alert.item.key}".encode()).hexdigest()
    return f"watcher-{alert.id}-{digest[:16]}"


def plain_text(html: str) -> str:
    """The plain-text fallback of a rendered message (links lose their address)."""
    return unescape(_TAG.sub("", html))


def _bare(alert: PendingAlert) -> str:
    """An alert at its plainest: its title and its web link."""
    item = alert.item
    return "\n".join(p for p in (item.title or "(sans titre)", web_url(item.url)) if p)
