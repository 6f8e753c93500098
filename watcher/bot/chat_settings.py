"""/reglages: each chat's delivery settings, changed with inline buttons.

Mode (each alert at once, grouped, or one daily digest at a chosen hour), silent
notifications, link previews, territories (only alerts from the chosen regions or
councils; national sources always alert), kinds of text (loi, décret, arrêté…) and
families of source (Parlement, Journal officiel, CNIL, collectivités, préfectures).
The deliverer reads the first four through ``Subscribers.preferences``; routing
applies territories, and each poll the kind and family filters (``watcher.filters``).
"""

import asyncio
import html
from dataclasses import replace
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from watcher.bot.chats import admin_chat, admin_press
from watcher.bot.replies import Context, answer_press, redraw, reply, runtime
from watcher.config import Config
from watcher.filters import FAMILY_LABELS, KIND_LABELS, ChatFilter
from watcher.filters import describe as describe_filter
from watcher.store.subscribers import MODES, Subscriber

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps as Runtime

NO_FILTER = ChatFilter()
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


def describe(config: Config, subscriber: Subscriber, chosen: ChatFilter = NO_FILTER) -> str:
    at = subscriber.digest_time or config.settings.digest_time
    mode = MODE_TEXT[subscriber.mode] + (f" à {at}" if subscriber.mode == "digest" else "")
    where = ", ".join(sorted(subscriber.territories)) if subscriber.territories else "tous"
    return (
        "<b>Réglages</b>\n"
        f"Mode : {html.escape(mode)}\n"
        f"Notifications : {'silencieuses' if subscriber.silent else 'avec son'}\n"
        f"Aperçus des liens : {'oui' if subscriber.previews else 'non'}\n"
        f"Territoires : {html.escape(where)}\n"
        f"Types de textes : {describe_filter(chosen.kinds, KIND_LABELS, 'tous')}\n"
        f"Sources : {describe_filter(chosen.families, FAMILY_LABELS, 'toutes')}\n\n"
        "Touchez un bouton pour changer un réglage."
    )


def _choices(
    what: str, labels: dict[str, str], chosen: frozenset[str], every: str
) -> list[list[InlineKeyboardButton]]:
    """A filter's buttons: "every", then one per choice (three a row), ticked."""
    buttons = [
        InlineKeyboardButton(
            f"✅ {label}" if key in chosen else label, callback_data=f"set:{what}:{key}"
        )
        for key, label in labels.items()
    ]
    first = InlineKeyboardButton(
        f"✅ {every}" if not chosen else every, callback_data=f"set:{what}:all"
    )
    return [[first]] + [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


def keyboard(
    config: Config, subscriber: Subscriber, chosen: ChatFilter = NO_FILTER, page: int = 0
) -> InlineKeyboardMarkup:
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
    rows += _choices("kind", KIND_LABELS, chosen.kinds, "Tous les textes")
    rows += _choices("family", FAMILY_LABELS, chosen.families, "Toutes les sources")
    return InlineKeyboardMarkup(rows)


async def settings(update: Update, context: Context) -> None:
    """/reglages: the chat's settings, with buttons to change them."""
    found = await admin_chat(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    chosen = await asyncio.to_thread(rt.store.filters.get, subscriber.chat_id)
    await reply(
        update,
        intro + describe(rt.config, subscriber, chosen),
        reply_markup=keyboard(rt.config, subscriber, chosen),
    )


async def settings_button(update: Update, context: Context) -> None:
    """A press on a /reglages button: change the setting, then redraw the message."""
    pressed = await admin_press(update, context)
    if pressed is None:
        return
    query, chat, data = pressed
    rt = runtime(context)
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    if subscriber is None:
        await answer_press(query, "Envoyez d'abord /start.", alert=True)
        return
    _, what, value = [*data.split(":", 2), "", ""][:3]
    page = await asyncio.to_thread(_change, rt, subscriber, what, value)
    if page is None:
        await answer_press(query, "Ce réglage n'existe plus : /reglages pour le menu à jour.")
        return
    if what == "wpage":
        await answer_press(query)
    else:
        rt.subscriptions.invalidate()
        await answer_press(query, "Réglage enregistré.")
    changed = await asyncio.to_thread(rt.subscribers.get, chat.id)
    assert changed is not None
    filtered = await asyncio.to_thread(rt.store.filters.get, chat.id)
    await redraw(
        query,
        describe(rt.config, changed, filtered),
        keyboard(rt.config, changed, filtered, page),
    )


def _change(rt: "Runtime", subscriber: Subscriber, what: str, value: str) -> int | None:
    """Apply one button's setting (a blocking write): the page of territories to show
    next, or None for a button that no longer exists."""
    chats, chat_id = rt.subscribers, subscriber.chat_id
    territories = territories_of(rt.config)
    if what == "wpage" and value.isdigit() and int(value) * TERRITORIES_PER_PAGE < len(territories):
        return int(value)  # another page of territories: nothing changes
    if what == "mode" and value in MODES:
        chats.set_mode(chat_id, value)  # type: ignore[arg-type]
    elif what == "hour" and value in DIGEST_HOURS:
        chats.set_digest_time(chat_id, value)
    elif what in ("silent", "previews"):
        chats.set_option(chat_id, what, not getattr(subscriber, what))
    elif what == "where" and value == "all":
        chats.set_territories(chat_id, ())
    elif what == "where" and value.isdigit() and int(value) < len(territories):
        chats.set_territories(chat_id, set(subscriber.territories) ^ {territories[int(value)]})
        return int(value) // TERRITORIES_PER_PAGE  # the page of the territory pressed
    elif what in ("kind", "family") and (
        value == "all" or value in {**KIND_LABELS, **FAMILY_LABELS}
    ):
        _toggle_filter(rt, chat_id, what, value)
    else:
        return None
    return 0


def _toggle_filter(rt: "Runtime", chat_id: int, what: str, value: str) -> None:
    """Tick or untick one kind or family ("all": none ticked, everything passes)."""
    current = rt.store.filters.get(chat_id)
    field = "kinds" if what == "kind" else "families"
    chosen: frozenset[str] = getattr(current, field)
    chosen = frozenset() if value == "all" else chosen ^ {value}
    rt.store.filters.set(chat_id, replace(current, **{field: chosen}))
