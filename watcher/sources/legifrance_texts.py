"""A JO text as the Légifrance API gives it (``consult/jorf``), made an item.

Its nature names its kind (``DECRET``: décret); its NOR, ELI and the number its
title gives it (``LOI n° 2023-380``) are its aliases, the names other texts cite
it by; its preparatory works name the Sénat dossier it ends. ``dila`` reads the
same texts from the archives and names them the same way.
"""

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from watcher.items import Item
from watcher.matching.normalize import strip_markup
from watcher.sources.prepwork import senate_dossiers

PUBLIC_LINK = "https://www.legifrance.gouv.fr/jorf/id/{}"

NATURES = {
    "LOI": "loi",
    "LOI_ORGANIQUE": "loi organique",
    "ORDONNANCE": "ordonnance",
    "DECRET": "décret",
    "ARRETE": "arrêté",
    "DECISION": "décision",
    "DELIBERATION": "délibération",
    "AVIS": "avis",
    "CIRCULAIRE": "circulaire",
    "RAPPORT": "rapport",
}


def text_item(
    source_id: str,
    link: Mapping[str, str],
    text: Mapping[str, Any] | None,
    published: datetime | None,
    issue_title: str,
) -> Item:
    nature = str((text or {}).get("nature") or link.get("nature") or "")
    body = ""
    if text:
        parts = [str(text.get(key) or "") for key in ("notice", "visa")]
        parts.extend(_articles(text))
        body = " ".join(" ".join(strip_markup(p).split()) for p in parts if p)
    title = str((text or {}).get("title") or link["titre"])
    return Item(
        source_id=source_id,
        key=link["id"],
        title=title,
        url=PUBLIC_LINK.format(link["id"]),
        published=published,
        summary=" · ".join(p for p in (link.get("ministere", ""), issue_title) if p),
        body=body,
        kind=NATURES.get(nature.upper(), nature.lower()),
        dossier=f"jorf:{link['id']}",
        aliases=jo_aliases(
            title, str((text or {}).get("nor") or ""), str((text or {}).get("eli") or "")
        )
        + senate_dossiers(str((text or {}).get("prepWork") or "")),
    )


_NUMBERED = re.compile(
    r"^\s*(loi organique|loi|ordonnance|décret|decret)\s+n[°o]\s*(\d{2,4}-\d+)", re.IGNORECASE
)


def jo_aliases(title: str, nor: str, eli: str) -> tuple[str, ...]:
    """Other names of a JO text: its NOR, its ELI and the number its title gives it.

    ``LOI n° 2023-380 du 19 mai 2023…`` is ``loi:2023-380``, the form a reference
    to it takes in other texts; an ELI is kept from ``/eli/`` on, whatever the host.
    """
    aliases = []
    if nor.strip():
        aliases.append(f"nor:{nor.strip().upper()}")
    if "/eli/" in eli:
        aliases.append("eli:/eli/" + eli.split("/eli/", 1)[1].rstrip("/"))
    numbered = _NUMBERED.match(title)
    if numbered:
        nature = numbered.group(1).lower().replace("é", "e").replace(" ", "-")
        aliases.append(f"{nature}:{numbered.group(2)}")
    return tuple(aliases)


def _articles(node: Mapping[str, Any]) -> Iterator[str]:
    """Article contents in reading order, through nested sections."""
    for article in node.get("articles") or []:
        yield str(article.get("content") or "")
    for section in node.get("sections") or []:
        yield from _articles(section)
