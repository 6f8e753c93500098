"""The spellings one written word of a keyword stands for.

Its plural or singular, its optional endings (``intelligent(e)``, ``(e|es)``),
joined, hyphenated or spaced after a known prefix (vidéo, bio, télé…), an
acronym kept in capitals, an article standing for its group (de/des/du/d').
``rules.compile_term`` combines the words' spellings into a term's variants.
"""

import itertools
import re

from watcher.errors import RuleError
from watcher.matching.inflection import plurals, singulars
from watcher.matching.normalize import fold

# Joined compounds that texts also write hyphenated or spaced.
_SPLIT_PREFIXES = ("video", "bio", "tele", "photo", "cyber")
_ACRONYM = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-Z0-9À-ÖØ-Þ]+$")
_GROUP = re.compile(r"\(([^()]*)\)")
# Contracted and inflected articles a keyword's article stands for: texts write
# "détection d'émotions" as well as "détection des émotions".
_ARTICLES = (("de", "des", "du", "d"), ("le", "la", "les", "l"), ("ne", "n"))
_ARTICLE_FORMS = {form: group for group in _ARTICLES for form in group}


def join_prefixes(words: list[str]) -> list[str]:
    """ "vidéo protection" is written "vidéoprotection", which also matches it spaced.

    An elided article is a word of its own: "d'images" is "d'" and "images".
    """
    joined: list[str] = []
    for written in words:
        head, apostrophe, word = written.replace("’", "'").partition("'")
        if apostrophe and word and fold(head) in _ARTICLE_FORMS:
            joined.append(head + "'")
        else:
            word = written
        if (
            joined
            and fold(joined[-1]) in _SPLIT_PREFIXES
            and word.isalpha()
            and len(word) >= 4
            and not _ACRONYM.match(word)
        ):
            joined[-1] += word
        else:
            joined.append(word)
    return joined


def word_spellings(
    word: str, where: str, phrase: str
) -> list[tuple[str, tuple[tuple[int, str], ...]]]:
    """Every folded spelling of one written word, each with its case-sensitive parts."""
    if _ACRONYM.match(word):
        # An acronym keeps its capitals: found folded, then compared as written.
        return [(fold(word), ((0, fold(word, keep_case=True)),))]
    folded_word = fold(word)
    if "(" not in word and all(fold(p) in _ARTICLE_FORMS for p in folded_word.split(" ")):
        # "de", "des", "d'", "l'": each article stands for its group ("d'images").
        groups = [_ARTICLE_FORMS[p] for p in folded_word.split(" ")]
        return [(" ".join(c), ()) for c in itertools.product(*groups)]
    spellings: list[tuple[str, tuple[tuple[int, str], ...]]] = []
    for written in _expand_groups(word):
        parts = [p for p in written.split("-") if p]
        if not parts or not fold(written):
            raise RuleError(f"{where}: {phrase!r} has a word with no letters or digits")
        forms = [_part_forms(p, is_last=i == len(parts) - 1) for i, p in enumerate(parts)]
        for chosen in itertools.product(*forms):
            joiners = (" ", "") if len(parts) > 1 else (" ",)
            spellings.extend((fold(joiner.join(chosen)), ()) for joiner in joiners)
    return list(dict.fromkeys(spellings))


def _expand_groups(word: str) -> list[str]:
    """``intelligent(e)`` -> intelligent, intelligente; ``(e|es)`` lists alternatives."""
    pieces = _GROUP.split(word)
    options: list[list[str]] = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            options.append([piece])
        else:
            options.append(["", *piece.split("|")])
    return ["".join(choice) for choice in itertools.product(*options)]


def _part_forms(part: str, *, is_last: bool) -> list[str]:
    """A word part and, for the last part of a word, its regular plural."""
    forms = [part]
    folded = fold(part)
    if folded in _SPLIT_PREFIXES or not is_last:
        return forms
    for prefix in _SPLIT_PREFIXES:
        if folded.startswith(prefix) and len(folded) - len(prefix) >= 4 and " " not in folded:
            cut = _prefix_length(part, prefix)
            forms.append(part[:cut] + " " + part[cut:])
    inflected = []
    for form in forms:
        inflected.extend(plurals(form))
        inflected.extend(singulars(form))
    return forms + inflected


def _prefix_length(part: str, prefix: str) -> int:
    """Length in ``part`` (accented) of a prefix given folded."""
    for end in range(1, len(part) + 1):
        if fold(part[:end]) == prefix:
            return end
    return len(prefix)
