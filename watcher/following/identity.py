"""What names a dossier: the keys its texts carry, the law it became, a name a user types. Pure.

A dossier is the key its items carry (``Item.dossier``): ``senat:pjl22-220``,
``an:DLR5L16N…``, ``jorf:JORFTEXT…``. A text may also name the dossier it is a
step of in other words: the law it is (``loi:2023-380``), the laws it applies
(a decree citing "loi n° 2023-380"), the Sénat dossier a law's preparatory works
name (``sources/prepwork.py``).
"""

import re
from urllib.parse import urlsplit

from watcher.items import Item
from watcher.matching.normalize import fold
from watcher.sources.prepwork import DOSSIER_ALIAS

# On folded text, where "n° 2023-380" reads "n 2023 380".
_LAW = re.compile(r"\bloi (?:n|no|numero) ?(\d{4})[ -]?(\d{1,4})\b")
_SIGNET = re.compile(r"^[a-z]{1,5}\d{2}-\d+$")
_AN_UID = re.compile(r"^DLR\d+L\d+N\d+$", re.IGNORECASE)
_NOR = re.compile(r"^[A-Z]{4}\d{7}[A-Z]$")
_JORFTEXT = re.compile(r"JORFTEXT\d{12}")


def law_of(item: Item) -> str:
    """The law number a step says was promulgated or published ("2023-380"), if any."""
    for alias in item.aliases:
        if alias.startswith("loi:") and item.kind.lower().startswith("loi"):
            return alias[4:]
    text = fold(f"{item.title} {item.summary}")
    if not re.search(r"promulg|journal officiel|\bjo\b|publiee?", text) and not text.startswith(
        "loi "
    ):
        return ""
    law = _LAW.search(text)
    return f"{law.group(1)}-{law.group(2)}" if law else ""


def cited_laws(item: Item) -> set[str]:
    """Laws a text names by number ("loi n° 2023-380 du 19 mai 2023"), as ``loi:`` keys."""
    text = fold(" ".join(item.fields))
    return {f"loi:{year}-{number}" for year, number in _LAW.findall(text)}


# What precedes a bill's subject in its title: "Projet de loi relatif aux", "Proposition de
# loi organique visant à"... (folded).
_TITLE_HEAD = re.compile(
    r"^(?:(?:projet|proposition) de loi(?: organique| constitutionnelle)?|loi n \d{4} \d+"
    r"(?: du \d{1,2} \w+ \d{4})?)\s+(?:(?:relati(?:f|ve)|visant|portant|tendant|pour|sur)\s+)?"
    r"(?:(?:a la|a l|aux|au|a|de la|de l|des|du|de|la|le|les|l)\s+)?"
)
# A subject shorter than this would be cited by texts of other dossiers too.
SUBJECT_WORDS = 4
SUBJECT_CHARS = 25


def subject_of(title: str) -> str:
    """A dossier's subject, folded, as other texts cite it ("reconnaissance biometrique dans
    l espace public"); '' when too short to name one dossier only."""
    subject = _TITLE_HEAD.sub("", fold(title), count=1).strip()
    enough = len(subject.split()) >= SUBJECT_WORDS and len(subject) >= SUBJECT_CHARS
    return subject if enough else ""


# Where a text names what it is about: its title, summary and first lines (a Conseil
# constitutionnel decision names the law it judges there, before any law number exists).
CITING_CHARS = 1000


def cites(item: Item, subject: str) -> bool:
    """Whether an item's title, summary or first lines name a dossier by its subject."""
    if not subject:
        return False
    text = fold(f"{item.title} {item.summary} {item.body[:CITING_CHARS]}")
    return f" {subject} " in f" {text} "


def follow_keys(item: Item) -> list[str]:
    """The keys under which an item may belong to a followed dossier: its dossier,
    the law it is, the laws it cites (a decree applying a followed law)."""
    keys = [item.dossier] if item.dossier else []
    # A law's preparatory works name the Sénat dossier it ends (sources/prepwork.py).
    keys += [a.removeprefix(DOSSIER_ALIAS) for a in item.aliases if a.startswith(DOSSIER_ALIAS)]
    keys += sorted({a for a in item.aliases if a.startswith("loi:")} | cited_laws(item))
    return keys


def parse_dossier(text: str) -> str | None:
    """The dossier a subscriber names: a Sénat signet or link, an AN UID or link, a NOR,
    a JORFTEXT or Légifrance link; None when it names none."""
    value = text.strip().strip("<>")
    if not value:
        return None
    lowered = value.lower()
    house, _, key = value.partition(":")
    if house.lower() in ("senat", "an", "jorf", "nor", "eli") and key and " " not in key:
        return parse_dossier(key) if house.lower() in ("senat", "an", "jorf") else value
    if _SIGNET.match(lowered):
        return f"senat:{lowered}"
    if _AN_UID.match(value):
        return f"an:{value.upper()}"
    if _NOR.match(value.upper()) and value.isalnum():
        return f"nor:{value.upper()}"
    if _JORFTEXT.fullmatch(value.upper()):
        return f"jorf:{value.upper()}"
    if not lowered.startswith(("http://", "https://")):
        return None
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    path = parts.path
    if host.endswith("senat.fr"):
        signet = re.search(r"([a-z]{1,5}\d{2}-\d+)", path.lower())
        return f"senat:{signet.group(1)}" if signet else None
    if host.endswith("assemblee-nationale.fr"):
        uid = re.search(r"(DLR\d+L\d+N\d+)", path, re.IGNORECASE)
        return f"an:{uid.group(1).upper()}" if uid else None
    if host.endswith("legifrance.gouv.fr"):
        jorf = _JORFTEXT.search(path.upper())
        if jorf:
            return f"jorf:{jorf.group(0)}"
        eli = re.search(r"/eli/.+", path)
        return f"eli:{eli.group(0).rstrip('/')}" if eli else None
    return None
