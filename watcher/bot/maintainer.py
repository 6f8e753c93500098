"""The maintainers' commands (ids listed under ``maintainers`` in feeds.yml).

/statut (sources' health, outbox), /tester <texte> (what would match, and why),
/recharger (reload feeds.yml; a broken file keeps the running configuration;
a topic it adds is announced once to every subscriber, with its button),
/stats. Anyone else gets a polite refusal.
"""

import asyncio
import html
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import Update

from watcher.bot.commands import Context, Handler, reply, runtime
from watcher.delivery.telegram_kind import NAME as TELEGRAM
from watcher.errors import ConfigError
from watcher.store.notices import Notices

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps

logger = logging.getLogger(__name__)
ALERT_STATES = {"pending": "en attente", "sent": "envoyées", "failed": "échouées"}
ALERT_STATES |= {"gone": "abandonnées (chat parti)", "dropped": "retirées (désabonnement)"}
ALERT_STATES |= {"refused": "refusées par Telegram"}


def maintainer_only(handler: Handler) -> Handler:
    """Only the ids listed under ``maintainers`` may run the wrapped command."""

    async def guarded(update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None or user.id not in runtime(context).config.maintainers:
            await reply(update, "Désolé, cette commande est réservée aux mainteneurs de watcher.")
            return
        await handler(update, context)

    guarded.__doc__ = handler.__doc__
    return guarded


@maintainer_only
async def status(update: Update, context: Context) -> None:
    """Each source's health and the outbox length."""
    rt = runtime(context)
    rows = await asyncio.to_thread(rt.store.sources.statuses, [s.id for s in rt.config.sources])
    lines = []
    for row in rows:
        health = "✅" if row.consecutive_errors == 0 and row.last_success else "⚠️"
        line = f"{health} <b>{row.id}</b> : {row.items_seen} textes, {row.alerts_sent} alertes"
        if row.last_error and row.consecutive_errors:
            line += f"\n   erreur ({row.consecutive_errors}x) : {html.escape(row.last_error[:200])}"
        lines.append(line)
    outbox = await asyncio.to_thread(rt.store.outbox.outbox_length)
    await reply(
        update, "<b>État des sources</b>\n" + "\n".join(lines) + f"\nFile d'envoi : {outbox}"
    )


@maintainer_only
async def test_text(update: Update, context: Context) -> None:
    """/tester <texte>: what would match, and why."""
    if not context.args:
        await reply(update, "Usage : /tester &lt;texte à essayer&gt;")
        return
    text = " ".join(context.args)
    matches = runtime(context).match([text])
    if not matches:
        await reply(update, "Aucune correspondance.")
        return
    lines = []
    for match in matches:
        lines.append(
            f"<b>{html.escape(match.label)}</b> : {html.escape(', '.join(match.keywords))}"
        )
        if match.excerpt:
            lines.append(f"<i>{html.escape(match.excerpt.marked())}</i>")
    await reply(update, "\n".join(lines))


@maintainer_only
async def reload(update: Update, context: Context) -> None:
    """Reload feeds.yml; a broken file keeps the running configuration."""
    rt = runtime(context)
    before = rt.config
    try:
        config = await rt.reload()
    except ConfigError as exc:
        await reply(
            update,
            "❌ Configuration inchangée : feeds.yml contient une erreur, la configuration "
            f"en cours reste active.\n<code>{html.escape(str(exc))}</code>\n"
            "Corrigez le fichier puis renvoyez /recharger.",
        )
        return
    added = [t for t in config.topics if t not in before.topics]
    await reply(
        update,
        f"✅ Configuration rechargée : {len(config.sources)} sources, {len(config.topics)} sujets."
        + (
            "\nNouveau(x) sujet(s) annoncé(s) aux abonnés : "
            + html.escape(", ".join(config.topics[t].label for t in added))
            if added
            else ""
        ),
    )
    if added:
        context.application.create_task(announce(rt, added))


async def announce(rt: "BotDeps", topic_ids: Sequence[str]) -> int:
    """Tell every active chat about new topics, once per topic ever, with a button each.

    The announcements are queued in the notices outbox in the same transaction that
    marks the topics announced, and sent from there like alerts (``delivery.notices``).
    """
    told = await asyncio.to_thread(queue_announcement, rt, topic_ids)
    if told is not None:
        logger.info("new topic(s) %s announced to %d chat(s)", ", ".join(topic_ids), told)
    return told or 0


def queue_announcement(rt: "BotDeps", topic_ids: Sequence[str]) -> int | None:
    """The announcement queued for each chat not yet subscribed; None: nothing new."""
    with rt.store.database.transaction():
        fresh = [t for t in topic_ids if rt.subscribers.first_announcement(t)]
        labels = {t: rt.config.topics[t].label for t in fresh if t in rt.config.topics}
        if not labels:
            return None
        text = (
            "🆕 Nouveau sujet surveillé : "
            + ", ".join(f"<b>{html.escape(label)}</b>" for label in labels.values())
            + "\nTouchez le bouton pour recevoir ses alertes (ou /sujets plus tard)."
        )
        buttons = [(f"➕ {label}", f"sub:{t}") for t, label in labels.items()]
        chats = [
            str(chat_id)
            for chat_id in rt.subscribers.active_chat_ids()
            if (s := rt.subscribers.get(chat_id)) is not None and not set(labels) <= s.topics
        ]
        key = "announce:" + ",".join(sorted(labels))
        return Notices(rt.store.database).queue(TELEGRAM, chats, key, text, buttons)


@maintainer_only
async def stats(update: Update, context: Context) -> None:
    """Counts of subscribers, items and alerts."""
    rt = runtime(context)
    counts = await asyncio.to_thread(rt.subscribers.counts)
    alerts = await asyncio.to_thread(rt.store.outbox.alert_counts)
    items = await asyncio.to_thread(rt.store.count, "items")
    matches = await asyncio.to_thread(rt.store.count, "matches")
    await reply(
        update,
        f"Abonnés : {counts['active']} actifs sur {counts['total']} "
        f"({counts['paused']} en pause, {counts['digest']} en résumé quotidien)\n"
        f"Textes relevés : {items}, dont {matches} retenus pour un sujet\n"
        "Alertes : "
        + (
            ", ".join(f"{v} {ALERT_STATES.get(k, k)}" for k, v in sorted(alerts.items()))
            or "aucune"
        ),
    )
