"""Following dossiers from Telegram: /suivre, /dossiers, /oublier and the alerts' buttons.

A chat that had an alert about a text follows its dossier already; the button
under each alert stops that ("Ne plus suivre") or starts it again ("Suivre ce
dossier"). ``/suivre`` follows a dossier watcher knows, or a Sénat or Assemblée
dossier whose page answers; ``/dossiers`` lists the chat's with their last step,
their next date and a button to stop each; a maintainer's ``/oublier`` stops a
dossier for everyone.

Who may follow from a chat, and under which name the chat follows, is in
``followers``.
"""

import asyncio
import html
import logging
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from watcher.bot.chats import is_admin
from watcher.bot.dossier_site import check_on_site
from watcher.bot.followers import (
    ADMINS_ONLY,
    follow,
    followed_by,
    follows,
    may_follow,
    unfollow,
)
from watcher.bot.maintainer import maintainer_only
from watcher.bot.replies import (
    Context,
    Handler,
    answer_press,
    redraw,
    redraw_buttons,
    reply,
    runtime,
)
from watcher.delivery.buttons import CALLBACK_LIMIT, FOLLOW, UNFOLLOW, follow_button
from watcher.delivery.render import format_date
from watcher.following import parse_dossier
from watcher.store.dossiers import Dossier

logger = logging.getLogger(__name__)
SUIVRE_USAGE = (
    "Usage : /suivre suivi d'un identifiant de dossier ou d'un lien, par exemple\n"
    "/suivre pjl22-220 (signet du Sénat)\n"
    "/suivre DLR5L16N46577 (dossier de l'Assemblée nationale)\n"
    "/suivre IOMD2304578D (NOR d'un texte du Journal officiel)\n"
    "/suivre https://www.senat.fr/dossier-legislatif/pjl22-220.html"
)
OUBLIER_USAGE = "Usage : /oublier suivi du dossier, par exemple /oublier senat:pjl22-220"
# /suivre and /dossiers for every chat, /oublier for the maintainers (guarded).
COMMANDS: dict[str, Handler] = {}
CALLBACK_PATTERN = rf"^({FOLLOW}|{UNFOLLOW})"
STOP_BUTTON = "dstop:"  # under /dossiers: stop following, then redraw the list
STOP_PATTERN = rf"^{STOP_BUTTON}"


async def _resolve(context: Context, text: str) -> tuple[str | None, str, str]:
    """The dossier a /suivre or /oublier argument names (and its title when its site gave
    one), or why there is none.

    A dossier watcher stored, or whose texts name it, is taken at once; a Sénat or
    Assemblée dossier it never saw is taken when its house's site has it.
    """
    name = parse_dossier(text)
    if name is None:
        return None, "", ""
    rt = runtime(context)
    dossier = await asyncio.to_thread(rt.store.dossiers.resolve, name)
    if dossier is not None:
        return dossier, "", ""
    if name.startswith(("senat:", "an:")):
        problem, title = await check_on_site(context, name)
        return (None, problem, "") if problem else (name, "", title)
    return (
        None,
        f"Je ne connais encore aucun texte {html.escape(name)}. Réessayez quand il aura été "
        "publié, ou donnez le signet du Sénat ou l'identifiant de l'Assemblée (DLR…).",
        "",
    )


async def suivre(update: Update, context: Context) -> None:
    """/suivre <signet, UID, NOR ou lien> : suivre un dossier à la main."""
    chat = update.effective_chat
    if chat is None:
        return
    if not context.args:
        await reply(update, SUIVRE_USAGE)
        return
    refused = await may_follow(update, context, chat)
    if refused:
        await reply(update, refused)
        return
    dossier, problem, title = await _resolve(context, " ".join(context.args or []))
    if dossier is None:
        await reply(update, problem or SUIVRE_USAGE)
        return
    await follow(context, chat, dossier, title)
    record = await asyncio.to_thread(runtime(context).store.dossiers.get, dossier)
    title = record.title if record else ""
    named = f"<b>{html.escape(title)}</b> ({dossier})" if title else f"<b>{dossier}</b>"
    await reply(
        update,
        f"✅ Vous suivez le dossier {named}.\nChacune de ses nouvelles étapes vous sera "
        "envoyée, même sans mot-clé. /dossiers pour voir ceux que vous suivez et arrêter.",
    )


def _listing(followed: list[Dossier], timezone: str) -> tuple[str, InlineKeyboardMarkup | None]:
    """/dossiers' text and its buttons, one "Ne plus suivre" per dossier."""
    if not followed:
        return (
            "Vous ne suivez aucun dossier. Appuyez sur « Suivre ce dossier » sous une alerte, "
            "ou envoyez par exemple /suivre pjl22-220.",
            None,
        )
    now = datetime.now(UTC)
    blocks = [f"{n}. " + describe(d, timezone, now=now)[2:] for n, d in enumerate(followed, 1)]
    rows = [
        [InlineKeyboardButton(f"🔕 Ne plus suivre le n° {n}", callback_data=data)]
        for n, d in enumerate(followed, 1)
        if len((data := f"{STOP_BUTTON}{d.dossier}").encode()) <= CALLBACK_LIMIT
    ]
    text = (
        "<b>Dossiers suivis</b>\n\n"
        + "\n\n".join(blocks)
        + "\n\nPour arrêter d'en suivre un : son bouton ci-dessous."
    )
    return text, InlineKeyboardMarkup(rows) if rows else None


async def dossiers(update: Update, context: Context) -> None:
    """/dossiers : les dossiers suivis, leur dernière étape, leur prochaine date, et un
    bouton pour arrêter chacun."""
    chat = update.effective_chat
    if chat is None:
        return
    text, markup = _listing(
        await followed_by(context, chat), runtime(context).config.settings.timezone
    )
    await reply(update, text, reply_markup=markup)


# The latest steps /dossiers lists under each dossier (all of them: `watcher dossiers`).
STEPS_SHOWN = 8


def describe(dossier: Dossier, timezone: str, *, now: datetime) -> str:
    """One dossier as /dossiers shows it: title, last step, its latest steps, next date."""
    lines = [f"• <b>{html.escape(dossier.title or dossier.dossier)}</b> ({dossier.dossier})"]
    if dossier.stage:
        when = format_date(dossier.last_step_at, timezone)
        lines.append(
            f"  Dernière étape : {html.escape(dossier.stage)}" + (f", {when}" if when else "")
        )
    for step in dossier.steps[-STEPS_SHOWN:]:
        lines.append(f"  · {format_date(step.at, timezone)} {html.escape(step.label)}")
    if dossier.next_date is not None and dossier.next_date > now:
        event = html.escape(dossier.next_event or "Examen")
        lines.append(f"  Prochaine date : {event} le {format_date(dossier.next_date, timezone)}")
    if dossier.ends_at is not None and dossier.ends_at <= now:
        lines.append(
            f"  Suivi terminé le {format_date(dossier.ends_at, timezone)} (loi {dossier.law})"
        )
    elif dossier.ends_at is not None:
        lines.append(
            f"  Suivi jusqu'au {format_date(dossier.ends_at, timezone)} (décrets d'application)"
        )
    return "\n".join(lines)


async def follow_button_pressed(update: Update, context: Context) -> None:
    """A press on "Suivre ce dossier" or "Ne plus suivre" under an alert."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or not query.data:
        return
    rt = runtime(context)
    action, _, dossier = query.data.partition(":")
    refused = await may_follow(update, context, chat)
    if refused:
        await answer_press(query, refused, alert=True)
        return
    if action + ":" == FOLLOW:
        existing = await asyncio.to_thread(rt.store.dossiers.get, dossier)
        if existing is not None and existing.status == "stopped":
            await answer_press(query, "Ce dossier n'est plus suivi par watcher.")
            return
        await follow(context, chat, dossier)
        await answer_press(query, "Dossier suivi : ses prochaines étapes vous seront envoyées.")
    else:
        await unfollow(context, chat, dossier)
        await answer_press(query, "Vous ne suivez plus ce dossier.")
    followed = await follows(context, chat, dossier)
    button = follow_button(dossier, followed)
    if button is None:
        return
    pressed = query.message.reply_markup if isinstance(query.message, Message) else None
    rows: list[list[InlineKeyboardButton]] = [
        [InlineKeyboardButton(button.text, callback_data=button.data)]
    ]
    if pressed is not None and sum(len(r) for r in pressed.inline_keyboard) > 1:
        # A digest's buttons, one per text: only the pressed one changes ("… n° 3").
        rows = [
            [_toggled(b, query.data, button.data, followed) for b in row]
            for row in pressed.inline_keyboard
        ]
    await redraw_buttons(query, InlineKeyboardMarkup(rows))


def _toggled(
    button: InlineKeyboardButton, pressed: str, data: str, followed: bool
) -> InlineKeyboardButton:
    if button.callback_data != pressed:
        return button
    number = str(button.text).rpartition(" n° ")[2]
    label = "🔕 Ne plus suivre" if followed else "🔔 Suivre"
    return InlineKeyboardButton(f"{label} n° {number}", callback_data=data)


async def stop_button_pressed(update: Update, context: Context) -> None:
    """A press on a /dossiers button: stop following that dossier, redraw the list."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None or not query.data:
        return
    if not await is_admin(update, context, channels=True):
        await answer_press(query, ADMINS_ONLY, alert=True)
        return
    await unfollow(context, chat, query.data.removeprefix(STOP_BUTTON))
    await answer_press(query, "Vous ne suivez plus ce dossier.")
    text, markup = _listing(
        await followed_by(context, chat), runtime(context).config.settings.timezone
    )
    await redraw(query, text, markup)


@maintainer_only
async def oublier(update: Update, context: Context) -> None:
    """/oublier <dossier> : ne plus suivre un dossier, pour personne."""
    dossier, problem, _ = await _resolve(context, " ".join(context.args or []))
    if dossier is None:
        await reply(update, problem or OUBLIER_USAGE)
        return
    stopped = await asyncio.to_thread(runtime(context).store.dossiers.stop, dossier)
    if not stopped:
        await reply(update, f"Le dossier {dossier} n'est pas suivi. /dossiers pour la liste.")
        return
    await reply(
        update,
        f"🛑 Le dossier {dossier} n'est plus suivi, pour personne : plus de lecture de son flux "
        f"ni de suites. /suivre {dossier.split(':', 1)[1]} pour le reprendre.",
    )


COMMANDS.update({"suivre": suivre, "dossiers": dossiers, "oublier": oublier})
