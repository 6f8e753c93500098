"""What an alert says: plain text (console), Telegram HTML, grouped bursts and digests. Pure.

Every string that comes from a source is escaped before it enters HTML, and the
4096-character limit (counted on the text once entities are parsed) is met by
shortening the excerpt and the title *before* rendering, or by splitting a long
burst or digest between alerts: markup is never cut.

``format_date`` is the one way a date is shown to subscribers (in the configured
zone), ``words_found`` the one way the matched words are.
"""

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from watcher.following.steps import step_date
from watcher.items import Item
from watcher.matching.engine import FIELD_SEPARATOR, TopicMatch
from watcher.matching.excerpt import Excerpt
from watcher.matching.normalize import strip_markup

TELEGRAM_LIMIT = 4096
FULL_IN_BURST = 3  # a grouped burst shows its first alerts in full, the rest one line each
LINE_TITLE_CHARS = 160
_ELLIPSIS = "…"
COUNTDOWN_DAYS = 60  # beyond this, an upcoming date is given without "dans N jours"
# An authorisation's window (a prefecture's drone or VSA arrêté) leads its alert as written.
WINDOW_MARKS = ("🚁", "📹")

# One rendered message and the positions (in the views given) of the alerts it holds.
Part = tuple[str, list[int]]


@dataclass(frozen=True)
class AlertView:
    """Everything an alert message shows, already resolved to display strings."""

    source_name: str
    item: Item
    matches: tuple[TopicMatch, ...]
    topic_labels: Mapping[str, str]
    timezone: str = "Europe/Paris"
    update: bool = False  # the document changed since it was first alerted
    follow_up: str = ""  # the stage of a followed dossier this alert is about
    event_at: datetime | None = None  # when it is debated or voted, if known
    event_label: str = "Examen"  # what happens then: "Vote", "Examen en séance"...
    territory: str = ""  # the region or council of the source, if it has one
    now: datetime | None = None  # for "dans N jours"; None: the current time

    @property
    def date(self) -> str:
        return format_date(self.item.published, self.timezone)

    @property
    def keywords(self) -> list[str]:
        return words_found(self.matches)

    @property
    def signals(self) -> list[str]:
        """Why weak evidence was enough ("titre : biométrie"); a plain keyword says itself."""
        found = dict.fromkeys(s for m in self.matches for s in m.signals)
        return [s for s in found if s not in ("mot-clé", "mot faible en renfort")]

    @property
    def excerpt(self) -> Excerpt | None:
        """The first excerpt, unless it would only repeat the title (the hit is in it)."""
        excerpt = next((m.excerpt for m in self.matches if m.excerpt and m.excerpt.text), None)
        if excerpt is None or _repeats_title(excerpt, self.item.title):
            return None
        return excerpt

    @property
    def topics(self) -> list[str]:
        return [self.topic_labels.get(m.topic, m.topic) for m in self.matches]


def format_date(moment: datetime | None, timezone: str = "Europe/Paris") -> str:
    """A date as subscribers see it: ``19/07/2026`` in the configured zone ('' if unknown)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # stored times are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d/%m/%Y")


def words_found(matches: Iterable[TopicMatch]) -> list[str]:
    """What matched, as the text spells it (the rules' names for older matches), once each."""
    return list(dict.fromkeys(k for m in matches for k in (m.words or m.keywords)))


def event_line(view: AlertView) -> tuple[bool, str] | None:
    """(upcoming?, plain line) for the view's debate or vote date, if it has one."""
    if view.event_at is None:
        return None
    if view.event_label.startswith(WINDOW_MARKS):  # "🚁 Drones autorisés du … au …": as is
        return True, view.event_label
    zone = ZoneInfo(view.timezone)
    now = (view.now or datetime.now(UTC)).astimezone(zone)
    event = view.event_at if view.event_at.tzinfo else view.event_at.replace(tzinfo=UTC)
    days = (event.astimezone(zone).date() - now.date()).days
    date = format_date(event, view.timezone)
    # A day without an hour is midnight: today's "Texte de la commission déposé" is done.
    if days < 0 or (event <= now and _DONE.search(view.event_label)):
        # What happened then, as the source says it ("Déposé au Sénat").
        return False, f"📅 {view.event_label} le {date}"
    if days > COUNTDOWN_DAYS:  # "dans 26671 jours" says nothing the date does not
        return True, f"⏰ {view.event_label} prévu le {date}"
    when = "aujourd'hui" if days == 0 else "demain" if days == 1 else f"dans {days} jours"
    return True, f"⏰ {view.event_label} prévu le {date}, {when}"


# What a step's label says was done (not to come).
_DONE = re.compile(
    r"\b(?:déposée?s?|adoptée?s?|transmise?s?|publiée?s?|promulguée?s?|rejetée?s?|modifiée?s?)\b",
    re.IGNORECASE,
)


def _repeats_title(excerpt: Excerpt, title: str) -> bool:
    """The hit lies in the title part of the excerpt, which the alert shows anyway."""
    title_part = excerpt.text.split(FIELD_SEPARATOR, 1)[0]
    if excerpt.hit_end > len(title_part):
        return False
    shown = " ".join(title_part.strip(_ELLIPSIS + " ").split())
    return bool(shown) and shown in " ".join(title.split())


def _head(view: AlertView) -> list[str]:
    return [p for p in (view.source_name, view.territory, view.item.kind, view.date) if p]


# -- one alert ------------------------------------------------------------------


def render_text(view: AlertView) -> str:
    """The console (and plain-text fallback) form of an alert."""
    if view.follow_up:
        return _follow_up_text(view)
    item = view.item
    event = event_line(view)
    lines = [event[1]] if event and event[0] else []
    mark = " 🔄 mis à jour" if view.update else ""
    topics = f"[{', '.join(view.topics)}]{mark} " if view.topics else mark.lstrip()
    lines.append(f"{topics}{' · '.join(_head(view))}".strip())
    lines.append(item.title or "(sans titre)")
    if view.keywords:
        lines.append("Mots-clés : " + ", ".join(view.keywords))
    if view.signals:
        lines.append("Signaux : " + ", ".join(view.signals))
    if view.excerpt:
        lines.append("Extrait : " + view.excerpt.marked())
    if event and not event[0] and not item.schedule:  # else the schedule says it
        lines.append(event[1])
    if item.schedule:
        lines.append("Calendrier : " + item.schedule)
    if web_url(item.url):
        lines.append(item.url or "")
    return "\n".join(lines)


def render_html(view: AlertView, *, limit: int = TELEGRAM_LIMIT) -> str:
    """The Telegram form of an alert, at most ``limit`` characters once parsed."""
    excerpt = view.excerpt
    title = view.item.title or "(sans titre)"
    message = _html(view, title, excerpt)
    if plain_length(message) <= limit:
        return message
    overflow = plain_length(message) - limit
    if excerpt is not None:
        excerpt = _shorten_excerpt(excerpt, len(excerpt.text) - overflow - 1)
        message = _html(view, title, excerpt)
        overflow = plain_length(message) - limit
    if overflow > 0:
        title = title[: max(len(title) - overflow - 1, 1)] + _ELLIPSIS
        message = _html(view, title, excerpt)
    return message


def _follow_up_lines(view: AlertView) -> tuple[str, str, str]:
    """A dossier's step, the same whichever source told it first: (upcoming date line,
    what happened, when): the thread it answers says which dossier it is."""
    event = event_line(view)
    # A step is what happened: only a date still ahead (not today's midnight) is to come.
    ahead = view.event_at is not None and view.event_at > (view.now or datetime.now(UTC))
    upcoming = event[1] if event and event[0] and ahead else ""
    return upcoming, view.follow_up, format_date(step_date(view.item), view.timezone)


def _follow_up_text(view: AlertView) -> str:
    upcoming, step, when = _follow_up_lines(view)
    line = f"🔁 Suite du dossier : {step}"
    lines = [upcoming, f"{line} · {when}" if when else line]
    return "\n".join(line for line in [*lines, view.item.url or ""] if line)


def _follow_up_html(view: AlertView) -> str:
    upcoming, step, when = _follow_up_lines(view)
    line = f"🔁 Suite du dossier : <b>{_link(view.item.url, step)}</b>"
    return "\n".join(x for x in (_escape(upcoming), f"{line} · {when}" if when else line) if x)


def _html(view: AlertView, title: str, excerpt: Excerpt | None) -> str:
    if view.follow_up:
        return _follow_up_html(view)
    item = view.item
    event = event_line(view)
    lines = [_escape(event[1])] if event and event[0] else []
    mark = " · 🔄 mis à jour" if view.update else ""
    if view.topics:
        lines.append(f"🔎 <b>{_escape(', '.join(view.topics))}</b>{mark}")
    lines.append(" · ".join(_escape(p) for p in _head(view)))
    lines.append(f"<b>{_link(item.url, title)}</b>")
    if view.keywords:
        lines.append("Mots-clés : " + ", ".join(f"<i>{_escape(k)}</i>" for k in view.keywords))
    if view.signals:
        lines.append("Signaux : " + _escape(", ".join(view.signals)))
    if excerpt is not None and excerpt.text:
        before = excerpt.text[: excerpt.hit_start]
        hit = excerpt.text[excerpt.hit_start : excerpt.hit_end]
        after = excerpt.text[excerpt.hit_end :]
        lines.append(
            f"<blockquote>{_escape(before)}<b>{_escape(hit)}</b>{_escape(after)}</blockquote>"
        )
    if event and not event[0] and not item.schedule:  # else the schedule says it
        lines.append(_escape(event[1]))
    if item.schedule:
        lines.append("📅 " + _escape(item.schedule))
    return "\n".join(line for line in lines if line)


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


def web_url(url: str | None) -> str | None:
    """``url`` when it is a web address; None for ``javascript:``, ``tg://user``, ``data:``...

    A feed's link is shown as a link only when it leads to a page: a ``tg://user``
    link would mention someone, a ``javascript:`` one does nothing good.
    """
    if not url:
        return None
    scheme = url.strip().split(":", 1)[0].lower()
    return url if scheme in ("http", "https") else None


def _link(url: str | None, text: str) -> str:
    url = web_url(url)
    if not url:
        return _escape(text)
    return f'<a href="{html.escape(url, quote=True)}">{_escape(text)}</a>'


def plain_length(message: str) -> int:
    """Length Telegram counts: the text once tags are gone and entities decoded."""
    return len(strip_markup(message))


# -- several alerts in one message --------------------------------------------


def render_line(view: AlertView) -> str:
    """One alert as one line of a burst or digest: kind, linked title, source, date."""
    title = view.item.title or "(sans titre)"
    if len(title) > LINE_TITLE_CHARS:
        title = title[: LINE_TITLE_CHARS - 1].rstrip() + _ELLIPSIS
    shown_kind = view.item.kind and not title.lower().startswith(view.item.kind.lower())
    kind = f"{_escape(view.item.kind)} : " if shown_kind else ""
    mark = "🔄 " if view.update else ""
    where = ", ".join(_escape(p) for p in (view.source_name, view.territory, view.date) if p)
    return f"• {mark}{kind}{_link(view.item.url, title)} — {where}"


def render_burst(views: Sequence[AlertView], *, limit: int = TELEGRAM_LIMIT) -> list[Part]:
    """Many alerts for one chat as grouped messages: the first in full, then one line each.

    Headed "📚 N nouvelles alertes", numbered "(1/2)" when it takes several messages.
    """
    count = len(views)
    blocks = [
        (
            render_html(view, limit=limit // 2) if position < FULL_IN_BURST else render_line(view),
            position,
        )
        for position, view in enumerate(views)
    ]
    title = f"📚 <b>{count} nouvelle{'s' if count > 1 else ''} alerte{'s' if count > 1 else ''}</b>"
    return _pack(blocks, lambda part: title + part, limit=limit)


def render_digest(views: Sequence[AlertView], *, limit: int = TELEGRAM_LIMIT) -> list[Part]:
    """A day of alerts as compact messages: one line each, grouped by topic, numbered parts."""
    count = len(views)
    by_topic: dict[str, list[int]] = {}
    for position, view in enumerate(views):
        by_topic.setdefault(view.topics[0] if view.topics else "", []).append(position)
    blocks: list[tuple[str, int]] = []
    for topic, positions in by_topic.items():
        for n, position in enumerate(positions):
            line = render_line(views[position])
            heading = f"<b>{_escape(topic)}</b>\n" if n == 0 and topic else ""
            blocks.append((heading + line, position))
    title = f"🗞 <b>Votre sélection du jour</b> — {count} alerte{'s' if count > 1 else ''}"
    topic_of = {p: t for t, ps in by_topic.items() for p in ps}

    def continued(block: str, position: int) -> str:
        # A part that starts inside a topic repeats its name, so each part reads alone.
        topic = topic_of[position]
        if block.startswith("<b>") or not topic:
            return block
        return f"<b>{_escape(topic)}</b> (suite)\n{block}"

    return _pack(blocks, lambda part: title + part, limit=limit, first_block=continued)


def _pack(
    blocks: Sequence[tuple[str, int]],
    header: Callable[[str], str],
    *,
    limit: int,
    first_block: Callable[[str, int], str] = lambda block, _: block,
) -> list[Part]:
    """Blocks into messages of at most ``limit`` characters, each headed and numbered.

    Alert lines ("• ...") follow each other line by line; a full alert or a
    topic's heading gets a blank line before it. The budget keeps room for the
    widest number ("(99/99)") and the widest gaps, so numbering the parts
    afterwards never pushes one over the limit.
    """
    room = limit - plain_length(header(" (99/99)")) - 2
    parts: list[tuple[list[str], list[int]]] = []
    size = 0
    for block, position in blocks:
        if not parts or size + 2 + plain_length(block) > room:
            block = first_block(block, position)
            parts.append(([], []))
            size = -2
        texts, positions = parts[-1]
        texts.append(block)
        positions.append(position)
        size += 2 + plain_length(block)
    total = len(parts)
    return [
        (header(f" ({n}/{total})" if total > 1 else "") + "\n\n" + _join(texts), positions)
        for n, (texts, positions) in enumerate(parts, start=1)
    ]


def _join(blocks: Sequence[str]) -> str:
    text = blocks[0]
    for previous, block in pairwise(blocks):
        lines = previous.rsplit("\n", 1)[-1].startswith("• ") and block.startswith("• ")
        text += ("\n" if lines else "\n\n") + block
    return text
