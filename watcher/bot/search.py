"""The texts watcher stored, as a chat asks for them: /recent and /chercher.

/recent: the latest matched texts of the chat's topics. /chercher: every stored text
containing some words, five at a time, newest published first, or most relevant
with ``tri:pertinence``; each "Plus ▸" button names its own search (kept per chat,
the last ``KEPT_SEARCHES``), so the button under an older list pages through that
list, not the latest one.
"""

import asyncio
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from watcher.bot.chats import chat_of
from watcher.bot.replies import Context, answer_press, reply, runtime
from watcher.delivery.render import format_date, words_found
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.store.search import Search

if TYPE_CHECKING:
    from watcher.bot.deps import BotDeps as Runtime

MAX_RECENT = 20
SEARCH_PAGE = 5

SEARCH_HELP = (
    "Usage : /chercher &lt;mots&gt;, par exemple /chercher reconnaissance faciale\n"
    "Cherche dans tous les textes relevés (titre, résumé, texte), sans tenir compte des "
    "accents ni des majuscules, au singulier comme au pluriel ; un mot finissant par * "
    "est un début de mot (/chercher biométri*). Les plus récents d'abord, ou les plus "
    "pertinents avec tri:pertinence."
)
# Searches a chat can still page through with their "Plus" buttons.
KEPT_SEARCHES = 20


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


async def search(update: Update, context: Context) -> None:
    """/chercher <mots> [tri:pertinence]: every stored item containing these words."""
    words = [w for w in context.args or [] if w.lower() != "tri:pertinence"]
    by_relevance = len(words) != len(context.args or [])
    if not words:
        await reply(update, SEARCH_HELP)
        return
    found = await chat_of(update, context)
    if found is None:
        return
    query = " ".join(words)
    number = 0
    if context.chat_data is not None:  # each "Plus" button names its own search
        kept: dict[int, tuple[str, bool]] = context.chat_data.setdefault("searches", {})
        number = max(kept, default=0) + 1
        kept[number] = (query, by_relevance)
        for old in sorted(kept)[:-KEPT_SEARCHES]:
            del kept[old]
    await _search_page(update, context, (number, query, by_relevance), 0, found[2])


async def search_more(update: Update, context: Context) -> None:
    """The "Plus" button under search results: the next page."""
    query = update.callback_query
    if query is None or not query.data:
        return
    await answer_press(query)
    _, number, offset = [*query.data.split(":", 2), "", ""][:3]
    kept = context.chat_data.get("searches", {}) if context.chat_data is not None else {}
    saved = kept.get(int(number)) if number.isdigit() else None
    if not saved or not offset.isdigit():
        await reply(update, "Cette recherche a expiré : relancez /chercher.")
        return
    words, by_relevance = saved
    await _search_page(update, context, (int(number), words, by_relevance), int(offset), "")


async def _search_page(
    update: Update,
    context: Context,
    search: tuple[int, str, bool],
    offset: int,
    intro: str,
) -> None:
    number, words, by_relevance = search
    rt = runtime(context)
    page = await asyncio.to_thread(
        Search(rt.store.database).search,
        words,
        limit=SEARCH_PAGE,
        offset=offset,
        order="relevance" if by_relevance else "date",
    )
    if not page.results:
        await reply(
            update,
            intro
            + (
                f"Aucun résultat pour « {html.escape(words)} » dans les textes relevés "
                "(accents et majuscules ignorés). Essayez moins de mots, ou le début d'un "
                "mot suivi de * : /chercher biométri*"
                if offset == 0
                else "Pas d'autre résultat."
            ),
        )
        return
    order = "les plus pertinents d'abord" if by_relevance else "les plus récents d'abord"
    header = (
        f"<b>Résultats pour « {html.escape(words)} »</b> dans tous les textes relevés ({order}, "
        f"{offset + 1} à {offset + len(page.results)})"
    )
    lines = result_lines(rt, [(f.item, f.matches) for f in page.results])
    markup = (
        InlineKeyboardMarkup(
            [[InlineKeyboardButton("Plus ▸", callback_data=f"plus:{number}:{page.more}")]]
        )
        if page.more is not None
        else None
    )
    await reply(update, intro + header + "\n" + "\n".join(lines), reply_markup=markup)
