"""Deciding which topics a text concerns, and why.

All the spellings of all the terms of all the topics go into one Aho-Corasick
automaton: a text is folded once and scanned once, in time linear in its length
whatever the number of keywords. The rest (case checks for acronyms, exclusions,
proximity, weak terms) only looks at the few hits.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import ahocorasick

from watcher.matching.excerpt import Excerpt, cut_excerpt
from watcher.matching.normalize import display_text, fold_prepared, prepare
from watcher.matching.rules import Near, Rule, Term, TopicRules

FIELD_SEPARATOR = " | "


@dataclass(frozen=True)
class Hit:
    """A term found in the folded text, as character offsets of the folded text."""

    term: Term
    start: int
    end: int


@dataclass(frozen=True)
class TopicMatch:
    """A topic that fired on a text: which keywords, and where the first one stands."""

    topic: str
    label: str
    keywords: tuple[str, ...]
    excerpt: Excerpt | None = None


@dataclass(frozen=True)
class _Scan:
    folded: str
    display: tuple[str, ...]  # what excerpts are cut from
    prepared: tuple[str, ...]  # what was folded
    hits: Mapping[int, list[Hit]]  # id(term) -> hits in text order
    cased: list[str]  # the case-kept folded text, computed only when an acronym needs it


class Matcher:
    """Matches texts against compiled topics."""

    def __init__(self, topics: Mapping[str, TopicRules]) -> None:
        self.topics = dict(topics)
        self._automaton = ahocorasick.Automaton()
        patterns: dict[str, list[tuple[Term, int]]] = defaultdict(list)
        for term in self._all_terms():
            for index, variant in enumerate(term.variants):
                patterns[f" {variant.folded} "].append((term, index))
        for key, owners in patterns.items():
            self._automaton.add_word(key, (len(key), tuple(owners)))
        if patterns:
            self._automaton.make_automaton()
        self._empty = not patterns

    def _all_terms(self) -> Iterable[Term]:
        for rules in self.topics.values():
            yield from _terms_of(rules.keywords)
            yield from _terms_of(rules.exclude)
            yield from rules.weak

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
        scan = self._scan(fields)
        if scan is None:
            return []
        wanted = self.topics if topics is None else {t: self.topics[t] for t in topics}
        results = []
        for topic_id, rules in wanted.items():
            fired = _evaluate(rules, scan)
            if not fired:
                continue
            keywords = tuple(dict.fromkeys(text for text, _ in fired))
            excerpt = None
            if explain:
                first = min(hit.start for _, hit in fired)
                last = next(hit.end for _, hit in fired if hit.start == first)
                excerpt = _excerpt_at(scan, first, last)
            results.append(TopicMatch(topic_id, rules.label, keywords, excerpt))
        return results

    def _scan(self, fields: Sequence[str | None]) -> _Scan | None:
        display = tuple(display_text(f) for f in fields if f)
        prepared = tuple(prepare(d) for d in display)
        if self._empty or not prepared:
            return None
        folded = " " + FIELD_SEPARATOR.join(fold_prepared(p) for p in prepared) + " "
        hits: dict[int, list[Hit]] = defaultdict(list)
        cased: list[str] = []
        for end, (length, owners) in self._automaton.iter(folded):
            start = end - length + 2  # the pattern's leading space is not part of the hit
            for term, variant_index in owners:
                variant = term.variants[variant_index]
                if variant.cased_words and not _case_matches(
                    variant.cased_words, prepared, folded, cased, start, end
                ):
                    continue
                hits[id(term)].append(Hit(term, start, end))
        if not hits:
            return None
        return _Scan(folded, display, prepared, hits, cased)


def _terms_of(rules: Iterable[Rule]) -> Iterator[Term]:
    for rule in rules:
        if isinstance(rule, Near):
            yield from rule.left
            yield from rule.right
        else:
            yield rule


def _case_matches(
    cased_words: tuple[tuple[int, str], ...],
    prepared: tuple[str, ...],
    folded: str,
    cased: list[str],
    start: int,
    end: int,
) -> bool:
    """Whether the acronyms of a hit are written in capitals in the text."""
    if not cased:
        cased.append(
            " " + FIELD_SEPARATOR.join(fold_prepared(p, keep_case=True) for p in prepared) + " "
        )
    words = cased[0][start:end].split(" ")
    return all(index < len(words) and words[index] == word for index, word in cased_words)


def _evaluate(rules: TopicRules, scan: _Scan) -> list[tuple[str, Hit]]:
    """The (keyword text, hit) pairs that make a topic fire, or [] when it does not."""
    excluded_spans: list[Hit] = []
    excluded_hits: set[Hit] = set()
    for rule in rules.exclude:
        if isinstance(rule, Term):
            excluded_spans.extend(scan.hits.get(id(rule), ()))
        else:
            excluded_hits.update(_near_left_hits(rule, _all_hits(scan), scan.folded))

    def kept(term: Term) -> list[Hit]:
        return [
            hit
            for hit in scan.hits.get(id(term), ())
            if hit not in excluded_hits
            and not any(ex.start <= hit.start and hit.end <= ex.end for ex in excluded_spans)
        ]

    fired: list[tuple[str, Hit]] = []
    for rule in rules.keywords:
        if isinstance(rule, Term):
            fired.extend((rule.text, hit) for hit in kept(rule)[:1])
    for rule in rules.keywords:
        if isinstance(rule, Near):
            pair = _near_pair(rule, kept, scan.folded)
            # A pair inside a phrase that already fired says nothing more.
            if pair is not None and not any(
                _overlap(hit, pair[0]) and _overlap(hit, pair[1]) for _, hit in fired
            ):
                left, right = pair
                fired.append((f"{left.term.text} ~ {right.term.text}", min(pair, key=_start)))
    weak_hits = [(term.text, hits[0]) for term in rules.weak if (hits := kept(term))]
    if fired:
        return fired + weak_hits
    if len(weak_hits) >= rules.weak_min:
        return weak_hits
    return []


def _all_hits(scan: _Scan) -> Callable[[Term], list[Hit]]:
    def hits(term: Term) -> list[Hit]:
        return scan.hits.get(id(term), [])

    return hits


def _start(hit: Hit) -> int:
    return hit.start


class _WordPositions:
    """Word index of a character offset in the folded text, computed on demand."""

    def __init__(self, folded: str) -> None:
        self.folded = folded
        self.cache: dict[int, int] = {}

    def __call__(self, offset: int) -> int:
        if offset not in self.cache:
            self.cache[offset] = self.folded.count(" ", 0, offset)
        return self.cache[offset]


def _overlap(a: Hit, b: Hit) -> bool:
    return a.start < b.end and b.start < a.end


def _gap(a: Hit, b: Hit, word_at: _WordPositions) -> int:
    """Words between two hits (0 when they touch or overlap)."""
    return max(word_at(b.start) - word_at(a.end), word_at(a.start) - word_at(b.end), 0)


def _near_pair(
    rule: Near, kept: Callable[[Term], list[Hit]], folded: str
) -> tuple[Hit, Hit] | None:
    """The earliest pair of hits, one from each side, at most ``window`` words apart."""
    left = sorted((hit for term in rule.left for hit in kept(term)), key=_start)
    right = [hit for term in rule.right for hit in kept(term)]
    if not left or not right:
        return None
    word_at = _WordPositions(folded)
    for a in left:
        close = [b for b in right if not _overlap(a, b) and _gap(a, b, word_at) <= rule.window]
        if close:
            b = min(close, key=_start)
            return (a, b) if a.start <= b.start else (b, a)
    return None


def _near_left_hits(rule: Near, hits: Callable[[Term], list[Hit]], folded: str) -> list[Hit]:
    """Every hit of the rule's left side that has a right-side hit within the window."""
    right = [hit for term in rule.right for hit in hits(term)]
    word_at = _WordPositions(folded)
    return [
        a
        for term in rule.left
        for a in hits(term)
        if any(_gap(a, b, word_at) <= rule.window for b in right)
    ]


def _excerpt_at(scan: _Scan, start: int, end: int) -> Excerpt:
    """The excerpt of the original text around the folded span [start, end)."""
    field_index = scan.folded.count("|", 0, start)
    field_start = 1
    for _ in range(field_index):
        field_start = scan.folded.index(FIELD_SEPARATOR, field_start) + len(FIELD_SEPARATOR)
    first_word = scan.folded.count(" ", field_start, start)
    last_word = first_word + scan.folded.count(" ", start, end)
    return cut_excerpt(scan.display[field_index], first_word, last_word)
