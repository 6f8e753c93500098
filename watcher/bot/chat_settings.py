"""/reglages: each chat's delivery settings, changed with inline buttons.

Mode (each alert at once, grouped, or one daily digest at a chosen hour), silent
notifications, link previews, and territories (only alerts from the chosen
regions or councils; national sources always alert). The deliverer reads the
first four through ``Subscribers.preferences``; routing applies territories.
"""

import asyncio
import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from watcher.bot.commands import ADMINS_ONLY, Context, admin_chat, is_admin, reply, runtime
from watcher.config import Config
from watcher.store.subscribers import MODES, Subscriber

DIGEST_HOURS = ("07:00", "08:00", "12:00", "18:00", "21:00")
MODE_NAMES = {
    "immediate": "⚡ Immédiat",
    "grouped": "📚 Groupé",
    "digest": "🗞 Résumé quotidien",
}
MODE_TEXT = {
    "immediate": "chaque alerte dès sa publication",
    "grouped": "les alertes arrivées ensemble en un seul message",
    "digest": "un résumé par jour",
}


# Telegram refuses an inline keyboard of over 100 buttons (tginfo/Telegram-Limits#228), and
# the shipped sources cover some 120 territories (regions, then départements): in pages.
TERRITORIES_PER_PAGE = 40


def territories_of(config: Config) -> list[str]:
    """The territories the sources cover, in a stable order (buttons name them by position)."""
    return sorted({s.territory for s in config.sources if s.territory})


def describe(config: Config, subscriber: Subscriber) -> str:
    at = subscriber.digest_time or config.settings.digest_time
    mode = MODE_TEXT[subscriber.mode] + (f" à {at}" if subscriber.mode == "digest" else "")
    where = ", ".join(sorted(subscriber.territories)) if subscriber.territories else "tous"
    return (
        "<b>Réglages</b>\n"
        f"Mode : {html.escape(mode)}\n"
        f"Notifications : {'silencieuses' if subscriber.silent else 'avec son'}\n"
        f"Aperçus des liens : {'oui' if subscriber.previews else 'non'}\n"
        f"Territoires : {html.escape(where)}\n\n"
        "Touchez un bouton pour changer un réglage."
    )


def keyboard(config: Config, subscriber: Subscriber, page: int = 0) -> InlineKeyboardMarkup:
    def mark(on: bool, text: str) -> str:
        return f"✅ {text}" if on else text

    rows = [
        [
            InlineKeyboardButton(
                mark(subscriber.mode == m, MODE_NAMES[m]), callback_data=f"set:mode:{m}"
            )
            for m in MODES
        ]
    ]
    if subscriber.mode == "digest":
        at = subscriber.digest_time or config.settings.digest_time
        rows.append(
            [
                InlineKeyboardButton(mark(at == h, h), callback_data=f"set:hour:{h}")
                for h in DIGEST_HOURS
            ]
        )
    rows.append(
        [
            InlineKeyboardButton(
                "🔔 Avec son" if subscriber.silent else "🔕 Silencieux",
                callback_data="set:silent",
            ),
            InlineKeyboardButton(
                "Sans aperçus" if subscriber.previews else "Aperçus des liens",
                callback_data="set:previews",
            ),
        ]
    )
    territories = territories_of(config)
    if territories:
        rows.append(
            [
                InlineKeyboardButton(
                    mark(not subscriber.territories, "Tous les territoires"),
                    callback_data="set:where:all",
                )
            ]
        )
        first = page * TERRITORIES_PER_PAGE
        buttons = [
            InlineKeyboardButton(
                mark(name in subscriber.territories, name), callback_data=f"set:where:{n}"
            )
            for n, name in enumerate(territories)
            if first <= n < first + TERRITORIES_PER_PAGE
        ]
        rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]  # two a row
        turn = []
        if page > 0:
            turn.append(
                InlineKeyboardButton("◀ Territoires", callback_data=f"set:wpage:{page - 1}")
            )
        if first + TERRITORIES_PER_PAGE < len(territories):
            turn.append(
                InlineKeyboardButton("Territoires ▶", callback_data=f"set:wpage:{page + 1}")
            )
        if turn:
            rows.append(turn)
    return InlineKeyboardMarkup(rows)


async def settings(update: Update, context: Context) -> None:
    """/reglages: the chat's settings, with buttons to change them."""
    found = await admin_chat(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    await reply(
        update,
        intro + describe(rt.config, subscriber),
        reply_markup=keyboard(rt.config, subscriber),
    )


async def settings_button(update: Update, context: Context) -> None:
    """A press on a /reglages button: change the setting, then redraw the message."""
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None or not query.data:
        return
    if not await is_admin(update, context):
        await query.answer(ADMINS_ONLY, show_alert=True)
        return
    rt = runtime(context)
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    if subscriber is None:
        await query.answer("Envoyez d'abord /start.", show_alert=True)
        return
    _, what, value = [*query.data.split(":", 2), "", ""][:3]
    chats, chat_id = rt.subscribers, chat.id
    territories = territories_of(rt.config)
    page = 0
    if what == "wpage" and value.isdigit() and int(value) * TERRITORIES_PER_PAGE < len(territories):
        page = int(value)  # another page of territories: nothing changes
    elif what == "mode" and value in MODES:
        await asyncio.to_thread(chats.set_mode, chat_id, value)  # type: ignore[arg-type]
    elif what == "hour" and value in DIGEST_HOURS:
        await asyncio.to_thread(chats.set_digest_time, chat_id, value)
    elif what in ("silent", "previews"):
        await asyncio.to_thread(chats.set_option, chat_id, what, not getattr(subscriber, what))
    elif what == "where" and value == "all":
        await asyncio.to_thread(chats.set_territories, chat_id, ())
    elif what == "where" and value.isdigit() and int(value) < len(territories):
        chosen = set(subscriber.territories) ^ {territories[int(value)]}
        await asyncio.to_thread(chats.set_territories, chat_id, chosen)
        page = int(value) // TERRITORIES_PER_PAGE
    else:
        await query.answer("Ce réglage n'existe plus : /reglages pour le menu à jour.")
        return
    if what == "wpage":
        await query.answer()
    else:
        rt.subscriptions.invalidate()
        await query.answer("Réglage enregistré.")
    changed = await asyncio.to_thread(chats.get, chat_id)
    assert changed is not None
    try:
        await query.edit_message_text(
            describe(rt.config, changed), reply_markup=keyboard(rt.config, changed, page)
        )
    except BadRequest as exc:  # "message is not modified": nothing to redraw
        if "not modified" not in exc.message.lower():
            raise
