"""The buttons under an alert: follow its dossier, or stop following it. Pure.

The callback data (``follow:<dossier>``, ``unfollow:<dossier>``) is what the bot's
handlers in ``bot.following`` read back; Telegram caps it at 64 bytes.
"""

from collections.abc import Callable, Sequence

from watcher.delivery.base import Button
from watcher.items import Item

CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts
DIGEST_BUTTONS = 20  # follow buttons under one digest message, at most
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


def digest_keyboard(
    texts: Sequence[tuple[str, int]], follows: Callable[[str], bool]
) -> tuple[tuple[Button, ...], ...]:
    """Under a digest: for each (dossier, number of its text), a "Suivre n° N" button (or
    "Ne plus suivre n° N" when ``follows`` says the chat follows it), two a row."""
    buttons: dict[str, Button] = {}
    for dossier, number in texts:
        if not dossier or dossier in buttons or len(buttons) >= DIGEST_BUTTONS:
            continue
        followed = follows(dossier)
        button = follow_button(dossier, followed)
        if button is not None:
            label = "🔕 Ne plus suivre" if followed else "🔔 Suivre"
            buttons[dossier] = Button(f"{label} n° {number}", data=button.data)
    row = list(buttons.values())
    return tuple(tuple(row[i : i + 2]) for i in range(0, len(row), 2))
