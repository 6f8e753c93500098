"""Delivering the outbox to Telegram, within its limits, losing nothing.

An alert leaves the outbox only once Telegram has accepted it: a crash between
the two can duplicate a message, never lose one. Telegram's errors are
translated here, each into what the outbox should do:

- 429 RetryAfter: hold that chat exactly ``retry_after`` seconds;
- 403 Forbidden (blocked, kicked, deactivated): deactivate the subscriber;
- ChatMigrated: move the chat's alerts to the supergroup's id and resend;
- BadRequest "can't parse entities": resend as plain text and log the bug;
- timeouts and network errors: retry with backoff.
"""

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)

from watcher.alerts import render_digest, render_html, render_text
from watcher.bot.pacing import Pacer
from watcher.config import Config
from watcher.delivery.console import alert_view
from watcher.errors import DeliveryError
from watcher.routing import chat_id_of
from watcher.store import PendingAlert, Store
from watcher.subscribers import Subscribers

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
MAX_CONCURRENT_SENDS = 32


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def retry_seconds(exc: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type this PTB version gives."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class OutboxSender:
    """Sends pending alerts to their chats, paced, recording each outcome."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        config: Config,
        *,
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.store = store
        self.config = config
        self.subscribers = Subscribers(store)
        self.pacer = pacer or Pacer()
        self.clock = clock
        self._semaphore = asyncio.Semaphore(MAX_CONCURRENT_SENDS)

    async def drain(self, *, settle: float = 0.0) -> DeliveryStats:
        """Send everything that is due now (digest subscribers excepted).

        With ``settle``, also wait for alerts that Telegram or a retry deferred by
        at most that many seconds, so a one-shot ``watcher poll`` leaves nothing
        behind that it could have sent.
        """
        stats = DeliveryStats()
        while True:
            batch = await asyncio.to_thread(self._due_batch)
            if not batch:
                wait = await asyncio.to_thread(self._seconds_to_next_attempt)
                if wait is None or wait > settle:
                    return stats
                await asyncio.sleep(wait + 0.05)
                continue
            by_chat: dict[str, list[PendingAlert]] = {}
            for alert in batch:
                by_chat.setdefault(alert.destination, []).append(alert)
            await asyncio.gather(*(self._send_chat(alerts, stats) for alerts in by_chat.values()))

    def _seconds_to_next_attempt(self) -> float | None:
        due = self.store.outbox.next_attempt_due()
        if due is None:
            return None
        return max(0.0, (due - datetime.now(UTC)).total_seconds())

    def _due_batch(self) -> list[PendingAlert]:
        digest = {str(chat_id) for chat_id in self.subscribers.digest_chat_ids()}
        now = self.clock()
        alerts = self.store.outbox.pending_alerts(now=datetime.now(UTC), limit=2000)
        return [
            a
            for a in alerts
            if a.destination not in digest and self.pacer.free_at(a.destination) <= now + 60
        ]

    async def _send_chat(self, alerts: list[PendingAlert], stats: DeliveryStats) -> None:
        """One chat's alerts in order; stop at the first that must wait."""
        for alert in alerts:
            view = alert_view(self.config, alert)
            sent = await self.send_text(
                alert.destination,
                render_html(view),
                alert.attempts,
                stats,
                alert_id=alert.id,
                plain=partial(render_text, view),
            )
            if not sent:  # this chat must wait: its next alerts keep their order
                return

    async def send_text(
        self,
        destination: str,
        html_text: str,
        attempts: int,
        stats: DeliveryStats,
        *,
        alert_id: int | None = None,
        plain: Callable[[], str] | None = None,
        mark: Callable[[], None] | None = None,
    ) -> bool:
        """Send one message to one chat and record the outcome in the outbox."""
        chat_id = chat_id_of(destination)
        at = self.pacer.reserve(destination, chat_id, self.clock())
        delay = at - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)
        attempted_at = datetime.now(UTC)
        try:
            async with self._semaphore:
                await self.bot.send_message(
                    chat_id,
                    html_text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
        except RetryAfter as exc:
            wait = retry_seconds(exc)
            self.pacer.hold(destination, self.clock() + wait)
            until = datetime.now(UTC) + timedelta(seconds=wait)
            await asyncio.to_thread(self.store.outbox.defer_destination, destination, until=until)
            logger.info("chat %s: Telegram asks to wait %.0fs", destination, wait)
            stats.retried += 1
            return False
        except ChatMigrated as exc:
            new_id = exc.new_chat_id
            logger.info("chat %s became supergroup %s: moving its alerts", destination, new_id)
            if isinstance(chat_id, int):
                await asyncio.to_thread(self.subscribers.migrate, chat_id, new_id)
            else:
                await asyncio.to_thread(
                    self.store.outbox.move_destination, destination, str(new_id)
                )
            stats.retried += 1
            return False  # the moved alerts are picked up under the new id
        except Forbidden as exc:
            logger.warning("chat %s refuses messages (%s): deactivated", destination, exc.message)
            known = isinstance(chat_id, int) and (
                await asyncio.to_thread(self.subscribers.get, chat_id) is not None
            )
            if known and isinstance(chat_id, int):
                await asyncio.to_thread(
                    self.subscribers.deactivate, chat_id, exc.message, refused_at=attempted_at
                )
            else:
                await asyncio.to_thread(self.store.outbox.drop_pending, destination, exc.message)
            stats.failed += 1
            return False
        except InvalidToken as exc:
            raise DeliveryError(
                "Telegram rejected TELEGRAM_BOT_TOKEN (401/404): check the token from @BotFather"
            ) from exc
        except BadRequest as exc:
            if plain is not None and "parse entities" in exc.message.lower():
                logger.error(
                    "chat %s: HTML refused (%s); sent as plain text", destination, exc.message
                )
                return await self.send_plain(
                    destination, plain()[:4096], attempts, stats, alert_id=alert_id, mark=mark
                )
            logger.error("chat %s: Telegram refused the message: %s", destination, exc.message)
            if alert_id is not None:
                await asyncio.to_thread(self.store.outbox.mark_failed, alert_id, exc.message)
            stats.failed += 1
            return True
        except (TimedOut, NetworkError) as exc:
            await self._retry_later(alert_id, attempts, f"network: {exc.message}", stats)
            return False
        await self._record_sent(alert_id, mark)
        stats.sent += 1
        return True

    async def send_plain(
        self,
        destination: str,
        text: str,
        attempts: int,
        stats: DeliveryStats,
        *,
        alert_id: int | None,
        mark: Callable[[], None] | None,
    ) -> bool:
        try:
            await self.bot.send_message(chat_id_of(destination), text, parse_mode=None)
        except (TimedOut, NetworkError) as exc:
            await self._retry_later(alert_id, attempts, f"plain text: {exc.message}", stats)
            return False
        await self._record_sent(alert_id, mark)
        stats.sent += 1
        return True

    async def _record_sent(self, alert_id: int | None, mark: Callable[[], None] | None) -> None:
        if alert_id is not None:
            await asyncio.to_thread(self.store.outbox.mark_sent, alert_id, now=datetime.now(UTC))
        if mark is not None:
            await asyncio.to_thread(mark)

    async def _retry_later(
        self, alert_id: int | None, attempts: int, error: str, stats: DeliveryStats
    ) -> None:
        if alert_id is None:
            return
        if attempts + 1 >= MAX_ATTEMPTS:
            await asyncio.to_thread(self.store.outbox.mark_failed, alert_id, error)
            stats.failed += 1
            return
        delay = min(5 * 2**attempts, 3600)
        until = datetime.now(UTC) + timedelta(seconds=delay)
        await asyncio.to_thread(self.store.outbox.mark_retry, alert_id, error, next_attempt=until)
        stats.retried += 1

    async def send_digests(self, now: datetime) -> int:
        """Send each digest subscriber's pending alerts grouped, once a day after digest_time."""
        sent = 0
        for subscriber in await asyncio.to_thread(self.subscribers.digest_chats):
            if not _digest_due(subscriber.last_digest, now, self.config):
                continue
            destination = str(subscriber.chat_id)
            alerts = await asyncio.to_thread(self.store.outbox.pending_for, destination)
            if alerts:
                views = [alert_view(self.config, a) for a in alerts]
                stats = DeliveryStats()
                delivered = True
                for message, positions in render_digest(views):
                    ids = [alerts[p].id for p in positions]
                    # Each part is recorded as soon as Telegram takes it: a later part
                    # that must wait does not make the earlier ones be sent again.
                    delivered = await self.send_text(
                        destination,
                        message,
                        0,
                        stats,
                        mark=partial(self.store.outbox.mark_many_sent, ids),
                    )
                    if not delivered:
                        break
                if not delivered:
                    continue
                sent += len(alerts)
            await asyncio.to_thread(self.subscribers.mark_digest, subscriber.chat_id, now=now)
        return sent


def _digest_due(last: str | None, now: datetime, config: Config) -> bool:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(config.settings.timezone)
    local = now.astimezone(zone)
    hour, minute = (int(p) for p in config.settings.digest_time.split(":"))
    today_at = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if local < today_at:
        return False
    return last is None or datetime.fromisoformat(last).astimezone(zone) < today_at
