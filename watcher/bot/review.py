"""The review queue in Telegram, for maintainers: /revue and its 👍 / 👎 buttons.

/revue shows the oldest near misses waiting for a label, a few at a time: the
title, why the matcher held it back (a weak word alone, a pair just outside its
window, a negation) and the excerpt. A button press labels it into the labels
file (``watcher.review``), the examples ``watcher backtest`` scores rule changes
against. ``register`` adds both handlers to the application.
"""

import asyncio
import html
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from watcher.bot.maintainer import maintainer_only
from watcher.bot.replies import Context, answer_press, redraw_buttons, reply, runtime
from watcher.errors import WatcherError
from watcher.review import labels_path, record_label
from watcher.store.review import ReviewEntry

logger = logging.getLogger(__name__)
PER_PAGE = 3  # near misses shown by one /revue
CALLBACK_PATTERN = r"^rev:\d+:[01]$"


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add /revue and its buttons to the bot."""
    application.add_handler(CommandHandler("revue", review))
    application.add_handler(CallbackQueryHandler(label_pressed, pattern=CALLBACK_PATTERN))


@maintainer_only
async def review(update: Update, context: Context) -> None:
    """/revue: the next near misses held back, each with 👍 / 👎."""
    rt = runtime(context)
    entries = await asyncio.to_thread(rt.store.review.pending, PER_PAGE)
    if not entries:
        await reply(update, "Aucun texte en attente de revue.")
        return
    total = await asyncio.to_thread(rt.store.review.pending_count)
    for entry in entries:
        label = rt.config.topics[entry.topic].label if entry.topic in rt.config.topics else ""
        await reply(update, render(entry, label), reply_markup=buttons(entry.id))
    more = total - len(entries)
    await reply(
        update,
        f"{len(entries)} texte(s) retenu(s) sur {total} en attente."
        + (" Étiquetez-les puis /revue pour la suite." if more else ""),
    )


def render(entry: ReviewEntry, label: str) -> str:
    """A near miss as a maintainer reads it (HTML)."""
    item = entry.item
    lines = [f"🔎 <b>{html.escape(item.title or '(sans titre)')}</b>"]
    lines.append(f"Sujet : {html.escape(label or entry.topic)} · source : {item.source_id}")
    lines += [f"Retenu : {html.escape(reason)}" for reason in entry.reasons]
    if entry.excerpt:
        marked = entry.excerpt.marked("\x00", "\x01")
        lines.append(
            "<i>" + html.escape(marked).replace("\x00", "<b>").replace("\x01", "</b>") + "</i>"
        )
    if item.url:
        lines.append(html.escape(item.url))
    lines.append("Ce texte aurait-il dû donner une alerte ?")
    return "\n".join(lines)


def buttons(entry_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("👍 pertinent", callback_data=f"rev:{entry_id}:1"),
                InlineKeyboardButton("👎 hors sujet", callback_data=f"rev:{entry_id}:0"),
            ]
        ]
    )


async def label_pressed(update: Update, context: Context) -> None:
    """A 👍 / 👎 press: the near miss becomes a labelled example."""
    query = update.callback_query
    user = update.effective_user
    if query is None or not query.data:
        return
    rt = runtime(context)
    if user is None or user.id not in rt.config.maintainers:
        await answer_press(query, "Réservé aux mainteneurs de watcher.", alert=True)
        return
    _, entry_id, verdict = query.data.split(":")
    relevant = verdict == "1"
    path = labels_path(Path(rt.store.path), rt.environ)
    try:
        await asyncio.to_thread(
            record_label,
            rt.store,
            rt.config,
            path,
            int(entry_id),
            relevant=relevant,
            by=user.id,
            now=datetime.now(UTC),
        )
    except WatcherError as exc:
        logger.warning("review label not recorded: %s", exc)
        await answer_press(query, f"Étiquette non enregistrée : {exc}", alert=True)
        return
    await answer_press(query, "Noté : pertinent 👍" if relevant else "Noté : hors sujet 👎")
    choice = "👍 pertinent" if relevant else "👎 hors sujet"
    other = f"rev:{entry_id}:{int(not relevant)}"  # a second press changes the label
    await redraw_buttons(
        query,
        InlineKeyboardMarkup(
            [[InlineKeyboardButton(f"✅ {choice} — toucher pour changer", callback_data=other)]]
        ),
    )
