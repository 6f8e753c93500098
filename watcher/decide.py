"""Pure decisions of the poller: what is new, what changed, when to look again.

No I/O and no clock: the store says what it already holds (``Known``), the
matcher says what an item concerns, and this module says what to write and
whom to alert. An item already stored is recognised by its key, and when a feed
changes its guids, by its normalised link or by its title and content (as
lemon24/reader's entry_dedupe does), so a feed's mistake never alerts twice.
"""

import difflib
import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from watcher import routing
from watcher.following.plan import NO_STEP, NOTHING_FOLLOWED, Followed, Step
from watcher.items import Item, normalise_link
from watcher.matching.engine import NearMiss, TopicMatch
from watcher.matching.normalize import fold

# Minutes of jitter-free exponential backoff: interval, 2x, 4x... capped.
_MAX_DOUBLINGS = 10
# Two items with the same folded title whose summaries are at least this alike are
# one item republished (small edits, a new guid), not two publications.
SAME_CONTENT_RATIO = 0.8

# What an item is about: the topics it matched (the matcher, pure).
Match = Callable[[Item], Sequence[TopicMatch]]


@dataclass(frozen=True)
class Known:
    """What the store holds of an item already seen at this source."""

    item_id: int
    key: str
    revision: str
    topics: frozenset[str]
    summary: str = ""
    link_key: str | None = None
    fingerprint: str | None = None
    # Stored from another source: the same text seen there first (shared alias or link).
    elsewhere: bool = False
    # This source's sighting of it is recorded already (``item_links``).
    linked: bool = False
    dossier: str = ""


@dataclass(frozen=True)
class KnownItems:
    """The stored items a poll's items may be, looked up by key, link and title,
    and, across sources, by alias and link."""

    by_key: Mapping[str, Known]
    by_link: Mapping[str, Known]
    by_fingerprint: Mapping[str, Sequence[Known]]
    # Other sources' items by one of their aliases ("nor:…", "senat:ppl22-249") or link.
    by_alias: Mapping[str, Known] = field(default_factory=dict)
    elsewhere_by_link: Mapping[str, Known] = field(default_factory=dict)


@dataclass(frozen=True)
class ItemChange:
    """An item to write: new, or a stored one whose document changed."""

    item: Item
    matches: tuple[TopicMatch, ...]
    alerts: tuple[routing.Route, ...]  # (target, destination, topics it gets)
    known: Known | None = None  # the stored item this one updates or renames
    # "new"; "update": the document changed (alerted when it brings a topic the stored
    # version lacked); "refresh": only its key or first revision is recorded;
    # "sighting": a text stored from another source, seen here too (its link noted);
    # "follow-up": a stored text shown to be a step of a followed dossier.
    reason: str = "new"
    # A step of a followed dossier: alerted to the dossier's followers, keywords or not.
    follow_ups: tuple[routing.Route, ...] = ()
    # Topics the new item came close to without firing: held for review, not alerted.
    held: tuple[NearMiss, ...] = ()

    @property
    def link_key(self) -> str | None:
        return link_key(self.item)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.item)


def link_key(item: Item) -> str | None:
    return normalise_link(item.url) if item.url else None


def fingerprint(item: Item) -> str:
    """The item's folded title, hashed: equal for the same title however it is spelled."""
    return hashlib.sha256(fold(item.title).encode()).hexdigest()[:24]


def identify(item: Item, known: KnownItems) -> Known | None:
    """The stored item this one is, if any: same key, else same link, else same text;
    else the same text stored from another source (a shared alias, the same link)."""
    if (hit := known.by_key.get(item.key)) is not None:
        return hit
    link = link_key(item)
    if link is not None and (hit := known.by_link.get(link)) is not None:
        return hit
    for candidate in known.by_fingerprint.get(fingerprint(item), ()):
        if _alike(candidate.summary, item.summary):
            return candidate
    for alias in identities(item):
        if (hit := known.by_alias.get(alias)) is not None:
            return hit
    if link is not None and (hit := known.elsewhere_by_link.get(link)) is not None:
        return hit
    return None


def identities(item: Item) -> list[str]:
    """What names this very text in any source: its aliases, and a JO text's JORFTEXT id
    (its ``jorf:`` dossier is the text itself, unlike a bill's dossier)."""
    names = list(item.aliases)
    if item.dossier.startswith("jorf:"):
        names.append(item.dossier)
    return names


def _alike(a: str, b: str) -> bool:
    a, b = fold(a), fold(b)
    if a == b:
        return True
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= SAME_CONTENT_RATIO and matcher.ratio() >= SAME_CONTENT_RATIO


@dataclass(frozen=True)
class Audience:
    """Who this poll's alerts may go to, as data: the recipients and the source's territory.

    ``alert`` is false for a poll that only marks a backlog as seen.
    """

    recipients: tuple[routing.Recipient, ...] = ()
    territory: str = ""
    alert: bool = True

    def routes(self, topics: Collection[str]) -> tuple[routing.Route, ...]:
        if not self.alert or not topics:
            return ()
        return tuple(routing.routes(topics, self.recipients, self.territory))


def plan_items(
    items: Sequence[Item],
    known: KnownItems,
    *,
    match: Match,
    audience: Audience,
    followed: Followed = NOTHING_FOLLOWED,
    revise: bool = True,
) -> list[ItemChange]:
    """What to store and whom to alert for the items a poll found, in their order.

    Each item is what the store makes of it: new (``plan_new``), a text stored
    from another source (``plan_sighting``), a stored text a followed dossier
    shows to be one of its steps (``plan_follow_up``), or a stored one that may
    have changed (``plan_changed``). Without ``revise`` (a dossier's stream,
    which shows the source's texts in other words), a stored text is never
    rewritten from this sighting of it.
    """
    changes: list[ItemChange] = []
    seen: set[str] = set()
    for item in items:
        if item.key in seen:
            continue
        seen.add(item.key)
        stored = identify(item, known)
        step = followed.of(item) if audience.alert else NO_STEP
        if stored is None:
            changes.append(plan_new(item, match(item), audience, step))
            continue
        # A text stored under another dossier (the textes feed files a committee's text
        # as its own) that a followed dossier's stream shows to be one of its steps.
        joins = bool(item.dossier) and stored.dossier != item.dossier
        if stored.elsewhere:
            change = plan_sighting(item, stored, match, audience, step if joins else NO_STEP)
        elif joins and step.routes:
            change = plan_follow_up(item, stored, match(item), step)
        else:
            change = plan_changed(item, stored, match, audience, step) if revise else None
        if change is not None:
            changes.append(change)
    return changes


def plan_new(
    item: Item, matches: Sequence[TopicMatch], audience: Audience, step: Step
) -> ItemChange:
    """A new item: alerted to the chats whose topics it matched; a step of a followed
    dossier goes to the dossier's followers instead, as a reply in its thread."""
    alerts = audience.routes([m.topic for m in matches])
    item, alerts, follow = _as_step(item, matches, alerts, step)
    return ItemChange(item, tuple(matches), alerts, follow_ups=follow)


def plan_sighting(
    item: Item, stored: Known, match: Match, audience: Audience, step: Step
) -> ItemChange | None:
    """A text stored from another source, seen here too: its sighting is noted, and
    alerted only for topics the stored one lacked (to chats that did not have it)."""
    if stored.linked and stored.key == item.key and not step.routes:
        return None
    matches = tuple(match(item))
    gained = sorted({m.topic for m in matches} - stored.topics)
    kept = tuple(m for m in matches if m.topic in gained)
    item, alerts, follow = _as_step(item, kept, audience.routes(gained), step)
    return ItemChange(item, kept, alerts, known=stored, reason="sighting", follow_ups=follow)


def _as_step(
    item: Item, matches: Sequence[TopicMatch], alerts: tuple[routing.Route, ...], step: Step
) -> tuple[Item, tuple[routing.Route, ...], tuple[routing.Route, ...]]:
    """A step of a followed dossier joins it (a committee's text filed under its own
    signet, a decree applying a followed law): its followers get it in the thread."""
    if not step.routes:
        return item, alerts, ()
    topics = tuple(sorted(m.topic for m in matches))
    follow = tuple(replace(f, topics=topics) for f in step.routes)
    following = {f.destination for f in follow}
    alerts = tuple(a for a in alerts if a.destination not in following)
    if step.dossier != item.dossier:
        aliases = (*item.aliases, item.dossier) if item.dossier else item.aliases
        item = replace(item, dossier=step.dossier, aliases=aliases)
    return item, alerts, follow


def plan_follow_up(
    item: Item, stored: Known, matches: Sequence[TopicMatch], step: Step
) -> ItemChange:
    """A stored text that a followed dossier's stream shows to be one of its steps."""
    return ItemChange(
        item, tuple(matches), (), known=stored, reason="follow-up", follow_ups=step.routes
    )


def plan_changed(
    item: Item, stored: Known, match: Match, audience: Audience, step: Step = NO_STEP
) -> ItemChange | None:
    """A stored item seen again: written when its document changed (another revision) or
    its key changed (a feed renaming its guids); alerted again only for a topic the
    stored version did not match, then marked as an update; never to the followers of
    its dossier, who had it in their thread."""
    # A stored row without a revision predates revisions: take this one as its
    # baseline quietly, or every stored item would look changed once.
    revised = bool(item.revision and stored.revision) and item.revision != stored.revision
    refreshed = stored.key != item.key or (item.revision and not stored.revision)
    if not revised:  # a new guid or a first revision: remember it, alert nothing
        return ItemChange(item, (), (), known=stored, reason="refresh") if refreshed else None
    matches = tuple(match(item))
    gained = sorted({m.topic for m in matches} - stored.topics)
    following = {f.destination for f in step.routes}
    alerts = tuple(a for a in audience.routes(gained) if a.destination not in following)
    return ItemChange(item, matches, alerts, known=stored, reason="update")


def keys_to_look_up(items: Iterable[Item]) -> tuple[list[str], list[str], list[str]]:
    """The keys, links and fingerprints under which the store may know these items."""
    items = list(items)
    links = [link for item in items if (link := link_key(item)) is not None]
    return [i.key for i in items], links, [fingerprint(i) for i in items]


def should_alert(*, initialized: bool, backfill: bool) -> bool:
    """A source's first successful poll only marks its backlog as seen, unless backfill."""
    return initialized or backfill


def next_check_after_success(now: datetime, interval: float) -> datetime:
    return now + timedelta(seconds=interval)


def next_check_after_failure(
    now: datetime,
    *,
    interval: float,
    consecutive_errors: int,
    max_backoff: float,
    retry_after: float | None = None,
) -> datetime:
    """Back off exponentially from the source's interval, honouring Retry-After."""
    doublings = min(max(consecutive_errors - 1, 0), _MAX_DOUBLINGS)
    delay = min(interval * 2**doublings, max(max_backoff, interval))
    if retry_after is not None:
        delay = max(delay, retry_after)
    return now + timedelta(seconds=delay)


def is_due(next_check: datetime | None, now: datetime) -> bool:
    return next_check is None or next_check <= now
