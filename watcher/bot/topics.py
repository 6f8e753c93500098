"""A chat's topics and what it is subscribed to: /sujets and its buttons, /sources,
/abonnements.

Anyone in a chat may read them; pressing a topic's button changes the chat's
alerts, so in a group only its administrators may.
"""

import asyncio
import html
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from watcher.bot.chats import ADMINS_ONLY, STOPPED, chat_of, is_admin
from watcher.bot.replies import Context, answer_press, redraw_buttons, reply, runtime
from watcher.durations import format_duration
from watcher.sources.catalog import KINDS

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps as Runtime


def topics_keyboard(rt: "Runtime", subscribed: frozenset[str]) -> InlineKeyboardMarkup:
    """One button per topic: ✅ to leave it, ➕ to take it."""
    rows = []
    for topic_id, rules in rt.config.topics.items():
        if topic_id in subscribed:
            rows.append(
                [InlineKeyboardButton(f"✅ {rules.label}", callback_data=f"unsub:{topic_id}")]
            )
        else:
            rows.append(
                [InlineKeyboardButton(f"➕ {rules.label}", callback_data=f"sub:{topic_id}")]
            )
    return InlineKeyboardMarkup(rows)


async def topics(update: Update, context: Context) -> None:
    """List topics with buttons to subscribe and unsubscribe."""
    found = await chat_of(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    await reply(
        update,
        intro + "Sujets surveillés (touchez pour vous abonner ou vous désabonner) :",
        reply_markup=topics_keyboard(rt, subscriber.topics),
    )


async def topic_button(update: Update, context: Context) -> None:
    """A press on a /sujets button: subscribe or unsubscribe, then redraw the buttons."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or not query.data:
        return
    rt = runtime(context)
    action, _, topic_id = query.data.partition(":")
    if topic_id not in rt.config.topics or action not in ("sub", "unsub"):
        await answer_press(query, "Ce sujet n'existe plus : /sujets pour la liste à jour.")
        return
    if not await is_admin(update, context):
        await answer_press(query, ADMINS_ONLY, alert=True)
        return
    if await asyncio.to_thread(rt.subscribers.get, chat.id) is None:
        if await asyncio.to_thread(rt.subscribers.stopped, chat.id):
            await answer_press(query, STOPPED, alert=True)
            return
        await asyncio.to_thread(rt.subscribers.start, chat.id, chat.type, now=datetime.now(UTC))
    if action == "sub":
        await asyncio.to_thread(rt.subscribers.subscribe, chat.id, topic_id)
        await answer_press(query, f"Abonné(e) : {rt.config.topics[topic_id].label}")
    else:
        await asyncio.to_thread(rt.subscribers.unsubscribe, chat.id, topic_id)
        await answer_press(query, f"Désabonné(e) : {rt.config.topics[topic_id].label}")
    rt.subscriptions.invalidate()
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    assert subscriber is not None
    await redraw_buttons(query, topics_keyboard(rt, subscriber.topics))


async def sources(update: Update, context: Context) -> None:
    """The sources watched."""
    found = await chat_of(update, context)
    if found is None:
        return
    rt, _, intro = found
    lines = []
    for s in rt.config.sources:
        what = KINDS[s.kind].label  # each kind's French label
        where = f", {html.escape(s.territory)}" if s.territory else ""
        lines.append(
            f"• {html.escape(s.name)} <i>({what}{where}, "
            f"toutes les {format_duration(s.interval)})</i>"
        )
    await reply(
        update,
        intro
        + "<b>Sources surveillées</b>\n"
        + "\n".join(lines)
        + "\n\n/recent pour les dernières alertes, /chercher pour fouiller ces sources.",
    )


async def subscriptions(update: Update, context: Context) -> None:
    """The chat's topics and delivery mode."""
    found = await chat_of(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    if not subscriber.topics:
        await reply(
            update,
            intro + "Vous n'êtes abonné(e) à aucun sujet : touchez un sujet pour le suivre.",
            reply_markup=topics_keyboard(rt, subscriber.topics),
        )
        return
    labels = [
        html.escape(rt.config.topics[t].label)
        for t in sorted(subscriber.topics)
        if t in rt.config.topics
    ]
    mode = {
        "immediate": "alertes immédiates",
        "grouped": "alertes groupées",
        "digest": "résumé quotidien",
    }[subscriber.mode]
    state = " (en pause : /reprendre)" if subscriber.paused else ""
    where = (
        "\nTerritoires : " + html.escape(", ".join(sorted(subscriber.territories)))
        if subscriber.territories
        else ""
    )
    await reply(
        update,
        intro
        + "<b>Vos abonnements</b>\n"
        + "\n".join(f"• {label}" for label in labels)
        + f"\nMode : {mode}{state}{where}"
        + "\n\n/sujets pour changer de sujets, /reglages pour le mode de réception.",
    )
