"""French regular inflection of a keyword's last word: its plural and its singular.

No stemming: only the regular endings, so "retraite" matches "retraites" but
never "retraits".
"""

import re

from watcher.matching.normalize import fold

_ACRONYM = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-Z0-9À-ÖØ-Þ]+$")
# Words ending in s that are not plurals: no singular is made of them.
_NOT_PLURALS = frozenset(
    {
        *("sans", "dans", "sous", "plus", "moins", "tres", "apres", "depuis", "vers", "pas"),
        *("fois", "temps", "corps", "pays", "processus", "acces", "avis", "cas", "gros"),
        *("repos", "bras", "mars", "os", "alias", "jadis", "virus", "bus", "campus"),
    }
)


def singulars(word: str) -> list[str]:
    """The singular of a regular plural: prédéterminés -> prédéterminé, locaux -> local."""
    head, _, last = word.rpartition(" ")
    folded = fold(last)
    if len(folded) < 4 or folded in _NOT_PLURALS or _ACRONYM.match(last) or not folded.isalpha():
        return []
    prefix = f"{head} " if head else ""
    if folded.endswith(("eaux", "eux")):
        return [prefix + last[:-1]]
    if folded.endswith("aux") and len(folded) > 4:
        return [prefix + last[:-2] + "l"]
    if folded.endswith("s") and not folded.endswith("ss"):
        return [prefix + last[:-1]]
    return []


def plurals(word: str) -> list[str]:
    """French regular plurals; a word already ending in s, x or z is its own plural."""
    last = word.rsplit(" ", 1)[-1]
    folded = fold(last)
    if not folded or folded[-1] in "sxz" or folded[-1].isdigit() or _ACRONYM.match(last):
        return []
    if folded.endswith(("eau", "au", "eu")):
        return [word + "x", word + "s"]
    if folded.endswith("al"):
        return [word + "s", word[:-1] + "ux"]
    return [word + "s"]
