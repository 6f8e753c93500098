"""Which followed dossier a poll's items may be steps of, and who gets those steps. Pure.

The poller asks the store once per poll who follows the dossiers its items name
(``follow_keys``: their dossier, the law they are, the laws they apply) and
hands the answer to the plan as data (``Followed``).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from watcher.following.identity import cites, follow_keys
from watcher.items import Item
from watcher.routing import Route


@dataclass(frozen=True)
class Step:
    """The followed dossier an item is a step of, and whom its step goes to."""

    dossier: str = ""
    routes: tuple[Route, ...] = ()


NO_STEP = Step()


@dataclass(frozen=True)
class Followed:
    """The followed dossiers a poll's items may be steps of, by each key naming them."""

    by_key: Mapping[str, Step] = field(default_factory=dict)
    keys_of: Mapping[str, list[str]] = field(default_factory=dict)  # item key -> its keys

    def of(self, item: Item) -> Step:
        if not self.by_key:
            return NO_STEP
        keys = self.keys_of.get(item.key)
        for key in follow_keys(item) if keys is None else keys:
            if key in self.by_key:
                return self.by_key[key]
        return NO_STEP


NOTHING_FOLLOWED = Followed()


def keys_of(items: Iterable[Item], subjects: Mapping[str, str]) -> dict[str, list[str]]:
    """Each item's follow keys (reading the laws a full text cites is a pass over it: once),
    and the followed dossiers whose subject it cites (a report, a committee's text, an
    adopted text, a press release on the bill: steps of its dossier, whatever their key)."""
    return {
        item.key: [
            *follow_keys(item),
            *(dossier for dossier, subject in subjects.items() if cites(item, subject)),
        ]
        for item in items
    }
