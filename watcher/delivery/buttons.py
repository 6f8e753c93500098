"""The buttons under an alert: follow its dossier, or stop following it. Pure.

The callback data (``follow:<dossier>``, ``unfollow:<dossier>``) is what the bot's
handlers in ``bot.following`` read back; Telegram caps it at 64 bytes.
"""

from watcher.delivery.base import Button
from watcher.items import Item

CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts
FOLLOW = "follow:"
UNFOLLOW = "unfollow:"


def follow_button(dossier: str, followed: bool) -> Button | None:
    """ "Suivre ce dossier", or "Ne plus suivre" once the chat follows it."""
    data = f"{UNFOLLOW if followed else FOLLOW}{dossier}"
    if not dossier or len(data.encode()) > CALLBACK_LIMIT:
        return None
    return Button("🔕 Ne plus suivre" if followed else "🔔 Suivre ce dossier", data=data)


def follow_keyboard(item: Item, followed: bool) -> tuple[tuple[Button, ...], ...]:
    button = follow_button(item.dossier, followed)
    return ((button,),) if button is not None else ()
