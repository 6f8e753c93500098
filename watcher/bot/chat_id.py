"""/id, and what the bot says to a message that is not a command.

feeds.yml names channels and maintainers by numeric Telegram id, which Telegram
shows nowhere: ``/id`` tells a user their own id and the chat's, and a post
forwarded from a channel gets that channel's id. Any other text gets a short
help in private (in a group, plain talk is not for the bot).
"""

import html

from telegram import MessageOriginChannel, Update
from telegram.constants import ChatType

from watcher.bot.replies import Context, reply

FREE_TEXT_HELP = (
    "Je comprends les commandes qui commencent par /, par exemple :\n"
    "/chercher reconnaissance faciale — fouiller les textes relevés\n"
    "/recent — les dernières alertes\n"
    "/sujets — choisir ses sujets\n"
    "/aide — toutes les commandes"
)


async def chat_id(update: Update, context: Context) -> None:
    """/id: the chat's numeric id (and the sender's), as feeds.yml wants them."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    if chat.type == ChatType.PRIVATE:
        text = (
            f"Votre identifiant Telegram : <code>{chat.id}</code>\n"
            f"Pour être mainteneur : <code>maintainers: [{chat.id}]</code> dans feeds.yml.\n"
            "Pour un canal : transférez-moi ici un de ses messages, je vous donnerai son "
            "identifiant."
        )
    else:
        text = (
            f"Identifiant de ce chat : <code>{chat.id}</code>\n"
            "Pour y envoyer toutes les alertes, dans feeds.yml :\n"
            f"<code>channels:\n  - chat_id: {chat.id}</code>"
        )
        if user is not None:
            text += f"\nVotre identifiant Telegram : <code>{user.id}</code>"
    await reply(update, text)


async def free_text(update: Update, context: Context) -> None:
    """A message that is not a command: a channel's id if forwarded from one, else help."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    origin = message.forward_origin
    if isinstance(origin, MessageOriginChannel):
        name = f"@{origin.chat.username}" if origin.chat.username else origin.chat.title or ""
        await reply(
            update,
            f"Identifiant du canal {html.escape(name)} : <code>{origin.chat.id}</code>\n"
            "Dans feeds.yml :\n"
            f"<code>channels:\n  - chat_id: {origin.chat.id}</code>\n"
            "(le bot doit être administrateur du canal pour y publier)",
        )
        return
    await reply(update, FREE_TEXT_HELP)
