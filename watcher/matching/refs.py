"""Legal references as rules: ``{ref: "loi n° 2023-380, article 10"}``.

A reference names a text (a law, decree or ordinance by its number, or a code by
its name) and optionally one of its articles. It compiles into fixed spellings
that the one Aho-Corasick scan finds: the text's mention ("loi n° 2023-380" in
any spelling of n°, which starts on its kind word "loi") and the article
("article 10", "L. 252-1"). Only an article hit with one of the text's mentions
within the windows below is looked at, and only the words of those windows are
read to find the citations around it (loi, décret, code, CSI...): the work is
bounded per hit, never a scan of the text.

An article belongs to:
- the text cited right after it, when that citation follows within
  ``FORWARD_WINDOW`` words and is introduced by de/du ("l'article 10 de la loi
  n° 2023-380", "article L. 252-1 du CSI");
- when that citation is "la même loi", "ladite loi", "ce code", "la loi
  précitée"..., the last text of that kind named by number or name, at most
  ``BACK_WINDOW`` words before the article;
- otherwise (a bare "article 10"), the text cited last before it, when that text
  is named and at most ``BACK_WINDOW`` words before ("La loi n° 2023-380 est
  ainsi modifiée : 1° L'article 10 est..."). Any other text cited in between,
  even unnamed ("Arrête :", "la présente loi"), takes the article instead.

Laws are not matched by their date alone ("la loi du 19 mai 2023"): several texts
bear the same date, and a wrong law would alert.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from watcher.errors import RuleError
from watcher.matching.normalize import fold

FORWARD_WINDOW = 6
BACK_WINDOW = 50
# Words are rarely longer than this: a window of N words is looked for within
# N * _CHARS_PER_WORD characters, which keeps every look bounded.
_CHARS_PER_WORD = 30

_LAW_KINDS = ("loi", "decret", "ordonnance")
# Kind words that start a citation of a text; "arrete" also catches the verb
# "Arrête :" that opens the articles of an order, which must take bare articles.
_KIND_WORDS = (*_LAW_KINDS, "code", "arrete", "reglement", "directive", "deliberation")
# The codes texts cite by their acronym, and what the acronym stands for (folded).
CODE_ACRONYMS = {
    "code de la securite interieure": "CSI",
    "code de procedure penale": "CPP",
    "code general des collectivites territoriales": "CGCT",
    "code de l entree et du sejour des etrangers et du droit d asile": "CESEDA",
    "code des relations entre le public et l administration": "CRPA",
    "code de la sante publique": "CSP",
}
_NUMBER_WORDS = ("n", "no", "numero")
_SAME = frozenset({"meme", "ladite", "ledit", "dudit", "desdits", "cette", "ce", "audit"})
_AFTER_SAME = ("precite", "precitee", "susvise", "susvisee", "susmentionne", "susmentionnee")

_ARTICLE_ID = r"(?:[lrd] ?)?\d+(?:er)?(?: \d+)*"
_LAW_REF = re.compile(
    rf"^(?:articles? (?P<art1>{_ARTICLE_ID}) (?:de la |de l |du )?)?"
    r"(?P<kind>loi|decret|ordonnance)(?P<organic> organique)?(?: (?:n|no|numero))? "
    r"(?P<number>\d{2,4} \d{1,5})"
    r"(?: du (?:\d{1,2}|1er) [a-z]+ \d{4})?"
    rf"(?: articles? (?P<art2>{_ARTICLE_ID}))?$"
)
_CODE_REF = re.compile(
    rf"^articles? (?P<art>{_ARTICLE_ID}) (?:du |de la |de l )?(?P<code>code(?: [a-z]+)+)$"
)
_EXAMPLES = (
    '"loi n° 2023-380, article 10", "décret n° 2019-452" or '
    '"article L. 252-1 du code de la sécurité intérieure"'
)


@dataclass(frozen=True)
class Spelling:
    """One folded spelling, with the words whose case must match exactly (acronyms)."""

    folded: str
    cased_words: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class RefSpec:
    """What a reference names, as spellings the scan looks for."""

    mention: tuple[Spelling, ...]  # the text: "loi n 2023 380", "code de la securite interieure"
    article: tuple[Spelling, ...]  # the article, empty when the reference is to a whole text


def parse_ref(text: object, where: str) -> RefSpec:
    """The spellings of a reference as a maintainer writes it, or a RuleError."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError(f"{where}.ref: {text!r} must name a text, e.g. {_EXAMPLES}")
    folded = fold(text)
    if law := _LAW_REF.match(folded):
        if law["art1"] and law["art2"]:
            raise RuleError(f"{where}.ref: {text!r} names two articles; write one rule each")
        kind, number = law["kind"], law["number"]
        kinds = [f"{kind} organique"] if law["organic"] else [kind]
        mention = tuple(
            Spelling(f"{k} {n} {number}".replace("  ", " "))
            for k in kinds
            for n in ("", *_NUMBER_WORDS)
        )
        article = law["art1"] or law["art2"]
        return RefSpec(mention, _article_spellings(article) if article else ())
    if code := _CODE_REF.match(folded):
        name = code["code"]
        names = [Spelling(name)]
        if name.startswith("code de la "):  # "code de sécurité intérieure" is seen too
            names.append(Spelling("code de " + name.removeprefix("code de la ")))
        if acronym := CODE_ACRONYMS.get(name):
            names.append(Spelling(acronym.lower(), ((0, acronym),)))
        return RefSpec(tuple(names), _article_spellings(code["art"]))
    raise RuleError(f"{where}.ref: {text!r} is not a reference watcher can read; write {_EXAMPLES}")


def _article_spellings(article: str) -> tuple[Spelling, ...]:
    """ "10" -> article 10, articles 10, art 10; "l 252 1" -> l 252 1, l252 1 (L.252-1)."""
    if article[0].isalpha():
        letter, rest = article[0], article[1:].strip()
        return (Spelling(f"{letter} {rest}"), Spelling(f"{letter}{rest}"))
    numbers = [article]
    if article == "1er":
        numbers.append("premier")
    words = ("article", "articles", "art")
    return tuple(Spelling(f"{word} {n}") for n in numbers for word in words)


_KIND_SET = frozenset(_KIND_WORDS)
_ACRONYM_SET = frozenset(acronym.lower() for acronym in CODE_ACRONYMS.values())
# What each folded kind word designates: a code's acronym designates a code.
_GROUPS = {"code": "code"} | {acronym.lower(): "code" for acronym in CODE_ACRONYMS.values()}


class Citation:
    """A kind word of the text, and what the words around it say about it."""

    # A plain class: one is built per "loi", "code"... of a text, and frozen
    # dataclasses cost several times more to build.
    __slots__ = ("attached", "group", "named", "same", "start")

    def __init__(self, start: int, group: str, named: bool, same: bool, attached: bool) -> None:
        self.start = start
        self.group = group  # loi, decret, ordonnance, code, or another kind (arrete...)
        self.named = named  # carries its number or name: "loi n° 2023-380", "code pénal"
        self.same = same  # designates an earlier text: "la même loi", "ledit code"
        self.attached = attached  # introduced by de/du: "article 10 de la loi" belongs to it


def read_citation(folded: str, start: int, end: int) -> Citation:
    """Read the few words around a kind word found at ``folded[start:end]``."""
    word = folded[start:end]
    before = folded[max(0, start - 40) : start].split()[-3:]
    after = folded[end : end + 60].split()[:4]
    group = _GROUPS.get(word, word)
    same = bool(before and before[-1] in _SAME) or bool(after and after[0] in _AFTER_SAME)
    if before and before[-1] in _SAME:
        attached = before[-1] in ("dudit", "desdits", "audit") or _introduced(before[:-1])
    else:
        attached = _introduced(before)
    if group == "code":
        named = word != "code" or bool(after and after[0] in ("de", "des", "du", "penal", "civil"))
    else:
        rest = after[1:] if after and after[0] == "organique" else after
        rest = rest[1:] if rest and rest[0] in _NUMBER_WORDS else rest
        named = len(rest) >= 2 and rest[0].isdigit() and rest[1].isdigit()
    return Citation(start, group, named, same, attached)


def _introduced(before: list[str]) -> bool:
    """Whether the words before a kind word are de / du / de la / de l'."""
    if not before:
        return False
    if before[-1] in ("du", "des", "d"):
        return True
    return before[-1] in ("la", "l", "le") and len(before) >= 2 and before[-2] == "de"


def citation_owning(
    folded: str, cased: str, start: int, end: int, words_between: Callable[[int, int, int], bool]
) -> int | None:
    """Where the citation of the text that the article at ``folded[start:end]`` belongs to starts.

    Reads the citations at most ``FORWARD_WINDOW`` words after the article and,
    when the one after does not settle it, ``BACK_WINDOW`` words before it (see
    the module's docstring for the rules).
    """
    after = _citations_after(folded, cased, end)
    if after is not None and after.attached and words_between(end, after.start, FORWARD_WINDOW):
        if not after.same:
            return after.start
        before = _citations_before(folded, cased, start)
        named = [c for c in before if c.group == after.group and c.named and not c.same]
        target = named[-1] if named else None
    else:
        # A bare article: the text cited last, which only our numbered mention can be.
        before = _citations_before(folded, cased, start)
        target = before[-1] if before else None
    if target is not None and words_between(target.start, start, BACK_WINDOW):
        return target.start
    return None


def _is_kind(word: str, cased: str, start: int) -> bool:
    return word in _KIND_SET or (
        word in _ACRONYM_SET and cased[start : start + len(word)] == word.upper()
    )


def _citations_after(folded: str, cased: str, end: int) -> Citation | None:
    """The first citation among the ``FORWARD_WINDOW`` words after offset ``end``."""
    offset = end + 1  # folded[end] is the space after the article
    high = offset + (FORWARD_WINDOW + 1) * _CHARS_PER_WORD
    words = folded[offset:high].split(" ")
    if high < len(folded):
        words.pop()  # the slice may end inside a word
    for word in words[: FORWARD_WINDOW + 1]:
        if _is_kind(word, cased, offset):
            return read_citation(folded, offset, offset + len(word))
        offset += len(word) + 1
    return None


def _citations_before(folded: str, cased: str, start: int) -> list[Citation]:
    """The citations among the ``BACK_WINDOW`` words before offset ``start``, in text order."""
    low = max(0, start - 1 - (BACK_WINDOW + 1) * _CHARS_PER_WORD)
    words = folded[low : start - 1].split(" ")
    if low > 0:
        words = words[1:]  # the slice may start inside a word
    found = []
    offset = start - 1  # folded[start - 1] is the space before the article
    for word in reversed(words[-BACK_WINDOW - 1 :]):
        offset -= len(word)
        if _is_kind(word, cased, offset):
            found.append(read_citation(folded, offset, offset + len(word)))
        offset -= 1
    found.reverse()
    return found


def within_words(folded: str) -> Callable[[int, int, int], bool]:
    """``words_between`` for a folded text, looking at a bounded slice only."""

    def words_between(start: int, end: int, limit: int) -> bool:
        if not 0 <= end - start <= (limit + 1) * _CHARS_PER_WORD:
            return False
        return folded.count(" ", start, end) <= limit + 1

    return words_between
