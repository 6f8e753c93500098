"""Deciding which topics a text concerns, and why.

All the spellings of all the terms of all the topics go into one Aho-Corasick
automaton: a text is folded once and scanned once, in time linear in its length
whatever the number of keywords. The rest (case checks for acronyms, exclusions,
negations, proximity, weak terms) only looks at the few hits (``evaluate``).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick

from watcher.matching.evaluate import evaluate
from watcher.matching.excerpt import Excerpt, cut_excerpt
from watcher.matching.index import CueIndex, NearIndex, RefIndex, TopicIndex
from watcher.matching.normalize import display_text, fold_prepared, prepare, word_spans
from watcher.matching.rules import Near, Ref, Term, TopicRules, Variant
from watcher.matching.scan import FIELD_SEPARATOR, Hit, Scan, new_hit

__all__ = ["FIELD_SEPARATOR", "Assessment", "Hit", "Matcher", "NearMiss", "TopicMatch"]


@dataclass(frozen=True)
class TopicMatch:
    """A topic that fired on a text: which keywords, and where the first one stands."""

    topic: str
    label: str
    keywords: tuple[str, ...]  # the rules that fired, as the maintainer wrote them
    excerpt: Excerpt | None = None
    words: tuple[str, ...] = ()  # the text's own spelling of them, for subscribers
    # Why it is enough: "mot-clé", "titre : biométrie", "répété 3 fois : biométrie"...
    signals: tuple[str, ...] = ()
    # Hits that did not count, and why: "biométriques (négation (aucun(e)))".
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class NearMiss:
    """A topic that did not fire on a text that came close: held for review, not alerted."""

    topic: str
    label: str
    reasons: tuple[str, ...]  # "signal faible seul : biométrie (1 fois)", "ignoré : négation…"
    excerpt: Excerpt | None
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assessment:
    """Everything the matcher says of a text: the topics that fire and the near misses."""

    matches: list[TopicMatch]
    held: list[NearMiss]


class Matcher:
    """Matches texts against compiled topics."""

    def __init__(self, topics: Mapping[str, TopicRules]) -> None:
        self.topics = dict(topics)
        self._terms: list[Term] = []
        numbers: dict[tuple[bool, frozenset[Variant]], int] = {}

        def number(term: Term, *, cue: bool = False) -> int:
            # A phrase written in several rules (or spelt "caméra" here, "caméras"
            # there) is one term, found once: one hit per occurrence, not three.
            key = (cue, frozenset(term.variants))
            if key not in numbers:
                numbers[key] = len(self._terms)
                self._terms.append(term)
            return numbers[key]

        def near_index(rule: Near) -> NearIndex:
            return NearIndex(
                rule, tuple(number(t) for t in rule.left), tuple(number(t) for t in rule.right)
            )

        def ref_index(rule: Ref) -> RefIndex:
            return RefIndex(
                rule, number(rule.mention), None if rule.article is None else number(rule.article)
            )

        self._index: dict[str, TopicIndex] = {}
        for topic_id, rules in self.topics.items():
            strong = tuple(number(r) for r in rules.keywords if isinstance(r, Term))
            near = tuple(near_index(r) for r in rules.keywords if isinstance(r, Near))
            refs = tuple(ref_index(r) for r in rules.keywords if isinstance(r, Ref))
            weak = tuple(number(t) for t in rules.weak)
            negation = rules.negation
            cues = (
                ()
                if negation is None
                else tuple(
                    CueIndex(
                        number(c.term, cue=True),
                        None if c.head is None else number(c.head, cue=True),
                        ban,
                    )
                    for ban, group in ((False, negation.cues), (True, negation.bans))
                    for c in group
                )
            )
            self._index[topic_id] = TopicIndex(
                rules=rules,
                strong=strong,
                near=near,
                weak=weak,
                exclude=tuple(number(r) for r in rules.exclude if isinstance(r, Term)),
                exclude_near=tuple(near_index(r) for r in rules.exclude if isinstance(r, Near)),
                refs=refs,
                fires_on=frozenset(
                    strong
                    + weak
                    + tuple(i for n in near for i in n.left)
                    + tuple(r.mention for r in refs)
                ),
                cues=cues,
                negatable=tuple(
                    dict.fromkeys(strong + weak + tuple(i for n in near for i in n.left + n.right))
                ),
            )
        self._spaced = frozenset(
            number
            for index in self._index.values()
            for near in index.near + index.exclude_near
            for number in near.left + near.right
        )
        # Negation cues ("ni", "pas", "hors"...) are common words: they are looked for
        # in a second scan, only in texts where a topic with negation cues has a hit.
        cue_numbers = {
            n
            for index in self._index.values()
            for cue in index.cues
            for n in (cue.term, cue.head)
            if n is not None
        }
        keyword_numbers = [n for n in range(len(self._terms)) if n not in cue_numbers]
        self._keyword_numbers = keyword_numbers
        self._automaton = _automaton(self._terms, keyword_numbers)
        self._cue_automaton = _automaton(self._terms, sorted(cue_numbers))
        self._empty = self._automaton is None

    def _all_terms(self) -> Iterable[Term]:
        """The terms of the first scan (negation cues are looked for later, near hits)."""
        return (self._terms[n] for n in self._keyword_numbers)

    def match(
        self,
        fields: Sequence[str | None],
        *,
        topics: Iterable[str] | None = None,
        explain: bool = True,
    ) -> list[TopicMatch]:
        """The topics whose rules fire on these fields (title, summary, body...).

        With ``explain`` each match carries an excerpt of the original text around
        its first hit; the backtest turns it off for speed.
        """
        return self._assess(fields, topics, explain=explain, review=False).matches

    def assess(
        self, fields: Sequence[str | None], *, topics: Iterable[str] | None = None
    ) -> Assessment:
        """``match``, explained, and the near misses: topics that came close without firing."""
        return self._assess(fields, topics, explain=True, review=True)

    def _assess(
        self,
        fields: Sequence[str | None],
        topics: Iterable[str] | None,
        *,
        explain: bool,
        review: bool,
    ) -> Assessment:
        scan = self._scan(fields)
        if scan is None:
            return Assessment([], [])
        results = []
        held = []
        for topic_id in self.topics if topics is None else topics:
            index = self._index[topic_id]
            if index.fires_on.isdisjoint(scan.hits):
                continue
            outcome = evaluate(index, scan, self._terms, review=review)
            ignored = (
                tuple(f"{_words_of(scan, hit)} ({why})" for hit, why in outcome.ignored)
                if explain
                else ()
            )
            fired = outcome.fired
            if not fired:
                if outcome.held:
                    hit = outcome.held_hit
                    excerpt = None if hit is None else _excerpt_at(scan, hit.start, hit.end)
                    label = index.rules.label
                    held.append(NearMiss(topic_id, label, tuple(outcome.held), excerpt, ignored))
                continue
            keywords = tuple(dict.fromkeys(f.text for f in fired))
            excerpt = None
            words: tuple[str, ...] = ()
            if explain:
                # The words of a keyword explain more than a reference's number.
                shown_first = [f for f in fired if not f.reference] or fired
                first = min((f.hit for f in shown_first), key=scan.excerpt_order)
                excerpt = _excerpt_at(scan, first.start, first.end)
                words = tuple(
                    dict.fromkeys(" … ".join(_words_of(scan, hit) for hit in f.hits) for f in fired)
                )
            signals = tuple(dict.fromkeys(outcome.signals))
            results.append(
                TopicMatch(topic_id, index.rules.label, keywords, excerpt, words, signals, ignored)
            )
        return Assessment(results, held)

    def _scan(self, fields: Sequence[str | None]) -> Scan | None:
        display = tuple(display_text(f) for f in fields if f)
        prepared = tuple(prepare(d) for d in display)
        if self._empty or not prepared:
            return None
        # Folding keeps the case once, and lowering the result (same offsets) is far
        # cheaper than folding a second time when an acronym needs its capitals checked.
        cased = " " + FIELD_SEPARATOR.join(fold_prepared(p, keep_case=True) for p in prepared) + " "
        folded = cased.lower()
        assert self._automaton is not None
        found = _find(self._automaton, folded, cased)
        if not found:
            return None
        cues = self._cue_automaton
        return Scan(
            folded,
            cased,
            display,
            prepared,
            found,
            self._spaced,
            cue_scan=None if cues is None else lambda spans: _find(cues, folded, cased, spans),
        )


def _automaton(terms: list[Term], numbers: Iterable[int]) -> Any:
    """One Aho-Corasick automaton of every spelling of these terms, or None for none."""
    patterns: dict[str, list[tuple[int, Term, tuple[tuple[int, str], ...]]]]
    patterns = defaultdict(list)
    for term_number in numbers:
        term = terms[term_number]
        for variant in term.variants:
            patterns[f" {variant.folded} "].append((term_number, term, variant.cased_words))
    if not patterns:
        return None
    automaton = ahocorasick.Automaton()
    for key, owners in patterns.items():
        automaton.add_word(key, (len(key), tuple(owners)))
    automaton.make_automaton()
    return automaton


def _find(
    automaton: Any, folded: str, cased: str, spans: Iterable[tuple[int, int]] | None = None
) -> dict[int, list[Hit]]:
    """The hits of an automaton's terms in a folded text (or in the disjoint ``spans``
    of it, in order), by term number, in text order."""
    found: defaultdict[int, list[Hit]] = defaultdict(list)
    make, hit_type = new_hit, Hit
    # A slice, not iter(text, start, end): pyahocorasick converts the whole string
    # at each call, which would make many short spans of a long text quadratic.
    for low, text in ((0, folded),) if spans is None else ((a, folded[a:b]) for a, b in spans):
        for end, (length, owners) in automaton.iter(text):
            end += low
            start = end - length + 2  # the pattern's leading space is not part of the hit
            for term_number, term, cased_words in owners:
                if cased_words and not _case_matches(cased_words, cased, start, end):
                    continue
                found[term_number].append(make(hit_type, (term, start, end)))
    return dict(found)


def _case_matches(
    cased_words: tuple[tuple[int, str], ...], cased: str, start: int, end: int
) -> bool:
    """Whether the acronyms of a hit are written in capitals in the text."""
    words = cased[start:end].split(" ")
    return all(index < len(words) and words[index] == word for index, word in cased_words)


def _locate(scan: Scan, start: int, end: int) -> tuple[int, int, int]:
    """Field, first and last word in the original text of the folded span [start, end)."""
    field_index = scan.folded.count("|", 0, start)
    field_start = 1
    for _ in range(field_index):
        field_start = scan.folded.index(FIELD_SEPARATOR, field_start) + len(FIELD_SEPARATOR)
    first_word = scan.folded.count(" ", field_start, start)
    return field_index, first_word, first_word + scan.folded.count(" ", start, end)


def _excerpt_at(scan: Scan, start: int, end: int) -> Excerpt:
    """The excerpt of the original text around the folded span [start, end)."""
    field_index, first_word, last_word = _locate(scan, start, end)
    return cut_excerpt(scan.display[field_index], first_word, last_word)


def _words_of(scan: Scan, hit: Hit) -> str:
    """A hit as the original text writes it ("Caméras augmentées")."""
    field_index, first_word, last_word = _locate(scan, hit.start, hit.end)
    text = scan.display[field_index]
    spans = scan.spans.get(field_index)
    if spans is None:
        spans = scan.spans[field_index] = word_spans(text)
    if last_word >= len(spans):
        return hit.term.text
    return " ".join(text[spans[first_word][0] : spans[last_word][1]].split())
