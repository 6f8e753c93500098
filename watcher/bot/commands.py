"""The bot's everyday commands: small handlers, French replies, never a stack trace.

/start /pause /reprendre /digest /stop /aide and unknown commands here, with the
command menu (``BOT_COMMANDS``) and the handlers of a blocked bot and of errors.
Elsewhere: /sujets /sources /abonnements in ``topics``, /recent and /chercher in
``search``, /reglages in ``chat_settings``, /mots in ``words``, /suivre and /dossiers
in ``following``, /export and /import in ``export``, /id in ``chat_id``, the
maintainers' commands in ``maintainer`` and ``review``. Every reply says what to do
next; commands addressed to another bot (``/ban@other_bot``) are not ours and get no
answer.
"""

import asyncio
import html
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telegram import BotCommand, Update
from telegram.constants import ChatMemberStatus, ChatType

from watcher.bot.chats import (
    ADMINS_ONLY,
    STOPPED,
    admin_chat,
    chat_of,
    is_admin,
    register,
    topic_labels,
)
from watcher.bot.replies import Context, reply, runtime
from watcher.bot.search import MAX_RECENT
from watcher.bot.topics import topics_keyboard

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps as Runtime

logger = logging.getLogger(__name__)

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
        subscriber = await register(rt, chat.id, chat.type)
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
    if isinstance(update, Update):  # the reply goes through the gate: it never raises
        await reply(update, "Désolé, une erreur est survenue. Réessayez plus tard.")
