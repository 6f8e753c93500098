"""The bot's commands: small handlers, French replies, never a stack trace.

Subscribers: /start /sujets /sources /abonnements /recent /pause /reprendre
/digest /stop /aide here; /chercher in ``search``, /reglages in ``chat_settings``,
/mots in ``words``, /suivre and /dossiers in ``following``, /export and /import in
``export``, /id in ``chat_id``; the maintainers' commands in ``maintainer``.

No dead ends: any command from a chat the bot does not know registers it with
every topic and greets it, and every reply says what to do next. A chat that said
/stop is the exception: only /start brings it back (in a group, an
administrator's), so no other command subscribes it again behind its back. In a group,
what changes the group's alerts is for its administrators only (Telegram is
asked, and the answer kept for a minute); commands addressed to another bot
(``/ban@other_bot``) are not ours and get no answer.
"""

import asyncio
import html
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from watcher.delivery.render import format_date, words_found
from watcher.delivery.telegram import answer
from watcher.items import Item
from watcher.matching.engine import TopicMatch

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps as Runtime
    from watcher.store.subscribers import Subscriber

logger = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

SUBSCRIBER_COMMANDS = [
    ("start", "Démarrer et s'abonner"),
    ("sujets", "Choisir ses sujets"),
    ("mots", 'Mes propres mots : /mots ajouter "reconnaissance vocale"'),
    ("sources", "Sources surveillées"),
    ("abonnements", "Mes abonnements"),
    ("recent", "Dernières alertes : /recent 5"),
    ("chercher", "Chercher : /chercher reconnaissance faciale"),
    ("pause", "Suspendre les alertes"),
    ("reprendre", "Reprendre les alertes"),
    ("digest", "Un résumé quotidien au lieu des alertes (ou l'inverse)"),
    ("reglages", "Réglages : mode, heure du résumé, son, aperçus, territoires"),
    ("suivre", "Suivre un dossier : /suivre pjl22-220"),
    ("dossiers", "Les dossiers que je suis"),
    ("export", "Mes réglages dans un fichier (à renvoyer avec /import)"),
    ("import", "Restaurer mes réglages : le fichier de /export, légende /import"),
    ("id", "L'identifiant de ce chat (pour feeds.yml)"),
    ("stop", "Se désabonner et effacer mes données"),
    ("aide", "Aide"),
]
BOT_COMMANDS = [BotCommand(name, description) for name, description in SUBSCRIBER_COMMANDS]

HELP = (
    "<b>watcher</b> surveille le Journal officiel, le Sénat, l'Assemblée nationale, la CNIL "
    "et des conseils régionaux et municipaux, et vous alerte dès qu'un texte parle de "
    "reconnaissance faciale, de biométrie ou de vidéosurveillance algorithmique.\n\n"
    + "\n".join(f"/{name} — {description}" for name, description in SUBSCRIBER_COMMANDS)
)
MAX_RECENT = 20
SEARCH_PAGE = 5
ADMIN_CACHE_SECONDS = 60.0
GROUPS = (ChatType.GROUP, ChatType.SUPERGROUP)
ADMINS_ONLY = "Seuls les administrateurs de ce groupe peuvent changer ses alertes."
STOPPED = (
    "Ce chat s'est désabonné (/stop) : aucune alerte n'y est envoyée. /start pour vous "
    "réabonner (dans un groupe : un administrateur)."
)
# What /sources calls each kind of source.
KIND_NAMES = {
    "rss": "flux RSS",
    "senat": "Sénat",
    "assemblee": "Assemblée nationale",
    "dila": "Journal officiel",
    "legifrance": "Légifrance",
    "scdl": "délibérations (données ouvertes)",
    "opendatasoft": "données ouvertes",
    "html": "page web",
    "webdelib": "séances du conseil (WebDélib+)",
    "arcgis": "données ouvertes (ArcGIS)",
}


def runtime(context: Context) -> "Runtime":
    value: Runtime = context.application.bot_data["runtime"]
    return value


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer in the chat; wait once if Telegram says the chat is sending too fast."""
    message = update.effective_message
    if message is None:
        return
    await answer(
        lambda: message.reply_text(text, **kwargs),  # type: ignore[arg-type]
        f"reply in chat {message.chat_id}",
    )


async def chat_of(update: Update, context: Context) -> "tuple[Runtime, Subscriber, str] | None":
    """The chat's subscriber, registered with every topic if the bot did not know it.

    The third value is the greeting to put before the answer ('' for a known chat).
    """
    chat = update.effective_chat
    if chat is None:
        return None
    rt = runtime(context)
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    if subscriber is not None:
        return rt, subscriber, ""
    if await asyncio.to_thread(rt.subscribers.stopped, chat.id):
        await reply(update, STOPPED)
        return None
    subscriber = await _register(rt, chat.id, chat.type)
    return rt, subscriber, greeting(rt, subscriber) + "\n\n"


async def _register(rt: "Runtime", chat_id: int, chat_type: str) -> "Subscriber":
    await asyncio.to_thread(rt.subscribers.start, chat_id, chat_type, now=datetime.now(UTC))
    for topic in rt.config.topics:
        await asyncio.to_thread(rt.subscribers.subscribe, chat_id, topic)
    rt.subscriptions.invalidate()
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat_id)
    assert subscriber is not None
    return subscriber


def greeting(rt: "Runtime", subscriber: "Subscriber") -> str:
    return (
        "👋 Bienvenue ! Vous êtes abonné(e) à : "
        + html.escape(topic_labels(rt, subscriber.topics))
        + ". Les alertes arriveront ici. /sujets pour choisir vos sujets, /aide pour tout le reste."
    )


def topic_labels(rt: "Runtime", topic_ids: "frozenset[str] | Sequence[str]") -> str:
    return ", ".join(rt.config.topics[t].label for t in sorted(topic_ids) if t in rt.config.topics)


async def is_admin(update: Update, context: Context, *, channels: bool = False) -> bool:
    """In a group (and with ``channels``, a channel), whether the sender administers it
    (asked of Telegram, kept a minute)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or not (chat.type in GROUPS or (channels and chat.type == ChatType.CHANNEL)):
        return True
    if user is None:
        return False
    cache: dict[tuple[int, int], tuple[float, bool]] = context.application.bot_data.setdefault(
        "admins", {}
    )
    known = cache.get((chat.id, user.id))
    if known is not None and time.monotonic() - known[0] < ADMIN_CACHE_SECONDS:
        return known[1]
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:  # unknown is not allowed; nothing is cached
        logger.warning("could not ask Telegram who administers chat %s: %s", chat.id, exc)
        return False
    allowed = member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
    cache[(chat.id, user.id)] = (time.monotonic(), allowed)
    return allowed


async def admin_chat(update: Update, context: Context) -> "tuple[Runtime, Subscriber, str] | None":
    """``chat_of`` for commands that change the chat's alerts: admins only in a group."""
    if not await is_admin(update, context):
        await reply(update, ADMINS_ONLY + " /recent et /chercher restent ouverts à tous.")
        return None
    return await chat_of(update, context)


async def start(update: Update, context: Context) -> None:
    """Register the chat (or reactivate it) and subscribe it to every topic the first time."""
    chat = update.effective_chat
    if chat is None:
        return
    rt = runtime(context)
    existing = await asyncio.to_thread(rt.subscribers.get, chat.id)
    stopped = existing is None and await asyncio.to_thread(rt.subscribers.stopped, chat.id)
    if stopped and not await is_admin(update, context):  # a group's admins said /stop
        await reply(update, ADMINS_ONLY)
        return
    if existing is None:
        subscriber = await _register(rt, chat.id, chat.type)
    else:
        subscriber = await asyncio.to_thread(
            rt.subscribers.start, chat.id, chat.type, now=datetime.now(UTC)
        )
        rt.subscriptions.invalidate()
    if not subscriber.topics:
        await reply(
            update,
            "Bienvenue ! Vous n'êtes abonné(e) à aucun sujet pour l'instant : touchez un sujet "
            "ci-dessous pour recevoir ses alertes.",
            reply_markup=topics_keyboard(rt, subscriber.topics),
        )
        return
    await reply(
        update,
        "Bienvenue ! "
        + HELP
        + "\n\n"
        + f"Vous êtes abonné(e) à : {html.escape(topic_labels(rt, subscriber.topics))}."
        + "\nLes alertes arriveront ici. Choisissez vos sujets avec /sujets, "
        "le mode de réception avec /reglages." + maintainer_hint(rt, update),
    )


def maintainer_hint(rt: "Runtime", update: Update) -> str:
    """For /start in private: how to find the ids feeds.yml wants (for a maintainer), or
    how to become one (while feeds.yml names none)."""
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return ""
    if chat.id in rt.config.maintainers:
        return (
            "\n\nMainteneur : /id envoyé dans un groupe donne son identifiant pour "
            "<code>channels:</code> ; transférez-moi un message d'un canal pour le sien."
        )
    if rt.config.maintainers:
        return ""
    return (
        f"\n\nVous installez ce bot ? Votre identifiant Telegram est {chat.id} : ajoutez "
        f"<code>maintainers: [{chat.id}]</code> à feeds.yml pour les commandes de "
        "maintenance. /id donne l'identifiant d'un groupe (envoyé dans ce groupe)."
    )


def topics_keyboard(rt: "Runtime", subscribed: frozenset[str]) -> InlineKeyboardMarkup:
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
        await query.answer("Ce sujet n'existe plus : /sujets pour la liste à jour.")
        return
    if not await is_admin(update, context):
        await query.answer(ADMINS_ONLY, show_alert=True)
        return
    if await asyncio.to_thread(rt.subscribers.get, chat.id) is None:
        if await asyncio.to_thread(rt.subscribers.stopped, chat.id):
            await query.answer(STOPPED, show_alert=True)
            return
        await asyncio.to_thread(rt.subscribers.start, chat.id, chat.type, now=datetime.now(UTC))
    if action == "sub":
        await asyncio.to_thread(rt.subscribers.subscribe, chat.id, topic_id)
        await query.answer(f"Abonné(e) : {rt.config.topics[topic_id].label}")
    else:
        await asyncio.to_thread(rt.subscribers.unsubscribe, chat.id, topic_id)
        await query.answer(f"Désabonné(e) : {rt.config.topics[topic_id].label}")
    rt.subscriptions.invalidate()
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    assert subscriber is not None
    await query.edit_message_reply_markup(reply_markup=topics_keyboard(rt, subscriber.topics))


async def sources(update: Update, context: Context) -> None:
    """The sources watched."""
    from watcher.durations import format_duration

    found = await chat_of(update, context)
    if found is None:
        return
    rt, _, intro = found
    lines = []
    for s in rt.config.sources:
        what = KIND_NAMES.get(s.kind, s.kind)
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


def result_lines(rt: "Runtime", found: Sequence[tuple[Item, Sequence[TopicMatch]]]) -> list[str]:
    """Items as /recent and /chercher show them: linked title, date, source, topic, words."""
    zone = rt.config.settings.timezone
    lines = []
    for item, matches in found:
        title = html.escape(item.title[:200] or "(sans titre)")
        link = f'<a href="{html.escape(item.url, quote=True)}">{title}</a>' if item.url else title
        source = rt.config.source(item.source_id)
        labels = [rt.config.topics[m.topic].label for m in matches if m.topic in rt.config.topics]
        about = [
            format_date(item.published, zone),
            source.name if source else item.source_id,
            source.territory if source else "",
            ", ".join(labels),
        ]
        line = f"• {link}\n  " + html.escape(" · ".join(p for p in about if p))
        words = words_found(matches)
        if words:
            line += "\n  Mots trouvés : " + ", ".join(f"<i>{html.escape(w)}</i>" for w in words)
        lines.append(line)
    return lines


async def recent(update: Update, context: Context) -> None:
    """/recent [n]: the latest matched items of my topics."""
    count, note = 5, ""
    if context.args:
        if not context.args[0].isdigit() or int(context.args[0]) < 1:
            await reply(
                update,
                f"Usage : /recent [n], par exemple /recent 10 (de 1 à {MAX_RECENT}).",
            )
            return
        count = int(context.args[0])
        if count > MAX_RECENT:
            count, note = MAX_RECENT, f" ({MAX_RECENT} au plus)"
    found = await chat_of(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    topic_ids = sorted(subscriber.topics) or list(rt.config.topics)
    items = await asyncio.to_thread(rt.store.items.recent_matches, topics=topic_ids, limit=count)
    if not items:
        await reply(
            update,
            intro + "Aucune alerte pour l'instant. Elles arriveront ici dès qu'un texte "
            "parlera de vos sujets ; /chercher fouille les textes déjà relevés.",
        )
        return
    header = f"<b>Dernières alertes</b>{note}"
    await reply(
        update,
        intro + header + "\n" + "\n".join(result_lines(rt, items)),
    )


async def pause(update: Update, context: Context) -> None:
    """Hold the chat's alerts until /reprendre."""
    found = await admin_chat(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    await asyncio.to_thread(rt.subscribers.pause, subscriber.chat_id, now=datetime.now(UTC))
    rt.subscriptions.invalidate()
    await reply(
        update,
        intro + "Alertes en pause. /reprendre pour les réactiver : je vous dirai alors "
        "combien de textes sont parus entre-temps.",
    )


async def resume(update: Update, context: Context) -> None:
    """End a pause, and say what it kept back."""
    found = await admin_chat(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    since = await asyncio.to_thread(rt.subscribers.resume, subscriber.chat_id)
    rt.subscriptions.invalidate()
    if since is None:
        await reply(update, intro + "Vos alertes sont actives (elles n'étaient pas en pause).")
        return
    missed = await asyncio.to_thread(rt.subscribers.missed_since, subscriber.chat_id, since)
    if missed:
        plural = "s" if missed > 1 else ""
        summary = f"{missed} alerte{plural} pendant la pause : /recent {min(missed, MAX_RECENT)}"
    else:
        summary = "Aucune alerte pendant la pause."
    await reply(update, intro + f"Alertes réactivées. {summary}")


async def digest(update: Update, context: Context) -> None:
    """Toggle between immediate alerts and one daily digest."""
    found = await admin_chat(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    to_digest = subscriber.mode != "digest"
    await asyncio.to_thread(
        rt.subscribers.set_mode, subscriber.chat_id, "digest" if to_digest else "immediate"
    )
    if not to_digest:
        await reply(update, intro + "Vous recevrez de nouveau chaque alerte dès sa publication.")
    else:
        at = subscriber.digest_time or rt.config.settings.digest_time
        await reply(
            update,
            intro + f"Vous recevrez un résumé quotidien à {at}. "
            "/digest pour revenir aux alertes immédiates, /reglages pour changer l'heure.",
        )


async def stop(update: Update, context: Context) -> None:
    """Unsubscribe and delete the chat's data."""
    chat = update.effective_chat
    if chat is None:
        return
    if not await is_admin(update, context):
        await reply(update, ADMINS_ONLY)
        return
    rt = runtime(context)
    await asyncio.to_thread(rt.subscribers.delete, chat.id)
    rt.subscriptions.invalidate()
    if context.chat_data is not None:
        context.chat_data.clear()
    await reply(update, "Vous êtes désabonné(e) et vos données sont effacées. /start pour revenir.")


async def help_command(update: Update, context: Context) -> None:
    """The list of commands (a chat that said /stop is not subscribed again by it)."""
    chat = update.effective_chat
    if chat is not None and await asyncio.to_thread(runtime(context).subscribers.stopped, chat.id):
        await reply(update, HELP + "\n\n" + STOPPED)
        return
    found = await chat_of(update, context)
    if found is None:
        return
    await reply(update, found[2] + HELP)


async def unknown(update: Update, context: Context) -> None:
    """Any other command: answered in private, or when addressed to this bot by name."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or not message.text:
        return
    command = message.text.split()[0]
    _, at, addressee = command.partition("@")
    if at and addressee.lower() != (context.bot.username or "").lower():
        return  # another bot's command (/ban@other_bot): not ours to answer
    if not at and chat.type != ChatType.PRIVATE:
        return  # a bare command in a group may be for another bot
    await reply(update, "Commande inconnue. /aide pour la liste des commandes.")


async def chat_member(update: Update, context: Context) -> None:
    """The bot was blocked or removed from a chat: stop sending there."""
    change = update.my_chat_member
    if change is None:
        return
    if change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        rt = runtime(context)
        if await asyncio.to_thread(rt.subscribers.get, change.chat.id) is not None:
            await asyncio.to_thread(
                rt.subscribers.deactivate, change.chat.id, "bot blocked or removed"
            )


async def on_error(update: object, context: Context) -> None:
    """Log a handler's error once, with context; tell the user briefly."""
    logger.error("error while handling an update: %s", context.error, exc_info=context.error)
    if isinstance(update, Update):
        try:
            await reply(update, "Désolé, une erreur est survenue. Réessayez plus tard.")
        except Exception:  # the reply itself may fail: nothing more to do
            logger.debug("could not tell the user about the error", exc_info=True)
