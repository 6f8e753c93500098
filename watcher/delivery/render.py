"""What an alert says: rendered as plain text for the console, HTML for Telegram.

Every string that comes from a source is escaped before it enters HTML, and the
4096-character limit is met by shortening the excerpt and the title *before*
rendering: markup is never cut.
"""

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.matching.excerpt import Excerpt
from watcher.matching.normalize import strip_markup

TELEGRAM_LIMIT = 4096
_ELLIPSIS = "…"


@dataclass(frozen=True)
class AlertView:
    """Everything an alert message shows, already resolved to display strings."""

    source_name: str
    item: Item
    matches: tuple[TopicMatch, ...]
    topic_labels: Mapping[str, str]
    timezone: str = "Europe/Paris"

    @property
    def date(self) -> str:
        if self.item.published is None:
            return ""
        return self.item.published.astimezone(ZoneInfo(self.timezone)).strftime("%d/%m/%Y")

    @property
    def keywords(self) -> list[str]:
        """What matched, as the text spells it (the rules' names for older matches)."""
        return list(dict.fromkeys(k for m in self.matches for k in (m.words or m.keywords)))

    @property
    def excerpt(self) -> Excerpt | None:
        return next((m.excerpt for m in self.matches if m.excerpt and m.excerpt.text), None)

    @property
    def topics(self) -> list[str]:
        return [self.topic_labels.get(m.topic, m.topic) for m in self.matches]


def render_text(view: AlertView) -> str:
    """The console form of an alert."""
    item = view.item
    head = " · ".join(p for p in (view.source_name, item.kind, view.date) if p)
    lines = [f"[{', '.join(view.topics)}] {head}", item.title or "(sans titre)"]
    if view.keywords:
        lines.append("Mots-clés : " + ", ".join(view.keywords))
    if view.excerpt:
        lines.append("Extrait : " + view.excerpt.marked())
    if item.schedule:
        lines.append("Calendrier : " + item.schedule)
    if item.url:
        lines.append(item.url)
    return "\n".join(lines)


def render_html(view: AlertView, *, limit: int = TELEGRAM_LIMIT) -> str:
    """The Telegram form of an alert, at most ``limit`` characters once parsed."""
    excerpt = view.excerpt
    title = view.item.title or "(sans titre)"
    message = _html(view, title, excerpt)
    if _plain_length(message) <= limit:
        return message
    overflow = _plain_length(message) - limit
    if excerpt is not None:
        excerpt = _shorten_excerpt(excerpt, len(excerpt.text) - overflow - 1)
        message = _html(view, title, excerpt)
        overflow = _plain_length(message) - limit
    if overflow > 0:
        title = title[: max(len(title) - overflow - 1, 1)] + _ELLIPSIS
        message = _html(view, title, excerpt)
    return message


def _html(view: AlertView, title: str, excerpt: Excerpt | None) -> str:
    esc = _escape
    item = view.item
    head = " · ".join(esc(p) for p in (view.source_name, item.kind, view.date) if p)
    title_html = (
        f'<a href="{html.escape(item.url, quote=True)}">{esc(title)}</a>'
        if item.url
        else esc(title)
    )
    lines = [f"🔎 <b>{esc(', '.join(view.topics))}</b>", head, f"<b>{title_html}</b>"]
    if view.keywords:
        lines.append("Mots-clés : " + ", ".join(f"<i>{esc(k)}</i>" for k in view.keywords))
    if excerpt is not None and excerpt.text:
        before = excerpt.text[: excerpt.hit_start]
        hit = excerpt.text[excerpt.hit_start : excerpt.hit_end]
        after = excerpt.text[excerpt.hit_end :]
        lines.append(f"<blockquote>{esc(before)}<b>{esc(hit)}</b>{esc(after)}</blockquote>")
    if item.schedule:
        lines.append("📅 " + esc(item.schedule))
    return "\n".join(lines)


def _shorten_excerpt(excerpt: Excerpt, size: int) -> Excerpt | None:
    """Keep the hit, drop text around it until the excerpt fits in ``size`` characters."""
    if size <= 0:
        return None
    text, start, end = excerpt.text, excerpt.hit_start, excerpt.hit_end
    if end - start >= size:
        return Excerpt(text[start : start + size - 1] + _ELLIPSIS, 0, size)
    room = size - (end - start)
    left = min(start, room // 2)
    right = min(len(text) - end, room - left)
    left = min(start, room - right)
    new_start = start - left
    return Excerpt(text[new_start : end + right], start - new_start, end - new_start)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _plain_length(message: str) -> int:
    """Length Telegram counts: the text once tags are gone and entities decoded."""
    return len(strip_markup(message))


def render_digest(
    views: Sequence[AlertView], *, limit: int = TELEGRAM_LIMIT
) -> list[tuple[str, list[int]]]:
    """A daily digest as messages of at most ``limit`` characters, split between alerts.

    Each message comes with the positions (in ``views``) of the alerts it holds, so
    each part can be recorded as delivered on its own.
    """
    count = len(views)
    header = f"🗞 <b>Votre sélection du jour</b> ({count} alerte{'s' if count > 1 else ''})"
    messages: list[tuple[str, list[int]]] = []
    current, held = header, list[int]()
    for position, view in enumerate(views):
        block = render_html(view, limit=limit - _plain_length(header) - 2)
        if held and _plain_length(f"{current}\n\n{block}") > limit:
            messages.append((current, held))
            current, held = header, []
        current, held = f"{current}\n\n{block}", [*held, position]
    if held:
        messages.append((current, held))
    return messages
