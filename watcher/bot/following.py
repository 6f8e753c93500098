"""Following dossiers from Telegram: /suivre, /dossiers, /oublier and the alerts' buttons.

A chat that had an alert about a text follows its dossier already; the button
under each alert stops that ("Ne plus suivre") or starts it again ("Suivre ce
dossier"). ``/suivre`` follows any dossier by hand, ``/dossiers`` lists the chat's
with their last step and next date, and a maintainer's ``/oublier`` stops a
dossier for everyone.
"""

import asyncio
import html
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from watcher.bot.commands import Context, Handler, reply, runtime
from watcher.bot.maintainer import maintainer_only
from watcher.delivery.buttons import FOLLOW, UNFOLLOW, follow_button
from watcher.delivery.render import format_date
from watcher.following import parse_dossier
from watcher.store.dossiers import Dossier

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


async def _resolve(context: Context, text: str) -> tuple[str | None, str]:
    """The dossier a /suivre or /oublier argument names, or why there is none."""
    name = parse_dossier(text)
    if name is None:
        return None, ""
    rt = runtime(context)
    if name.startswith(("senat:", "an:")):
        return name, ""
    dossier = await asyncio.to_thread(rt.store.dossiers.resolve, name)
    if dossier is None:
        return None, (
            f"Je ne connais encore aucun texte {html.escape(name)}. Réessayez quand il aura été "
            "publié, ou donnez le signet du Sénat ou l'identifiant de l'Assemblée (DLR…)."
        )
    return dossier, ""


def _source_for(context: Context, dossier: str) -> str:
    """The configured source whose site the dossier's stream is read from."""
    kind = {"senat": "senat", "an": "assemblee"}.get(dossier.split(":", 1)[0], "")
    sources = runtime(context).config.sources
    return next((s.id for s in sources if s.kind == kind), "")


async def suivre(update: Update, context: Context) -> None:
    """/suivre <signet, UID, NOR ou lien> : suivre un dossier à la main."""
    chat = update.effective_chat
    if chat is None:
        return
    dossier, problem = await _resolve(context, " ".join(context.args or []))
    if dossier is None:
        await reply(update, problem or SUIVRE_USAGE)
        return
    rt = runtime(context)
    now = datetime.now(UTC)
    existing = await asyncio.to_thread(rt.store.dossiers.get, dossier)
    title = await asyncio.to_thread(rt.store.dossiers.title_of, dossier)
    await asyncio.to_thread(rt.subscribers.start, chat.id, chat.type, now=now)
    await asyncio.to_thread(
        rt.store.dossiers.follow,
        dossier,
        source_id=existing.source_id if existing else _source_for(context, dossier),
        target="telegram",
        destination=str(chat.id),
        how="suivre",
        now=now,
        title=title,
    )
    named = f"<b>{html.escape(title)}</b> ({dossier})" if title else f"<b>{dossier}</b>"
    await reply(
        update,
        f"✅ Vous suivez le dossier {named}.\nChacune de ses nouvelles étapes vous sera "
        "envoyée, même sans mot-clé. /dossiers pour voir ceux que vous suivez ; le bouton "
        "« Ne plus suivre » sous une alerte pour arrêter.",
    )


async def dossiers(update: Update, context: Context) -> None:
    """/dossiers : les dossiers suivis, leur dernière étape et leur prochaine date."""
    chat = update.effective_chat
    if chat is None:
        return
    rt = runtime(context)
    followed = await asyncio.to_thread(rt.store.dossiers.of_destination, str(chat.id))
    if not followed:
        await reply(
            update,
            "Vous ne suivez aucun dossier. Appuyez sur « Suivre ce dossier » sous une alerte, "
            "ou envoyez par exemple /suivre pjl22-220.",
        )
        return
    timezone = rt.config.settings.timezone
    blocks = [describe(d, timezone, now=datetime.now(UTC)) for d in followed]
    await reply(
        update,
        "<b>Dossiers suivis</b>\n\n"
        + "\n\n".join(blocks)
        + "\n\nPour arrêter : le bouton « Ne plus suivre » sous une de leurs alertes.",
    )


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
    now = datetime.now(UTC)
    if action + ":" == FOLLOW:
        existing = await asyncio.to_thread(rt.store.dossiers.get, dossier)
        if existing is not None and existing.status == "stopped":
            await query.answer("Ce dossier n'est plus suivi par watcher.")
            return
        await asyncio.to_thread(rt.subscribers.start, chat.id, chat.type, now=now)
        await asyncio.to_thread(
            rt.store.dossiers.follow,
            dossier,
            source_id=existing.source_id if existing else _source_for(context, dossier),
            target="telegram",
            destination=str(chat.id),
            how="suivre",
            now=now,
            title=await asyncio.to_thread(rt.store.dossiers.title_of, dossier),
        )
        await query.answer("Dossier suivi : ses prochaines étapes vous seront envoyées.")
    else:
        await asyncio.to_thread(rt.store.dossiers.unfollow, dossier, str(chat.id))
        await query.answer("Vous ne suivez plus ce dossier.")
    followed = await asyncio.to_thread(rt.store.dossiers.follows, dossier, str(chat.id))
    button = follow_button(dossier, followed)
    if button is not None:
        await query.edit_message_reply_markup(
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton(button.text, callback_data=button.data)]]
            )
        )


@maintainer_only
async def oublier(update: Update, context: Context) -> None:
    """/oublier <dossier> : ne plus suivre un dossier, pour personne."""
    dossier, problem = await _resolve(context, " ".join(context.args or []))
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
