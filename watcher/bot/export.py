"""/export and /import: a chat's settings as a small JSON file, and back.

``/export`` sends ``watcher-reglages.json``: topics, own words, filters,
territories, delivery mode and the dossiers followed. Sending that file back with
the caption ``/import`` (or answering ``/import`` to the message that holds it)
restores them, in this chat or another; what no longer exists (a topic removed
from feeds.yml, a dossier watcher forgot) is left out and said. In a group only
administrators import.
"""

import asyncio
import html
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from telegram import Document, Update

from watcher.bot.chats import ADMINS_ONLY, chat_of, is_admin
from watcher.bot.replies import Context, received_file, reply, send_file
from watcher.filters import FAMILY_LABELS, KIND_LABELS, ChatFilter
from watcher.personal import MAX_RULES, WordsError, parse_rule
from watcher.store.subscribers import MODES

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps as Runtime

FILE_NAME = "watcher-reglages.json"
FORMAT = "watcher-settings"
MAX_BYTES = 64 * 1024
IMPORT_HELP = (
    "Pour restaurer des réglages : envoyez ici le fichier exporté ("
    + FILE_NAME
    + ") avec la légende /import, ou répondez /import au message qui le contient."
)


def settings_of(rt: "Runtime", chat_id: int) -> dict[str, Any]:
    """Everything a chat chose, as the exported document (a blocking read)."""
    subscriber = rt.subscribers.get(chat_id)
    assert subscriber is not None
    chosen = rt.store.filters.get(chat_id)
    return {
        "format": FORMAT,
        "version": 1,
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "topics": sorted(subscriber.topics),
        "words": rt.store.words.of(chat_id),
        "kinds": sorted(chosen.kinds),
        "sources": sorted(chosen.families),
        "territories": sorted(subscriber.territories),
        "mode": subscriber.mode,
        "digest_time": subscriber.digest_time,
        "silent": subscriber.silent,
        "previews": subscriber.previews,
        "dossiers": [d.dossier for d in rt.store.dossiers.of_destination(str(chat_id))],
    }


async def export(update: Update, context: Context) -> None:
    """/export: the chat's settings as a file."""
    found = await chat_of(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    document = await asyncio.to_thread(settings_of, rt, subscriber.chat_id)
    data = json.dumps(document, ensure_ascii=False, indent=2).encode()
    if intro:
        await reply(update, intro.strip())
    await send_file(
        context,
        subscriber.chat_id,
        data,
        filename=FILE_NAME,
        caption="Vos réglages (sujets, mots, filtres, dossiers suivis). Renvoyez ce fichier "
        "avec la légende /import pour les restaurer, ici ou dans un autre chat.",
    )


async def import_command(update: Update, context: Context) -> None:
    """/import, as an answer to the message holding the file (else: how to import)."""
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    if replied is None or replied.document is None:
        await reply(update, IMPORT_HELP)
        return
    await _restore(update, context, replied.document)


async def import_document(update: Update, context: Context) -> None:
    """A document whose caption is /import."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    if not (message.caption or "").strip().lower().startswith("/import"):
        return
    await _restore(update, context, message.document)


async def _restore(update: Update, context: Context, document: Document) -> None:
    if not await is_admin(update, context):
        await reply(update, ADMINS_ONLY)
        return
    if (document.file_size or 0) > MAX_BYTES:
        await reply(update, "Ce fichier est trop gros pour des réglages. " + IMPORT_HELP)
        return
    data = await received_file(context, document.file_id)
    try:
        settings = json.loads(data[:MAX_BYTES]) if data is not None else None
    except ValueError:
        settings = None
    if settings is None:
        await reply(update, "Je n'ai pas pu lire ce fichier. " + IMPORT_HELP)
        return
    if not isinstance(settings, dict) or settings.get("format") != FORMAT:
        await reply(update, "Ce fichier n'est pas un export de réglages de watcher (/export).")
        return
    found = await chat_of(update, context)
    if found is None:
        return
    rt, subscriber, intro = found
    left_out = await asyncio.to_thread(_apply, rt, subscriber.chat_id, settings)
    rt.subscriptions.invalidate()
    note = ("\nLaissés de côté : " + html.escape(", ".join(left_out)) + ".") if left_out else ""
    await reply(
        update,
        intro + "✅ Réglages restaurés : sujets, mots, filtres, mode et dossiers suivis."
        f"{note}\n/reglages et /mots pour les voir.",
    )


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _apply(rt: "Runtime", chat_id: int, settings: dict[str, Any]) -> list[str]:
    """Restore what the document holds (a blocking write); what was left out, named."""
    left_out: list[str] = []
    topics = _strings(settings.get("topics"))
    for topic in rt.config.topics:
        if topic in topics:
            rt.subscribers.subscribe(chat_id, topic)
        else:
            rt.subscribers.unsubscribe(chat_id, topic)
    left_out += [f"sujet {t}" for t in topics if t not in rt.config.topics]
    rules: list[str] = []
    for typed in _strings(settings.get("words"))[:MAX_RULES]:
        try:
            rules.append(parse_rule(typed).text)  # « phrase » reads as a quoted phrase
        except WordsError:
            left_out.append(f"mots {typed}")
    rt.store.words.replace(chat_id, rules)
    kinds = frozenset(k for k in _strings(settings.get("kinds")) if k in KIND_LABELS)
    families = frozenset(f for f in _strings(settings.get("sources")) if f in FAMILY_LABELS)
    rt.store.filters.set(chat_id, ChatFilter(kinds, families))
    rt.subscribers.set_territories(chat_id, _strings(settings.get("territories")))
    mode = settings.get("mode")
    if mode in MODES:
        rt.subscribers.set_mode(chat_id, mode)
    at = settings.get("digest_time")
    if at is None or (isinstance(at, str) and len(at) == 5 and at[2] == ":"):
        rt.subscribers.set_digest_time(chat_id, at)
    for option in ("silent", "previews"):
        if isinstance(settings.get(option), bool):
            rt.subscribers.set_option(chat_id, option, settings[option])
    now = datetime.now(UTC)
    for dossier in _strings(settings.get("dossiers")):
        record = rt.store.dossiers.get(dossier)
        if record is None:
            left_out.append(f"dossier {dossier}")
            continue
        rt.store.dossiers.follow(
            dossier,
            source_id=record.source_id,
            target="telegram",
            destination=str(chat_id),
            how="suivre",
            now=now,
            title=record.title,
        )
    return left_out
