"""Per-chat filters of /reglages: by kind of text and by family of source. Pure.

A text's kind is read from ``Item.kind`` (or the start of its title when the
source gives none): "Projet de loi", "Décret n° …", "Délibération"… folded into
a few families a subscriber recognises. A source's family comes from its
address and name, then its kind (``SourceKind.family``). An empty choice lets
everything through; a text of an unknown kind passes only a chat that filters
no kind. Steps of a followed dossier are not filtered: the chat asked for them.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from watcher.decide import ItemChange
from watcher.items import Item
from watcher.matching.normalize import fold
from watcher.sources.base import SourceConfig
from watcher.sources.catalog import KINDS

# (id, label, folded beginnings of Item.kind or of the title)
TEXT_KINDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("loi", "Loi", ("projet de loi", "proposition de loi", "loi", "texte adopte", "ordonnance")),
    ("decret", "Décret", ("decret",)),
    ("arrete", "Arrêté", ("arrete",)),
    ("deliberation", "Délibération", ("deliberation", "avis et deliberation")),
    ("rapport", "Rapport", ("rapport", "avis")),
    ("question", "Question", ("question",)),
    ("amendement", "Amendement", ("amendement",)),
)
SOURCE_FAMILIES: tuple[tuple[str, str], ...] = (
    ("parlement", "Parlement"),
    ("jo", "Journal officiel"),
    ("cnil", "CNIL"),
    ("collectivites", "Collectivités"),
    ("prefectures", "Préfectures"),
)
KIND_LABELS = {k: label for k, label, _ in TEXT_KINDS}
FAMILY_LABELS = dict(SOURCE_FAMILIES)


@dataclass(frozen=True)
class ChatFilter:
    """What one chat keeps; empty sets keep everything."""

    kinds: frozenset[str] = frozenset()
    families: frozenset[str] = frozenset()

    def keeps(self, kind: str, family: str) -> bool:
        return (not self.kinds or kind in self.kinds) and (
            not self.families or family in self.families
        )


def text_kind(item: Item) -> str:
    """The family of a text's kind ('' when unknown)."""
    for text in (item.kind, item.title):
        folded = fold(text or "")
        for kind, _, starts in TEXT_KINDS:
            if folded.startswith(starts):
                return kind
    return ""


def source_family(source: SourceConfig | None) -> str:
    """Parlement, Journal officiel, CNIL, collectivités or préfectures ('' otherwise).

    A name or an address that says CNIL or préfecture decides (the CNIL's own
    feed, its deliberations read from the DILA's archives, a prefecture's page);
    else the source's kind (``SourceKind.family``); else a territory makes it a
    collectivity's.
    """
    if source is None:
        return ""
    where = fold(f"{source.id} {source.name} {source.url}")
    if "cnil" in where:
        return "cnil"
    if "prefecture" in where or ("recueil" in where and "actes" in where):
        return "prefectures"
    kind = KINDS.get(source.kind)
    if kind is not None and kind.family:
        return kind.family
    return "collectivites" if source.territory else ""


def apply_filters(
    changes: Sequence[ItemChange],
    source: SourceConfig | None,
    filters: Mapping[str, ChatFilter],
) -> list[ItemChange]:
    """The changes with the alerts each chat's filters leave out removed."""
    if not filters:
        return list(changes)
    family = source_family(source)
    kept = []
    for change in changes:
        if change.alerts and change.reason != "follow-up":
            kind = text_kind(change.item)
            alerts = tuple(
                a for a in change.alerts if filters.get(a.destination, _ALL).keeps(kind, family)
            )
            if alerts != change.alerts:
                change = replace(change, alerts=alerts)
        kept.append(change)
    return kept


def describe(chosen: Collection[str], labels: Mapping[str, str], every: str) -> str:
    return ", ".join(labels[c] for c in labels if c in chosen) or every


_ALL = ChatFilter()
