"""The maintainers' commands (ids listed under ``maintainers`` in feeds.yml).

/statut (sources' health and drift, outbox), /verifier [source] (every source
fetched once, as ``watcher sources check``), /tester <texte> (what would match, and why),
/recharger (reload feeds.yml; a broken file keeps the running configuration;
a topic it adds is announced once to every subscriber, with its button),
/stats. Anyone else gets a polite refusal.
"""

import asyncio
import html
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from telegram import Update

from watcher.bot.replies import Context, Handler, reply, runtime
from watcher.delivery.telegram_kind import NAME as TELEGRAM
from watcher.drift import PROBLEMS_FR
from watcher.errors import ConfigError, WatcherError
from watcher.selfcheck import check_sources
from watcher.selfcheck_report import details, table
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
    ids = [s.id for s in rt.config.sources]
    rows = await asyncio.to_thread(rt.store.sources.statuses, ids)
    drifts = {
        d.source_id: d
        for d in await asyncio.to_thread(rt.store.polls.drifts, ids, datetime.now(UTC))
    }
    lines = []
    for row in rows:
        drift = drifts.get(row.id)
        ok = row.consecutive_errors == 0 and row.last_success and drift is None
        health = "✅" if ok else "⚠️"
        line = f"{health} <b>{row.id}</b> : {row.items_seen} textes, {row.alerts_sent} alertes"
        if row.last_error and row.consecutive_errors:
            line += f"\n   erreur ({row.consecutive_errors}x) : {html.escape(row.last_error[:200])}"
        if drift is not None:
            line += f"\n   dérive : {html.escape(PROBLEMS_FR[drift.problem])}"
            line += f"\n   aujourd'hui : {html.escape(drift.today.summary_fr())}"
            if drift.last_good is not None:
                line += (
                    f"\n   dernier relevé correct ({drift.last_good.at:%d/%m %H:%M}) : "
                    f"{html.escape(drift.last_good.summary_fr())}"
                )
        lines.append(line)
    outbox = await asyncio.to_thread(rt.store.outbox.outbox_length)
    await reply(
        update, "<b>État des sources</b>\n" + "\n".join(lines) + f"\nFile d'envoi : {outbox}"
    )


# Telegram refuses messages over 4,096 characters.
MAX_MESSAGE = 4000


@maintainer_only
async def verify(update: Update, context: Context) -> None:
    """/verifier [source…]: every source fetched once, with a verdict each."""
    rt = runtime(context)
    await reply(update, "🔎 Vérification des sources en cours (une requête par source)…")
    check = partial(
        check_sources, rt.config, rt.environ, datetime.now(UTC), only=context.args or ()
    )
    # A thread of its own: a check takes as long as the slowest source, and the
    # shared executors serve the database and the polls meanwhile. Never waited for
    # at shutdown: its sessions are daemon threads.
    pool = ThreadPoolExecutor(1, thread_name_prefix="verify")
    try:
        checks = await asyncio.get_running_loop().run_in_executor(pool, check)
    except WatcherError as exc:
        await reply(update, f"❌ {html.escape(str(exc))}")
        return
    finally:
        pool.shutdown(wait=False)
    usable = sum(check.usable for check in checks)
    text = (
        f"<b>Vérification des sources</b> : {usable} utilisable(s) sur {len(checks)}\n"
        f"<pre>{html.escape(chr(10).join(table(checks, french=True)))}</pre>"
    )
    notes = "\n".join(details(checks))
    room = MAX_MESSAGE - len(text) - 20
    while len(html.escape(notes)) > room:  # cut the plain text: never inside an entity
        notes = notes[: max(0, room - 1 - (len(html.escape(notes)) - len(notes)))] + "…"
    if notes.strip("…"):
        text += f"\n<pre>{html.escape(notes)}</pre>"
    await reply(update, text)


@maintainer_only
async def test_text(update: Update, context: Context) -> None:
    """/tester <texte>: what would match, and why."""
    if not context.args:
        await reply(update, "Usage : /tester &lt;texte à essayer&gt;")
        return
    text = " ".join(context.args)
    assessment = runtime(context).assess([text])
    lines = []
    for match in assessment.matches:
        lines.append(
            f"<b>{html.escape(match.label)}</b> : {html.escape(', '.join(match.keywords))}"
        )
        if set(match.signals) - {"mot-clé"}:
            lines.append("Signaux : " + html.escape(", ".join(match.signals)))
        lines += [f"Ignoré : {html.escape(ignored)}" for ignored in match.ignored]
        if match.excerpt:
            lines.append(f"<i>{html.escape(match.excerpt.marked())}</i>")
    if not assessment.matches:
        lines.append("Aucune correspondance.")
    for miss in assessment.held:
        lines.append(f"Retenu pour revue ({html.escape(miss.label)}) :")
        lines += [f"  {html.escape(reason)}" for reason in miss.reasons]
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
