"""The Sénat dossier a law's "travaux préparatoires" name, as a dossier key.

A law published in the Journal officiel lists its parliamentary steps, e.g.
"Sénat : Projet de loi, adopté par l'Assemblée nationale, n° 101 (2020-2021) ;
Rapport de …" (Légifrance's ``prepWork``, DILA's ``<TP>``). The first Sénat
text named opened the Sénat's dossier, and its signet names that dossier: its
kind (pjl, ppl), the session's first year and its number, ``pjl20-101``. The
Assemblée's numbers do not give its dossier UIDs, so only the Sénat's are read.
"""

import re

from watcher.matching.normalize import strip_markup

# The Sénat's part of the list: up to the next chamber or the joint committee.
_SENAT_PART = re.compile(
    r"S[ée]nat\s*:(.*?)(?=Assembl[ée]e nationale\s*:|Commission mixte paritaire|$)",
    re.IGNORECASE | re.DOTALL,
)
_FIRST_TEXT = re.compile(
    r"\b(Projet|Proposition)\s+de\s+loi\b[^;]*?\bn\s*[°o]\s*(\d+)\s*\((\d{4})\s*-\s*\d{4}\)",
    re.IGNORECASE,
)
# How a text says it belongs to another dossier too, in Item.aliases.
DOSSIER_ALIAS = "dossier:"


def senate_dossiers(prepwork: str) -> tuple[str, ...]:
    """The Sénat dossiers a list of preparatory works names, as ``dossier:senat:<signet>``."""
    text = " ".join(strip_markup(prepwork.replace("<br/>", "\n")).split())
    found = []
    for part in _SENAT_PART.finditer(text):
        first = _FIRST_TEXT.search(part.group(1))
        if first is not None:
            kind = "pjl" if first.group(1).lower() == "projet" else "ppl"
            signet = f"{kind}{first.group(3)[2:]}-{int(first.group(2))}"
            found.append(f"{DOSSIER_ALIAS}senat:{signet}")
    return tuple(dict.fromkeys(found))
