"""A dossier's steps: what a step is called, when a dossier ends. Pure.

Once an item of a dossier is alerted, watcher follows it: each new step is
alerted to the chats that had the first alert, labelled with ``stage_label``,
until the law is published and its decrees had time to follow
(``settings.follow_after_law``), or a maintainer stops it.
"""

import re
from datetime import datetime, timedelta

from watcher.items import Item
from watcher.matching.normalize import fold
from watcher.sources.frenchdates import find_dates

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
_NUMBER = re.compile(r"\bn[°o]\s*(\d+(?:-\d+)*)", re.IGNORECASE)


def stage_label(item: Item) -> str:
    """What happened at a step, as its follow-up says it: "Adopté par le Sénat (n° 128)".

    Read from the step's words, whichever source told it (a textes feed, a dossier
    feed, an Akoma Ntoso file, the JO): the same step gets the same name whatever
    source is read first. A step none of the rules names keeps its own words.
    """
    # The step an Akoma Ntoso file is at ("de la commission") leads: it says what happened.
    text = fold(f"{item.event} | {item.title} {item.summary} {item.kind}")
    url = (item.url or "").lower()
    if "presse" in url or "communique" in url:
        return "Communiqué de presse"
    for pattern, name in _HAPPENED:
        if re.search(pattern, text):
            return _named(name, item, text, url)
    signet = item.dossier.partition(":")[2]
    if signet and re.search(rf"/leg/{re.escape(signet)}\.html", url):
        return _named("Déposé", item, text, url)  # the bill's own first text
    return _own_words(item)


def step_key(item: Item) -> str:
    """What makes two texts one step of a dossier: what happened and, when that names
    no text by number ("Compte rendu de la séance"), the day it happened."""
    label = stage_label(item)
    if "n°" in label:
        return label
    when = step_date(item)
    return f"{label} {when.date().isoformat()}" if when else label


def step_date(item: Item) -> datetime | None:
    """When a step happened: the latest past date its words give ("Texte adopté n° 128 …
    le 12 juin 2023", published the next morning), else when it was published."""
    said = [event.at for event in find_dates(item.summary)]
    said += [item.event_at] if item.event_at is not None else []
    past = [moment for moment in said if item.published is None or moment <= item.published]
    return max(past) if past else item.published


# What happened, on the folded words of a step, most specific first.
_HAPPENED = (
    (r"\bdecret\b", "Décret d'application"),
    (r"\bconseil constitutionnel\b.*\bdecision\b|\bdecision n \d{4} \d+ dc\b", "CC"),
    (r"\bpromulg|\bloi n \d{4} \d+ du\b", "Promulguée"),
    (r"\bcommission mixte paritaire\b", "Commission mixte paritaire"),
    (
        r"\btexte de la commission\b|\btravaux de la commission\b|^de la commission\b",
        "Texte de la commission",
    ),
    (r"\bcomptes? rendus? des reunions\b", "Travaux de la commission"),
    (r"\bcompte rendu integral\b", "Compte rendu de la séance"),
    # A council's deliberation, published once voted (it names the report it adopts).
    (r"\bdeliberation\b", "Délibération adoptée"),
    (r"\bamendements?\b", "Amendements"),
    (r"\brapport\b", "Rapport"),
    (r"\btransmise? (?:a|au)\b", "Transmis"),
    (r"\bscrutin\b", "Scrutin"),
    (r"\b(?:texte )?(?:adopte|modifie)e?\b", "Adopté"),
    (r"\bdeposee?\b", "Déposé"),
)
# A Sénat text's or report's signet holds its number: /leg/tas22-128.html, /rap/l22-663/.
_SIGNET = re.compile(r"/(?:leg|rap)/[a-z]{1,5}\d{2}-(\d+)")
_DECREE = re.compile(r"\bdecret n (\d{4}) (\d+)\b")
_DECISION = re.compile(r"\bdecision n (\d{4}) (\d+) dc\b")
_LAW_NUMBER = re.compile(r"\bloi (?:n|no|numero) ?(\d{4})[ -]?(\d{1,4})\b")


def _house(text: str, url: str) -> str:
    if re.search(r"\b(?:par|a) l assemblee nationale\b", text) or "assemblee-nationale" in url:
        return "l'Assemblée nationale"
    if re.search(r"\b(?:par le|au) senat\b", text) or "senat.fr" in url:
        return "le Sénat"
    return ""


def _named(name: str, item: Item, text: str, url: str) -> str:
    number = _NUMBER.search(item.title) or _NUMBER.search(item.summary) or _SIGNET.search(url)
    suffix = f" (n° {number.group(1)})" if number else ""
    house = _house(text, url)
    if name == "Décret d'application":
        decree = _DECREE.search(text)
        return f"{name} n° {decree.group(1)}-{decree.group(2)}" if decree else name
    if name == "CC":
        decision = _DECISION.search(text)
        number_dc = f" n° {decision.group(1)}-{decision.group(2)} DC" if decision else ""
        return f"Décision du Conseil constitutionnel{number_dc}"
    if name == "Promulguée":
        law = _LAW_NUMBER.search(text)
        return f"Promulguée : loi n° {law.group(1)}-{law.group(2)}" if law else name
    if name == "Amendements":
        return f"Amendements (texte n° {number.group(1)})" if number else name
    if name == "Transmis":
        to_senate = re.search(r"\btransmise? au senat\b", text)
        return "Transmis au Sénat" if to_senate else "Transmis à l'Assemblée nationale"
    if name in ("Adopté", "Déposé"):
        where = {"le Sénat": " par le Sénat", "l'Assemblée nationale": " par l'Assemblée nationale"}
        if name == "Déposé":
            where = {"le Sénat": " au Sénat", "l'Assemblée nationale": " à l'Assemblée nationale"}
        return f"{name}{where.get(house, '')}{suffix}"
    if name in ("Compte rendu de la séance", "Travaux de la commission"):
        return name
    return f"{name}{suffix}"


def _own_words(item: Item) -> str:
    """A step no rule names: its own words ("Première lecture - Sénat : X, de …" -> X)."""
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
    return base[:1].upper() + base[1:]


def ends_at(
    published: datetime | None, now: datetime, after: timedelta = FOLLOW_AFTER_LAW
) -> datetime:
    """Until when a dossier whose law was published then stays followed (for its decrees,
    ``settings.follow_after_law``): then it is retired."""
    return (published or now) + after


def is_followed(status: str, end: datetime | None, now: datetime) -> bool:
    return status == "followed" and (end is None or now < end)
