"""The keyword syntax of feeds.yml, compiled into folded search terms.

A maintainer writes plain French; watcher expands it into the spellings texts use.
No regular expressions are accepted, so no rule can blow up: each rule becomes a
bounded set of fixed strings that one linear scan finds.

- ``reconnaissance faciale``: a phrase, matched on word boundaries, in any case,
  with or without accents. Each word also matches its regular plural
  (caméra/caméras, faciale/faciales, réseau/réseaux, local/locaux).
- ``intelligent(e)``: an optional ending, for the feminine (intelligent,
  intelligente, and their plurals). ``(e|es)`` lists alternatives.
- ``vidéo-surveillance``: a hyphen means "joined, hyphenated or spaced":
  vidéosurveillance, vidéo-surveillance and vidéo surveillance all match.
  Words written joined after a known prefix (vidéo, bio, télé…) are also split.
- ``VSA``: a word written in capitals (two or more) is an acronym, matched
  case-sensitively and never inside another word: "VSA" but not "vsa" or "VSAT".
- ``{near: [a, b], with: [c, d], within: 15}``: a term of the first list within
  15 words of a term of the second.
- ``{ref: "loi n° 2023-380, article 10"}``: any text citing that article of that
  text, or, without an article, any citation of the text (see ``refs``).
- Per topic, ``exclude`` terms cancel the keyword hits they contain
  ("biométrie oculaire"); an ``exclude`` proximity rule cancels the hits of its
  ``near`` terms that stand close to one of its ``with`` terms (biométrie near
  cornée, cristallin, prothèse: medical biometry). And ``weak`` terms alert
  only when ``weak_min`` (default 2) different ones occur together.
"""

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from watcher.errors import RuleError
from watcher.matching.normalize import fold
from watcher.matching.refs import Spelling, parse_ref

MAX_VARIANTS = 512
MAX_WINDOW = 200
# Joined compounds that texts also write hyphenated or spaced.
_SPLIT_PREFIXES = ("video", "bio", "tele", "photo", "cyber")
_ACRONYM = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-Z0-9À-ÖØ-Þ]+$")
_GROUP = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class Variant:
    """One folded spelling of a term, with the words whose case must match exactly."""

    folded: str
    cased_words: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Term:
    """A phrase as the maintainer wrote it, and every spelling it stands for."""

    text: str
    variants: tuple[Variant, ...]


@dataclass(frozen=True)
class Near:
    """A term of ``left`` within ``window`` words of a term of ``right``."""

    left: tuple[Term, ...]
    right: tuple[Term, ...]
    window: int
    text: str


@dataclass(frozen=True)
class Ref:
    """A legal reference: the text it names and, when it names one, its article."""

    mention: Term
    article: Term | None
    text: str


Rule = Term | Near | Ref


@dataclass(frozen=True)
class TopicRules:
    """A topic's compiled rules."""

    id: str
    label: str
    keywords: tuple[Rule, ...]
    exclude: tuple[Term | Near, ...] = ()
    weak: tuple[Term, ...] = ()
    weak_min: int = 2


def compile_topic(
    topic_id: str,
    *,
    label: str,
    keywords: Sequence[object],
    exclude: Sequence[object] = (),
    weak: Sequence[str] = (),
    weak_min: int = 2,
) -> TopicRules:
    """Compile a topic's lists; raise RuleError naming the list, the index and the rule."""
    rules = tuple(compile_rule(rule, f"keywords[{i}]") for i, rule in enumerate(keywords))
    excluded = tuple(compile_rule(t, f"exclude[{i}]") for i, t in enumerate(exclude))
    for i, rule in enumerate(excluded):
        if isinstance(rule, Ref):
            raise RuleError(f"exclude[{i}]: a ref rule alerts; put it under keywords")
    return TopicRules(
        id=topic_id,
        label=label,
        keywords=rules,
        exclude=cast(tuple[Term | Near, ...], excluded),
        weak=tuple(compile_term(t, f"weak[{i}]") for i, t in enumerate(weak)),
        weak_min=weak_min,
    )


def compile_rule(rule: object, where: str) -> Rule:
    """A string is a term; a mapping is a proximity rule or a legal reference."""
    if isinstance(rule, Mapping) and "ref" in rule:
        return _compile_ref(rule, where)
    if isinstance(rule, Mapping):
        return _compile_near(rule, where)
    return compile_term(rule, where)


def _compile_ref(rule: Mapping[object, object], where: str) -> Ref:
    if set(rule) != {"ref"}:
        raise RuleError(
            f'{where}: a reference rule is {{ref: "loi n° 2023-380, article 10"}} alone, '
            f"got keys {', '.join(map(str, rule))}"
        )
    spec = parse_ref(rule["ref"], where)
    text = f"ref: {' '.join(str(rule['ref']).split())}"

    def term(spellings: tuple[Spelling, ...]) -> Term:
        return Term(text, tuple(Variant(s.folded, s.cased_words) for s in spellings))

    return Ref(term(spec.mention), term(spec.article) if spec.article else None, text)


def _compile_near(rule: Mapping[object, object], where: str) -> Near:
    unknown = set(rule) - {"near", "with", "within"}
    if unknown or not {"near", "with"} <= set(rule):
        raise RuleError(
            f"{where}: a proximity rule is {{near: [terms], with: [terms], within: N}}, "
            f"got keys {', '.join(map(str, rule))}"
        )
    window = rule.get("within", 15)
    if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW:
        raise RuleError(f"{where}.within: {window!r} must be a number of words from 1 to 200")
    sides = []
    for key in ("near", "with"):
        terms = rule[key]
        if isinstance(terms, str):
            terms = [terms]
        if not isinstance(terms, list) or not terms:
            raise RuleError(f"{where}.{key}: must be a non-empty list of terms")
        sides.append(tuple(compile_term(t, f"{where}.{key}[{i}]") for i, t in enumerate(terms)))
    text = (
        f"{' | '.join(t.text for t in sides[0])} ~{window}~ {' | '.join(t.text for t in sides[1])}"
    )
    return Near(sides[0], sides[1], window, text)


def compile_term(text: object, where: str) -> Term:
    """Expand one phrase into its folded spellings."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError(f"{where}: {text!r} must be a non-empty phrase")
    text = " ".join(text.split())
    if text.count("(") != text.count(")") or re.search(r"\([^)]*\(", text):
        raise RuleError(f"{where}: unbalanced or nested parenthesis in {text!r}")
    if any(ch in text for ch in "*?[]\\^$+{}"):
        raise RuleError(
            f"{where}: {text!r} contains a wildcard or regex character; write the words out, "
            "with (e) or (s) for optional endings"
        )
    per_word: list[list[tuple[str, tuple[tuple[int, str], ...]]]] = []
    for word in text.split(" "):
        per_word.append(_word_spellings(word, where, text))
    variants: dict[str, Variant] = {}
    for combo in itertools.product(*per_word):
        words: list[str] = []
        cased: list[tuple[int, str]] = []
        for folded, word_cased in combo:
            offset = len(words)
            cased.extend((offset + i, w) for i, w in word_cased)
            words.extend(folded.split(" "))
        folded_phrase = " ".join(words)
        variants.setdefault(folded_phrase, Variant(folded_phrase, tuple(cased)))
        if len(variants) > MAX_VARIANTS:
            raise RuleError(f"{where}: {text!r} expands to over {MAX_VARIANTS} spellings; split it")
    return Term(text, tuple(variants.values()))


def _word_spellings(
    word: str, where: str, phrase: str
) -> list[tuple[str, tuple[tuple[int, str], ...]]]:
    """Every folded spelling of one written word, each with its case-sensitive parts."""
    if _ACRONYM.match(word):
        # An acronym keeps its capitals: found folded, then compared as written.
        return [(fold(word), ((0, fold(word, keep_case=True)),))]
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
    plurals = []
    for form in forms:
        plurals.extend(_plurals(form))
    return forms + plurals


def _prefix_length(part: str, prefix: str) -> int:
    """Length in ``part`` (accented) of a prefix given folded."""
    for end in range(1, len(part) + 1):
        if fold(part[:end]) == prefix:
            return end
    return len(prefix)


def _plurals(word: str) -> list[str]:
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
