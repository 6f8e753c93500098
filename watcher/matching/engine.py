"""Deciding which topics a text concerns, and why.

All the spellings of all the terms of all the topics go into one Aho-Corasick
automaton: a text is folded once and scanned once, in time linear in its length
whatever the number of keywords. The rest (case checks for acronyms, exclusions,
proximity, weak terms) only looks at the few hits.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, repeat
from typing import NamedTuple

import ahocorasick

from watcher.matching.excerpt import Excerpt, cut_excerpt
from watcher.matching.normalize import display_text, fold_prepared, prepare, word_spans
from watcher.matching.proximity import near_left_hits, near_pair
from watcher.matching.refs import BACK_WINDOW, FORWARD_WINDOW, citation_owning, within_words
from watcher.matching.rules import Near, Ref, Term, TopicRules

FIELD_SEPARATOR = " | "


class Hit(NamedTuple):
    """A term found in the folded text, as character offsets of the folded text."""

    term: Term
    start: int
    end: int


_new_hit = tuple.__new__


@dataclass(frozen=True)
class TopicMatch:
    """A topic that fired on a text: which keywords, and where the first one stands."""

    topic: str
    label: str
    keywords: tuple[str, ...]  # the rules that fired, as the maintainer wrote them
    excerpt: Excerpt | None = None
    words: tuple[str, ...] = ()  # the text's own spelling of them, for subscribers


class _Scan:
    """A text scanned once, and what its rules computed of it on demand."""

    # A plain class with slots: one is built per matched text, and a frozen
    # dataclass costs several times more to build.
    __slots__ = (
        "cased",
        "display",
        "folded",
        "hits",
        "prepared",
        "spaced",
        "spans",
        "title_end",
        "words",
    )

    def __init__(
        self,
        folded: str,
        cased: str,
        display: tuple[str, ...],
        prepared: tuple[str, ...],
        hits: Mapping[int, list[Hit]],
        spaced: frozenset[int],
    ) -> None:
        self.folded = folded
        self.cased = cased  # the folded text with its capitals, same offsets
        self.display = display  # what excerpts are cut from
        self.prepared = prepared  # what was folded
        self.hits = hits  # term number -> hits in text order
        self.spaced = spaced  # the terms whose hits proximity rules measure in words
        self.words: dict[int, int] | None = None  # offset -> word number, on demand
        self.spans: dict[int, list[tuple[int, int]]] = {}  # field -> its word spans, on demand
        self.title_end: int | None = None  # where the first field ends, on demand

    def word_numbers(self) -> Mapping[int, int]:
        """The number of the word at each start and end offset of a measured hit.

        Counted for all of them in one pass over the text, the first time a
        proximity rule asks; the rules then compare hits in constant time each.
        """
        if self.words is None:
            measured = [found for n, found in self.hits.items() if n in self.spaced]
            ends = sorted(set(chain.from_iterable((h.start, h.end) for f in measured for h in f)))
            spaces = map(self.folded.count, repeat(" "), [0, *ends], ends)
            self.words = dict(zip(ends, accumulate(spaces), strict=True))
        return self.words

    def excerpt_order(self, hit: Hit) -> tuple[bool, int]:
        """Hits past the title first (the alert shows the title anyway), then in order."""
        if self.title_end is None:
            self.title_end = self.folded.find(FIELD_SEPARATOR)
        return (self.title_end == -1 or hit.start < self.title_end, hit.start)


@dataclass(frozen=True)
class _NearIndex:
    rule: Near
    left: tuple[int, ...]
    right: tuple[int, ...]


@dataclass(frozen=True)
class _RefIndex:
    rule: Ref
    mention: int
    article: int | None


@dataclass(frozen=True)
class _TopicIndex:
    """A topic's rules as term numbers, so a text's hits are checked against them fast."""

    rules: TopicRules
    strong: tuple[int, ...]
    near: tuple[_NearIndex, ...]
    weak: tuple[int, ...]
    exclude: tuple[int, ...]
    exclude_near: tuple[_NearIndex, ...]
    refs: tuple[_RefIndex, ...]
    fires_on: frozenset[int]  # terms that can make the topic fire


class Matcher:
    """Matches texts against compiled topics."""

    def __init__(self, topics: Mapping[str, TopicRules]) -> None:
        self.topics = dict(topics)
        self._terms: list[Term] = []
        numbers: dict[int, int] = {}

        def number(term: Term) -> int:
            if id(term) not in numbers:
                numbers[id(term)] = len(self._terms)
                self._terms.append(term)
            return numbers[id(term)]

        def near_index(rule: Near) -> _NearIndex:
            return _NearIndex(
                rule, tuple(number(t) for t in rule.left), tuple(number(t) for t in rule.right)
            )

        def ref_index(rule: Ref) -> _RefIndex:
            return _RefIndex(
                rule, number(rule.mention), None if rule.article is None else number(rule.article)
            )

        self._index: dict[str, _TopicIndex] = {}
        for topic_id, rules in self.topics.items():
            strong = tuple(number(r) for r in rules.keywords if isinstance(r, Term))
            near = tuple(near_index(r) for r in rules.keywords if isinstance(r, Near))
            refs = tuple(ref_index(r) for r in rules.keywords if isinstance(r, Ref))
            weak = tuple(number(t) for t in rules.weak)
            self._index[topic_id] = _TopicIndex(
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
            )
        self._spaced = frozenset(
            number
            for index in self._index.values()
            for near in index.near + index.exclude_near
            for number in near.left + near.right
        )
        self._automaton = ahocorasick.Automaton()
        patterns: dict[str, list[tuple[int, Term, tuple[tuple[int, str], ...]]]]
        patterns = defaultdict(list)
        for term_number, term in enumerate(self._terms):
            for variant in term.variants:
                patterns[f" {variant.folded} "].append((term_number, term, variant.cased_words))
        for key, owners in patterns.items():
            self._automaton.add_word(key, (len(key), tuple(owners)))
        if patterns:
            self._automaton.make_automaton()
        self._empty = not patterns

    def _all_terms(self) -> Iterable[Term]:
        return iter(self._terms)

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
        results = []
        for topic_id in self.topics if topics is None else topics:
            index = self._index[topic_id]
            if index.fires_on.isdisjoint(scan.hits):
                continue
            fired = _evaluate(index, scan, self._terms)
            if not fired:
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
            results.append(TopicMatch(topic_id, index.rules.label, keywords, excerpt, words))
        return results

    def _scan(self, fields: Sequence[str | None]) -> _Scan | None:
        display = tuple(display_text(f) for f in fields if f)
        prepared = tuple(prepare(d) for d in display)
        if self._empty or not prepared:
            return None
        # Folding keeps the case once, and lowering the result (same offsets) is far
        # cheaper than folding a second time when an acronym needs its capitals checked.
        cased = " " + FIELD_SEPARATOR.join(fold_prepared(p, keep_case=True) for p in prepared) + " "
        folded = cased.lower()
        found: defaultdict[int, list[Hit]] = defaultdict(list)
        new_hit, hit_type = _new_hit, Hit  # Hit(...) costs 4x more than tuple.__new__
        for end, (length, owners) in self._automaton.iter(folded):
            start = end - length + 2  # the pattern's leading space is not part of the hit
            for term_number, term, cased_words in owners:
                if cased_words and not _case_matches(cased_words, cased, start, end):
                    continue
                found[term_number].append(new_hit(hit_type, (term, start, end)))
        if not found:
            return None
        return _Scan(folded, cased, display, prepared, dict(found), self._spaced)


def _case_matches(
    cased_words: tuple[tuple[int, str], ...], cased: str, start: int, end: int
) -> bool:
    """Whether the acronyms of a hit are written in capitals in the text."""
    words = cased[start:end].split(" ")
    return all(index < len(words) and words[index] == word for index, word in cased_words)


class Fired(NamedTuple):
    """A rule that fired: its text, the hit an excerpt is cut around, the hits it consists of."""

    text: str
    hit: Hit
    hits: tuple[Hit, ...]
    reference: bool = False  # a reference rule: its hit says less than the words of others


def _evaluate(index: _TopicIndex, scan: _Scan, terms: list[Term]) -> list[Fired]:
    """The rules that make a topic fire, with their hits, or [] when it does not."""
    hits = scan.hits
    inside_exclusion = _containment([hit for n in index.exclude for hit in hits.get(n, ())])
    excluded_hits: set[tuple[int, int]] = set()
    for near in index.exclude_near:
        close = near_left_hits(
            [hit for n in near.left for hit in hits.get(n, ())],
            [hit for n in near.right for hit in hits.get(n, ())],
            near.rule.window,
            scan.word_numbers(),
        )
        excluded_hits.update((hit.start, hit.end) for hit in close)

    def kept(number: int) -> list[Hit]:
        found = hits.get(number, [])
        if not found or not (inside_exclusion or excluded_hits):
            return found
        return [
            hit
            for hit in found
            if (hit.start, hit.end) not in excluded_hits
            and not (inside_exclusion and inside_exclusion(hit))
        ]

    fired: list[Fired] = []
    for number in index.strong:
        if number in hits and (kept_hits := kept(number)):
            hit = min(kept_hits, key=scan.excerpt_order)
            fired.append(Fired(terms[number].text, hit, (hit,)))
    for near in index.near:
        if not any(n in hits for n in near.left) or not any(n in hits for n in near.right):
            continue
        pair = near_pair(
            [hit for n in near.left for hit in kept(n)],
            [hit for n in near.right for hit in kept(n)],
            near.rule.window,
            scan.word_numbers(),
        )
        # A pair inside a phrase that already fired says nothing more.
        if pair is not None and not any(
            _overlap(f.hit, pair[0]) and _overlap(f.hit, pair[1]) for f in fired
        ):
            left, right = pair
            fired.append(
                Fired(f"{left.term.text} ~ {right.term.text}", min(pair, key=_start), pair)
            )
    for ref in index.refs:
        if ref.mention in hits and (cited := _ref_hits(ref, kept, scan)):
            fired.append(Fired(ref.rule.text, cited[0], cited, reference=True))
    weak_hits: list[Fired] = [
        Fired(terms[n].text, found[0], (found[0],)) for n in index.weak if (found := kept(n))
    ]
    if fired:
        return fired + weak_hits
    if len(weak_hits) >= index.rules.weak_min:
        return weak_hits
    return []


def _containment(spans: list[Hit]) -> Callable[[Hit], bool] | None:
    """Whether a hit lies inside one of ``spans``: a binary search, not a loop over them."""
    if not spans:
        return None
    spans.sort(key=_start)
    starts = [span.start for span in spans]
    reach = list(accumulate((span.end for span in spans), max))

    def inside(hit: Hit) -> bool:
        last = bisect_right(starts, hit.start) - 1
        return last >= 0 and reach[last] >= hit.end

    return inside


def _start(hit: Hit) -> int:
    return hit.start


def _overlap(a: Hit, b: Hit) -> bool:
    return a.start < b.end and b.start < a.end


def _ref_hits(ref: _RefIndex, kept: Callable[[int], list[Hit]], scan: _Scan) -> tuple[Hit, ...]:
    """The hits that show a text cites the reference: its mention, or its article and mention.

    Only articles with one of the text's mentions within reach are resolved,
    each by reading the few words around it.
    """
    mentions = sorted(kept(ref.mention), key=_start)
    if ref.article is None or not mentions:
        return tuple(mentions[:1])
    ours = {hit.start: hit for hit in mentions}
    starts = [hit.start for hit in mentions]
    words_between = within_words(scan.folded)
    for article in sorted(kept(ref.article), key=_start):
        # The nearest mentions before and after: the only ones the article can belong to.
        after = bisect_right(starts, article.start)
        if not (
            (after > 0 and words_between(starts[after - 1], article.start, BACK_WINDOW))
            or (after < len(starts) and words_between(article.end, starts[after], FORWARD_WINDOW))
        ):
            continue
        cited = citation_owning(scan.folded, scan.cased, article.start, article.end, words_between)
        if cited is None or cited not in ours:
            continue
        mention = ours[cited]
        if mention.start > article.start:  # "l'article 10 de la loi n° 2023-380": one span
            return (_new_hit(Hit, (article.term, article.start, mention.end)),)
        return (mention, article)
    return ()


def _locate(scan: _Scan, start: int, end: int) -> tuple[int, int, int]:
    """Field, first and last word in the original text of the folded span [start, end)."""
    field_index = scan.folded.count("|", 0, start)
    field_start = 1
    for _ in range(field_index):
        field_start = scan.folded.index(FIELD_SEPARATOR, field_start) + len(FIELD_SEPARATOR)
    first_word = scan.folded.count(" ", field_start, start)
    return field_index, first_word, first_word + scan.folded.count(" ", start, end)


def _excerpt_at(scan: _Scan, start: int, end: int) -> Excerpt:
    """The excerpt of the original text around the folded span [start, end)."""
    field_index, first_word, last_word = _locate(scan, start, end)
    return cut_excerpt(scan.display[field_index], first_word, last_word)


def _words_of(scan: _Scan, hit: Hit) -> str:
    """A hit as the original text writes it ("Caméras augmentées")."""
    field_index, first_word, last_word = _locate(scan, hit.start, hit.end)
    text = scan.display[field_index]
    spans = scan.spans.get(field_index)
    if spans is None:
        spans = scan.spans[field_index] = word_spans(text)
    if last_word >= len(spans):
        return hit.term.text
    return " ".join(text[spans[first_word][0] : spans[last_word][1]].split())
