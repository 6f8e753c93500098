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
  only with a second signal: ``weak_min`` (default 2) different ones together,
  another rule of the topic firing, and when the topic says so, one of them in
  the title (``weak_title: true``) or repeated ``weak_repeat`` times.
- Per topic, ``negation`` cues ("aucun", "à l'exclusion de", "ne … pas") void
  the hits they govern: a cue at most ``within`` words before a hit, in the same
  clause. A text about the ban itself still counts (see ``Negation``).

Every word also matches its singular or plural, and the articles and
prepositions de/des/du/d' and le/la/les/l' stand for one another, so
"détection des émotions" matches "détection d'émotions".
"""

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import cast

from watcher.errors import RuleError
from watcher.matching.refs import Spelling, parse_ref
from watcher.matching.spellings import join_prefixes, word_spellings

MAX_VARIANTS = 512
MAX_WINDOW = 200
# Where a negation cue may not reach across: the end of a sentence or clause.
CLAUSE_BREAKS = ".;?!"


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
    weak_repeat: int = 0  # 0: repetition is no second signal
    weak_title: bool = False  # a weak term in the title is a second signal
    negation: "Negation | None" = None


@dataclass(frozen=True)
class Cue:
    """A negation cue; ``ne … pas`` is a ``head`` that must stand a few words before ``term``."""

    term: Term
    head: Term | None = None


@dataclass(frozen=True)
class Negation:
    """The cues that void the hits they govern, and when a text is about the ban itself.

    A hit with a cue at most ``within`` words before it, in the same clause, does
    not count. Unless the text is about the prohibition: the title holds a hit
    governed by a ``ban`` cue ("Proposition de loi visant à interdire la
    reconnaissance faciale"), or ``subject_min`` hits of the topic are governed
    by ban cues; then negated hits count like any other.
    """

    cues: tuple[Cue, ...]
    bans: tuple[Cue, ...]
    within: int = 6
    subject_min: int = 3


def compile_topic(
    topic_id: str,
    *,
    label: str,
    keywords: Sequence[object],
    exclude: Sequence[object] = (),
    weak: Sequence[str] = (),
    weak_min: int = 2,
    weak_repeat: int = 0,
    weak_title: bool = False,
    negation: Mapping[str, object] | None = None,
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
        weak_repeat=weak_repeat,
        weak_title=weak_title,
        negation=None if negation is None else compile_negation(negation, "negation"),
    )


def compile_negation(spec: Mapping[str, object], where: str) -> Negation:
    """``{words: [...], bans: [...], within: 6, subject_min: 3}``."""
    unknown = set(spec) - {"words", "bans", "within", "subject_min"}
    if unknown:
        raise RuleError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
            "use words, bans, within, subject_min"
        )
    numbers = []
    for key, default, high in (("within", 6, 30), ("subject_min", 3, 100)):
        value = spec.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise RuleError(f"{where}.{key}: {value!r} must be a whole number from 1 to {high}")
        numbers.append(value)
    lists = []
    for key in ("words", "bans"):
        words = spec.get(key, [])
        if isinstance(words, str) or not isinstance(words, list):
            raise RuleError(f"{where}.{key}: must be a list of phrases")
        lists.append(tuple(_compile_cue(w, f"{where}.{key}[{i}]") for i, w in enumerate(words)))
    if not lists[0] and not lists[1]:
        raise RuleError(f"{where}.words: list at least one cue (aucun, ne … pas, hors…)")
    return Negation(lists[0], lists[1], numbers[0], numbers[1])


def _compile_cue(text: object, where: str) -> Cue:
    """A cue phrase; ``ne … pas`` (or ``ne ... pas``) is two parts a few words apart."""
    if isinstance(text, str) and ("…" in text or "..." in text):
        head, _, tail = text.replace("...", "…").partition("…")
        # The tail is what is found; it is shown as the whole cue ("ne … pas").
        shown = " … ".join(part.strip() for part in (head, tail))
        return Cue(replace(compile_term(tail, where), text=shown), compile_term(head, where))
    return Cue(compile_term(text, where))


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
    for word in join_prefixes(text.split(" ")):
        per_word.append(word_spellings(word, where, text))
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
