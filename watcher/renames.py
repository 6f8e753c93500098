"""Topic renames: subscribers follow a topic to its new id, never silently dropped.

A topic renamed in feeds.yml declares its former ids (``renamed_from:`` or
``aliases:``); at start-up and at each reload, the subscriptions to a former id
move to the new one, and the new id counts as announced (nobody is offered a
"🆕 Nouveau sujet" button for what they already had). A reload that drops a
topic people subscribe to while adding another, without saying so, looks like a
rename that forgot its ``renamed_from:``: it is refused in one line.
"""

import logging
from collections.abc import Collection

from watcher.config import Config
from watcher.errors import ConfigError
from watcher.store.subscribers import Subscribers

logger = logging.getLogger(__name__)


def check_reload(before: Config, after: Config, subscribed: Collection[str]) -> None:
    """Refuse a reload that would leave subscribers on a topic gone for a new one. Pure."""
    added = [t for t in after.topics if t not in before.topics]
    dropped = [
        t
        for t in before.topics
        if t not in after.topics and t not in after.renamed and t in subscribed
    ]
    if added and dropped:
        old, new = dropped[0], added[0]
        raise ConfigError(
            f"{after.path.name}: topic {old!r} has subscribers and is gone while {new!r} "
            f"appears: to keep them, add `renamed_from: [{old}]` under topics.{new} "
            f"(or keep topics.{old})"
        )


def apply_renames(subscribers: Subscribers, config: Config) -> int:
    """Move the subscriptions of former topic ids to their topic; how many moved."""
    moved = 0
    for old, new in config.renamed.items():
        count = subscribers.rename_topic(old, new)
        if count:
            logger.info("topic %s renamed %s: %d subscription(s) follow it", old, new, count)
        moved += count
    return moved
