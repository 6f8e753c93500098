"""A dossier's steps: what a step is called, when a dossier ends. Pure.

Once an item of a dossier is alerted, watcher follows it: each new step is
alerted to the chats that had the first alert, labelled with ``stage_label``,
until the law is published and its decrees had time to follow
(``settings.follow_after_law``), or a maintainer stops it.
"""

import re
from datetime import datetime, timedelta

from watcher.items import Item

# A law's application decrees mostly come within months of its publication; the
# 2024 Olympics law's VSA decree came 3 months after it. Six months, then it ends.
FOLLOW_AFTER_LAW = timedelta(days=183)
STAGE_CHARS = 80

# "Première lecture - Sénat : Texte de la commission déposé le 22 mai 2019" (per-dossier feeds).
_READING = re.compile(r"^[^:]{0,80}(?:Sénat|Assemblée nationale|CMP|mixte paritaire)\s*:\s*", re.I)
# Where the name of a step ends and its details (who, when) begin.
_DETAILS = re.compile(
    r"\s+(?:déposée?\b|le \d|du \d|de (?:M\.|Mme|MM\.)|fait au nom)|,|\s\(|\s-\s", re.IGNORECASE
)
_NUMBER = re.compile(r"\bn[°o]\s*(\d+(?:-\d+)?)", re.IGNORECASE)


def stage_label(item: Item) -> str:
    """The step an item is, as a follow-up names it: "texte de la commission (n° 249)"."""
    summary = " ".join(item.summary.split())
    reading = _READING.match(summary)
    base = ""
    if reading:
        rest = summary[reading.end() :]
        base = _DETAILS.split(rest, maxsplit=1)[0].strip()
        if len(base) > STAGE_CHARS - 15:
            base = ""
    if not base:
        base = item.event or item.kind or " ".join(item.title.split())
    number = _NUMBER.search(item.title)
    if number and number.group(0) not in base and not _NUMBER.search(base):
        base = f"{base} (n° {number.group(1)})"
    if len(base) > STAGE_CHARS:
        base = base[: STAGE_CHARS - 1].rstrip() + "…"
    return base[:1].lower() + base[1:] if base[1:2].islower() else base


def ends_at(published: datetime | None, now: datetime) -> datetime:
    """Until when a dossier whose law was published then stays followed."""
    return (published or now) + FOLLOW_AFTER_LAW


def is_followed(status: str, end: datetime | None, now: datetime) -> bool:
    return status == "followed" and (end is None or now < end)
