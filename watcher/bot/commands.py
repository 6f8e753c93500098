"""The bot's commands: small handlers, French replies, never a stack trace.

Subscribers: /start /sujets /sources /abonnements /recent /chercher /pause
/reprendre /digest /stop /aide. The maintainers' commands are in ``maintainer``.
"""

import asyncio
import html
import logging
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import RetryAfter
from telegram.ext import ContextTypes

from watcher.delivery.telegram import retry_seconds

if TYPE_CHECKING:
    from watcher.runtime import Service as Runtime
    from watcher.store.subscribers import Subscriber

logger = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

SUBSCRIBER_COMMANDS = [
    ("start", "Démarrer et s'abonner"),
    ("sujets", "Choisir ses sujets"),
    ("sources", "Sources surveillées"),
    ("abonnements", "Mes abonnements"),
    ("recent", "Dernières alertes : /recent 5"),
    ("chercher", "Chercher : /chercher reconnaissance faciale"),
    ("pause", "Suspendre les alertes"),
    ("reprendre", "Reprendre les alertes"),
    ("digest", "Un résumé quotidien au lieu des alertes (ou l'inverse)"),
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


def runtime(context: Context) -> "Runtime":
    value: Runtime = context.application.bot_data["runtime"]
    return value


async def reply(update: Update, text: str, **kwargs: object) -> None:
    """Answer in the chat; wait once if Telegram says the chat is sending too fast."""
    message = update.effective_message
    if message is None:
        return
    try:
        await message.reply_text(text, **kwargs)  # type: ignore[arg-type]
    except RetryAfter as exc:
        await asyncio.sleep(retry_seconds(exc))
        await message.reply_text(text, **kwargs)  # type: ignore[arg-type]


async def start(update: Update, context: Context) -> None:
    """Register the chat (or reactivate it) and subscribe it to every topic the first time."""
    chat = update.effective_chat
    if chat is None:
        return
    rt = runtime(context)
    existing = await asyncio.to_thread(rt.subscribers.get, chat.id)
    subscriber = await asyncio.to_thread(
        rt.subscribers.start, chat.id, chat.type, now=datetime.now(UTC)
    )
    if existing is None:
        for topic in rt.config.topics:
            await asyncio.to_thread(rt.subscribers.subscribe, chat.id, topic)
        subscriber = await asyncio.to_thread(
            rt.subscribers.start, chat.id, chat.type, now=datetime.now(UTC)
        )
    labels = ", ".join(
        rt.config.topics[t].label for t in sorted(subscriber.topics) if t in rt.config.topics
    )
    await reply(
        update,
        "Bienvenue ! "
        + HELP
        + "\n\n"
        + (f"Vous êtes abonné(e) à : {html.escape(labels)}." if labels else "Aucun abonnement.")
        + "\nChoisissez vos sujets avec /sujets.",
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
    chat = update.effective_chat
    if chat is None:
        return
    rt = runtime(context)
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    if subscriber is None:
        subscriber = await asyncio.to_thread(
            rt.subscribers.start, chat.id, chat.type, now=datetime.now(UTC)
        )
    await reply(
        update,
        "Sujets surveillés (touchez pour vous abonner ou vous désabonner) :",
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
        await query.answer("Ce sujet n'existe plus.")
        return
    await asyncio.to_thread(rt.subscribers.start, chat.id, chat.type, now=datetime.now(UTC))
    if action == "sub":
        await asyncio.to_thread(rt.subscribers.subscribe, chat.id, topic_id)
        await query.answer(f"Abonné(e) : {rt.config.topics[topic_id].label}")
    else:
        await asyncio.to_thread(rt.subscribers.unsubscribe, chat.id, topic_id)
        await query.answer(f"Désabonné(e) : {rt.config.topics[topic_id].label}")
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    assert subscriber is not None
    await query.edit_message_reply_markup(reply_markup=topics_keyboard(rt, subscriber.topics))


async def sources(update: Update, context: Context) -> None:
    """The sources watched."""
    rt = runtime(context)
    from watcher.durations import format_duration

    lines = [
        f"• {html.escape(s.name)} <i>({s.kind}, toutes les {format_duration(s.interval)})</i>"
        for s in rt.config.sources
    ]
    await reply(update, "<b>Sources surveillées</b>\n" + "\n".join(lines))


async def subscriptions(update: Update, context: Context) -> None:
    """The chat's topics and delivery mode."""
    chat = update.effective_chat
    if chat is None:
        return
    rt = runtime(context)
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    if subscriber is None or not subscriber.topics:
        await reply(update, "Vous n'êtes abonné(e) à aucun sujet. Utilisez /sujets.")
        return
    labels = [
        html.escape(rt.config.topics[t].label)
        for t in sorted(subscriber.topics)
        if t in rt.config.topics
    ]
    mode = "résumé quotidien" if subscriber.digest else "alertes immédiates"
    state = " (en pause : /reprendre)" if subscriber.paused else ""
    await reply(
        update,
        "<b>Vos abonnements</b>\n"
        + "\n".join(f"• {label}" for label in labels)
        + f"\nMode : {mode}{state}",
    )


async def recent(update: Update, context: Context) -> None:
    """/recent [n]: the latest matched items of my topics."""
    count = 5
    if context.args:
        if not context.args[0].isdigit() or not 1 <= int(context.args[0]) <= MAX_RECENT:
            await reply(update, f"Usage : /recent [n], avec n entre 1 et {MAX_RECENT}.")
            return
        count = int(context.args[0])
    await _list_matches(update, context, count, None)


async def search(update: Update, context: Context) -> None:
    """/chercher <mots>: past matched items containing these words."""
    if not context.args:
        await reply(
            update, "Usage : /chercher &lt;mots&gt;, par exemple /chercher reconnaissance faciale"
        )
        return
    await _list_matches(update, context, 10, " ".join(context.args))


async def _list_matches(update: Update, context: Context, count: int, words: str | None) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    rt = runtime(context)
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    topic_ids = (
        sorted(subscriber.topics) if subscriber and subscriber.topics else list(rt.config.topics)
    )
    found = await asyncio.to_thread(
        rt.store.items.recent_matches, topics=topic_ids, limit=count, search=words
    )
    if not found:
        await reply(update, "Aucun résultat." if words else "Aucune alerte pour l'instant.")
        return
    lines = []
    for item, matches in found:
        date = item.published.strftime("%d/%m/%Y") if item.published else ""
        title = html.escape(item.title[:200])
        link = f'<a href="{html.escape(item.url, quote=True)}">{title}</a>' if item.url else title
        keywords = ", ".join(dict.fromkeys(k for m in matches for k in m.keywords))
        lines.append(f"• {link} {date}\n  <i>{html.escape(keywords)}</i>")
    header = (
        f"<b>Résultats pour « {html.escape(words)} »</b>" if words else "<b>Dernières alertes</b>"
    )
    await reply(update, header + "\n" + "\n".join(lines))


async def registered(update: Update, context: Context) -> "tuple[Runtime, Subscriber] | None":
    """The chat's subscriber; None, after asking the chat to /start, when it has none."""
    chat = update.effective_chat
    if chat is None:
        return None
    rt = runtime(context)
    subscriber = await asyncio.to_thread(rt.subscribers.get, chat.id)
    if subscriber is None:
        await reply(update, "Vous n'êtes pas encore inscrit(e) : envoyez /start.")
        return None
    return rt, subscriber


def _flag_command(flag: str, value: bool, message: str) -> Handler:
    async def handler(update: Update, context: Context) -> None:
        found = await registered(update, context)
        if found is None:
            return
        rt, subscriber = found
        await asyncio.to_thread(rt.subscribers.set_flag, subscriber.chat_id, flag, value)
        await reply(update, message)

    return handler


pause = _flag_command("paused", True, "Alertes en pause. /reprendre pour les réactiver.")
resume = _flag_command("paused", False, "Alertes réactivées.")


async def digest(update: Update, context: Context) -> None:
    """Toggle between immediate alerts and one daily digest."""
    found = await registered(update, context)
    if found is None:
        return
    rt, subscriber = found
    await asyncio.to_thread(
        rt.subscribers.set_flag, subscriber.chat_id, "digest", not subscriber.digest
    )
    if subscriber.digest:
        await reply(update, "Vous recevrez de nouveau chaque alerte dès sa publication.")
    else:
        await reply(
            update,
            f"Vous recevrez un résumé quotidien à {rt.config.settings.digest_time}. "
            "/digest pour revenir aux alertes immédiates.",
        )


async def stop(update: Update, context: Context) -> None:
    """Unsubscribe and delete the chat's data."""
    chat = update.effective_chat
    if chat is None:
        return
    await asyncio.to_thread(runtime(context).subscribers.delete, chat.id)
    await reply(update, "Vous êtes désabonné(e) et vos données sont effacées. /start pour revenir.")


async def help_command(update: Update, context: Context) -> None:
    """The list of commands."""
    await reply(update, HELP)


async def unknown(update: Update, context: Context) -> None:
    """Any other command."""
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
