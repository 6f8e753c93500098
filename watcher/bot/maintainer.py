"""The maintainers' commands (ids listed under ``maintainers`` in feeds.yml).

/statut (sources' health, outbox), /tester <texte> (what would match, and why),
/recharger (reload feeds.yml; a broken file keeps the running configuration),
/stats. Anyone else gets a polite refusal.
"""

import asyncio
import html

from telegram import Update

from watcher.bot.commands import Context, Handler, reply, runtime
from watcher.errors import ConfigError


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
    matches = runtime(context).poller.matcher.match([text])
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
    try:
        config = await rt.reload()
    except ConfigError as exc:
        await reply(update, f"❌ Configuration inchangée : {html.escape(str(exc))}")
        return
    await reply(
        update,
        f"✅ Configuration rechargée : {len(config.sources)} sources, {len(config.topics)} sujets.",
    )


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
        f"Abonnés : {counts['active']} actifs / {counts['total']} "
        f"({counts['paused']} en pause, {counts['digest']} en résumé)\n"
        f"Textes : {items}, dont {matches} correspondances\n"
        "Alertes : " + ", ".join(f"{k} {v}" for k, v in sorted(alerts.items())),
    )
