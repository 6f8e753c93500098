"""/mots: a subscriber's own words, alerted alongside (or instead of) the topics.

``/mots`` lists them with a button to remove each; ``/mots ajouter "reconnaissance
vocale"`` adds a phrase, ``/mots ajouter vidéoprotection Lyon`` a rule whose every
word must be in the text; ``/mots retirer N`` removes one. In a group only its
administrators change them. Rules are matched by ``watcher.personal``.
"""

import asyncio
import hashlib
import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from watcher.bot.chats import admin_chat, admin_press, chat_of
from watcher.bot.replies import Context, answer_press, redraw, reply, runtime
from watcher.personal import MAX_RULES, WordsError, parse_rule

REMOVE = "motsdel:"
REMOVE_PATTERN = rf"^{REMOVE}"
USAGE = (
    "<b>Vos mots</b> : des alertes sur vos propres mots, en plus des sujets.\n"
    '/mots ajouter "reconnaissance vocale" — une expression, entre guillemets\n'
    "/mots ajouter vidéoprotection Lyon — tous ces mots dans le même texte\n"
    "/mots retirer 2 — retirer la règle n° 2\n"
    "Accents, majuscules et pluriels sont pris en compte comme pour les sujets."
)


def _key(rule: str) -> str:
    return hashlib.sha1(rule.encode()).hexdigest()[:10]


def _listing(rules: list[str]) -> tuple[str, InlineKeyboardMarkup | None]:
    if not rules:
        return "Vous n'avez pas encore de mots à vous.\n\n" + USAGE, None
    lines = [f"{n}. {html.escape(rule)}" for n, rule in enumerate(rules, 1)]
    buttons = [
        [InlineKeyboardButton(f"❌ Retirer n° {n}", callback_data=f"{REMOVE}{_key(rule)}")]
        for n, rule in enumerate(rules, 1)
    ]
    text = (
        f"<b>Vos mots</b> ({len(rules)} sur {MAX_RULES}) :\n"
        + "\n".join(lines)
        + "\n\nLes alertes qu'ils déclenchent disent « vos mots : … ».\n"
        + USAGE.split("\n", 1)[1]
    )
    return text, InlineKeyboardMarkup(buttons)


async def words(update: Update, context: Context) -> None:
    """/mots [ajouter …|retirer N]"""
    message = update.effective_message
    if message is None:
        return
    rest = (message.text or "").split(maxsplit=1)[1:] or [""]
    action, _, argument = rest[0].strip().partition(" ")
    action = action.lower()
    if action in ("ajouter", "add", "retirer", "supprimer", "remove"):
        found = await admin_chat(update, context)
    else:
        found = await chat_of(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    chat_id = subscriber.chat_id
    rules = await asyncio.to_thread(rt.store.words.of, chat_id)
    if action in ("ajouter", "add"):
        answer = await _add(context, chat_id, rules, argument)
    elif action in ("retirer", "supprimer", "remove"):
        answer = await _remove(context, chat_id, rules, argument.strip())
    elif action:
        answer = "Je ne connais pas « " + html.escape(action) + " ».\n\n" + USAGE
    else:
        text, markup = _listing(rules)
        await reply(update, intro + text, reply_markup=markup)
        return
    rt.subscriptions.invalidate()
    await reply(update, intro + answer)


async def _add(context: Context, chat_id: int, rules: list[str], typed: str) -> str:
    if len(rules) >= MAX_RULES:
        return (
            f"Vous avez déjà {MAX_RULES} règles, le maximum : retirez-en une "
            "(/mots retirer N) avant d'en ajouter."
        )
    try:
        rule = parse_rule(typed)
    except WordsError as exc:
        return html.escape(str(exc))
    added = await asyncio.to_thread(runtime(context).store.words.add, chat_id, rule.text)
    if not added:
        return f"Vous avez déjà la règle {html.escape(rule.text)}. /mots pour la liste."
    how = (
        "un texte contenant cette expression"
        if len(rule.parts) == 1
        else "un texte contenant tous ces mots"
    )
    return (
        f"✅ Ajouté : {html.escape(rule.text)}\nVous serez alerté(e) dès qu'{how} sera publié. "
        "/mots pour la liste."
    )


async def _remove(context: Context, chat_id: int, rules: list[str], number: str) -> str:
    if not number.isdigit() or not 1 <= int(number) <= len(rules):
        if not rules:
            return "Vous n'avez aucun mot à retirer. " + '/mots ajouter "…" pour en ajouter.'
        return f"Donnez le numéro d'une règle, de 1 à {len(rules)} : /mots retirer 1"
    rule = rules[int(number) - 1]
    await asyncio.to_thread(runtime(context).store.words.remove, chat_id, rule)
    return f"Retiré : {html.escape(rule)}. /mots pour la liste."


async def remove_button(update: Update, context: Context) -> None:
    """A press on "Retirer n° N" under /mots: remove the rule, redraw the list."""
    pressed = await admin_press(update, context)
    if pressed is None:
        return
    query, chat, data = pressed
    rt = runtime(context)
    rules = await asyncio.to_thread(rt.store.words.of, chat.id)
    key = data.removeprefix(REMOVE)
    rule = next((r for r in rules if _key(r) == key), None)
    if rule is None:
        await answer_press(query, "Cette règle n'existe plus.")
    else:
        await asyncio.to_thread(rt.store.words.remove, chat.id, rule)
        rt.subscriptions.invalidate()
        await answer_press(query, f"Retiré : {rule}")
    text, markup = _listing(await asyncio.to_thread(rt.store.words.of, chat.id))
    await redraw(query, text, markup)
