"""Deciding whether one topic fires on one scanned text, and what to say of it.

``Scan`` is a text folded and scanned once; a ``TopicIndex`` is a topic's rules
as the automaton's term numbers. ``evaluate`` applies exclusions, negations,
proximity, references and the strength of weak terms to the few hits found,
and says which signals fired, which hits were ignored, and, when the topic did
not fire, why the text came close (a near miss for the review queue).
"""

from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, chain, repeat
from typing import NamedTuple

from watcher.matching.negation import HEAD_REACH, governed
from watcher.matching.proximity import near_left_hits, near_pair
from watcher.matching.refs import BACK_WINDOW, FORWARD_WINDOW, citation_owning, within_words
from watcher.matching.rules import MAX_WINDOW, Near, Negation, Ref, Term, TopicRules

FIELD_SEPARATOR = " | "
# The longest a folded word usually is, spaces included, to bound the stretch of
# text a negation cue is looked for in (a longer word only shortens the reach).
CHARS_PER_WORD = 16
NEGATION_REACH = 8  # the first hits of a phrase that negation cues are looked for before


class Hit(NamedTuple):
    """A term found in the folded text, as character offsets of the folded text."""

    term: Term
    start: int
    end: int


_new_hit = tuple.__new__


class Scan:
    """A text scanned once, and what its rules computed of it on demand."""

    # A plain class with slots: one is built per matched text, and a frozen
    # dataclass costs several times more to build.
    __slots__ = (
        "cased",
        "cue_hits",
        "cue_scan",
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
        cue_scan: Callable[[list[tuple[int, int]]], Mapping[int, list[Hit]]] | None = None,
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
        self.cue_scan = cue_scan  # finds the negation cues in spans of the text
        self.cue_hits: dict[int, Mapping[int, list[Hit]]] = {}  # by reach, on demand

    def cues(self, targets: list[Hit], words: int) -> Mapping[int, list[Hit]]:
        """The negation cues among the ``words`` words before each target hit.

        Only those stretches are scanned (merged where they overlap), so finding
        cues costs a few words per hit, never a second pass over a long text.
        """
        if self.cue_scan is None:
            return {}
        if words not in self.cue_hits:
            reach = (words + 1) * CHARS_PER_WORD
            spans: list[tuple[int, int]] = []
            for start in sorted({hit.start for hit in targets}):
                low = max(0, start - reach)
                if spans and low <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], start)
                else:
                    spans.append((low, start))
            self.cue_hits[words] = self.cue_scan(spans)
        return self.cue_hits[words]

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

    def in_title(self, hit: Hit) -> bool:
        """Whether a hit stands in the first field (the title)."""
        if self.title_end is None:
            self.title_end = self.folded.find(FIELD_SEPARATOR)
        return self.title_end == -1 or hit.start < self.title_end

    def excerpt_order(self, hit: Hit) -> tuple[bool, int]:
        """Hits past the title first (the alert shows the title anyway), then in order."""
        if self.title_end is None:
            self.title_end = self.folded.find(FIELD_SEPARATOR)
        return (self.title_end == -1 or hit.start < self.title_end, hit.start)


@dataclass(frozen=True)
class NearIndex:
    rule: Near
    left: tuple[int, ...]
    right: tuple[int, ...]

    def present(self, hits: Mapping[int, object]) -> bool:
        """Whether both sides have a hit in the text."""
        return not self.left_set.isdisjoint(hits) and not self.right_set.isdisjoint(hits)

    @cached_property
    def left_set(self) -> frozenset[int]:
        return frozenset(self.left)

    @cached_property
    def right_set(self) -> frozenset[int]:
        return frozenset(self.right)


@dataclass(frozen=True)
class RefIndex:
    rule: Ref
    mention: int
    article: int | None


@dataclass(frozen=True)
class CueIndex:
    """A negation cue as term numbers; ``ban``: it says the text bans the technique."""

    term: int
    head: int | None
    ban: bool


@dataclass(frozen=True)
class TopicIndex:
    """A topic's rules as term numbers, so a text's hits are checked against them fast."""

    rules: TopicRules
    strong: tuple[int, ...]
    near: tuple[NearIndex, ...]
    weak: tuple[int, ...]
    exclude: tuple[int, ...]
    exclude_near: tuple[NearIndex, ...]
    refs: tuple[RefIndex, ...]
    fires_on: frozenset[int]  # terms that can make the topic fire
    cues: tuple[CueIndex, ...] = ()
    negatable: tuple[int, ...] = ()  # the terms whose hits a cue can void

    @property
    def negation(self) -> Negation | None:
        return self.rules.negation

    @cached_property
    def negatable_set(self) -> frozenset[int]:
        return frozenset(self.negatable)

    @cached_property
    def _strong_order(self) -> dict[int, int]:
        return {number: position for position, number in enumerate(self.strong)}

    def strong_in(self, hits: Mapping[int, object]) -> list[int]:
        """The topic's keywords found in the text, in the order of its rules."""
        order = self._strong_order
        return sorted((n for n in hits if n in order), key=order.__getitem__)


class Fired(NamedTuple):
    """A rule that fired: its text, the hit an excerpt is cut around, the hits it consists of."""

    text: str
    hit: Hit
    hits: tuple[Hit, ...]
    reference: bool = False  # a reference rule: its hit says less than the words of others


class Evaluation(NamedTuple):
    """What a topic's rules made of a text.

    ``fired`` is empty when the topic does not fire; then ``held`` says why the
    text came close (a near miss), with the hit to show.
    """

    fired: list[Fired]
    signals: list[str]
    ignored: list[tuple[Hit, str]]  # hits that did not count, and why
    held: list[str]
    held_hit: Hit | None


def evaluate(index: TopicIndex, scan: Scan, terms: list[Term], *, review: bool) -> Evaluation:
    """The rules that make a topic fire, with their hits and signals; with ``review``,
    why a topic that did not fire came close."""
    hits = scan.hits
    inside_exclusion = _containment([hit for n in index.exclude for hit in hits.get(n, ())])
    excluded_hits: set[tuple[int, int]] = set()
    for near in index.exclude_near:
        if not near.present(hits):
            continue
        close = near_left_hits(
            [hit for n in near.left for hit in hits.get(n, ())],
            [hit for n in near.right for hit in hits.get(n, ())],
            near.rule.window,
            scan.word_numbers(),
        )
        excluded_hits.update((hit.start, hit.end) for hit in close)
    negated, signals = _negated(index, scan)

    def kept(number: int) -> list[Hit]:
        found = hits.get(number, [])
        if not found or not (inside_exclusion or excluded_hits or negated):
            return found
        return [
            hit
            for hit in found
            if (hit.start, hit.end) not in excluded_hits
            and not (inside_exclusion and inside_exclusion(hit))
            and hit not in negated
        ]

    fired: list[Fired] = []
    for number in index.strong_in(hits):
        if kept_hits := kept(number):
            hit = min(kept_hits, key=scan.excerpt_order)
            fired.append(Fired(terms[number].text, hit, (hit,)))
    for near in index.near:
        if not near.present(hits):
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
    ignored = [(hit, f"négation ({cue.term.text})") for hit, cue in negated.items()]
    weak_found = [(n, found) for n in index.weak if (found := kept(n))]
    weak_hits = [Fired(terms[n].text, found[0], (found[0],)) for n, found in weak_found]
    if fired:
        signals += ["mot-clé"] + (["mot faible en renfort"] if weak_hits else [])
        return Evaluation(fired + weak_hits, signals, ignored, [], None)
    rules = index.rules
    if weak_found:
        if len(weak_found) >= rules.weak_min:
            signals.append(f"{len(weak_found)} mots faibles différents")
        if rules.weak_title:
            signals += [f"titre : {terms[n].text}" for n, f in weak_found if scan.in_title(f[0])]
        if rules.weak_repeat:
            signals += [
                f"répété {len(f)} fois : {terms[n].text}"
                for n, f in weak_found
                if len(f) >= rules.weak_repeat
            ]
        if signals:
            return Evaluation(weak_hits, signals, ignored, [], None)
    if not review:
        return Evaluation([], [], ignored, [], None)
    held, held_hit = _near_miss(index, scan, kept, weak_found, terms)
    if negated:
        held.append(
            "ignoré : négation (" + ", ".join(sorted({c.term.text for c in negated.values()})) + ")"
        )
        held_hit = held_hit or min(negated, key=_start)
    return Evaluation([], [], ignored, held, held_hit)


def _negated(index: TopicIndex, scan: Scan) -> tuple[dict[Hit, Hit], list[str]]:
    """The hits a negation cue governs, unless the text is about the ban itself.

    Returns them with the signals to show (the ban that made negated hits count).
    """
    negation = index.negation
    if negation is None:
        return {}, []
    hits = scan.hits
    negatable = index.negatable_set
    # A phrase found more than NEGATION_REACH times is what the text is about: its
    # later hits are not examined, so they count, and a long text costs no more.
    targets = [hit for n, found in hits.items() if n in negatable for hit in found[:NEGATION_REACH]]
    found_cues = scan.cues(targets, negation.within + HEAD_REACH + 2)
    if not targets or not any(cue.term in found_cues for cue in index.cues):
        return {}, []
    cue_hits: list[Hit] = []
    heads: dict[int, list[Hit]] = {}
    bans: set[Hit] = set()
    for cue in index.cues:
        for hit in found_cues.get(cue.term, ()):
            if cue.head is not None:
                heads[len(cue_hits)] = found_cues.get(cue.head, [])
            if cue.ban:
                bans.add(hit)
            cue_hits.append(hit)
    found = governed(
        targets,
        cue_hits,
        heads,
        within=negation.within,
        folded=scan.folded,
        display=scan.display,
    )
    banned = [hit for hit, cue in found.items() if cue in bans]
    if any(scan.in_title(hit) for hit in banned):
        return {}, ["interdiction dans le titre"]
    if len(banned) >= negation.subject_min:
        return {}, [f"interdiction, sujet du texte ({len(banned)} fois)"]
    return found, []


def _near_miss(
    index: TopicIndex,
    scan: Scan,
    kept: Callable[[int], list[Hit]],
    weak_found: list[tuple[int, list[Hit]]],
    terms: list[Term],
) -> tuple[list[str], Hit | None]:
    """Why a topic that did not fire came close: a lone weak term, a pair just too far apart."""
    held: list[str] = []
    held_hit: Hit | None = None
    if weak_found:
        number, found = weak_found[0]
        held.append(f"signal faible seul : {terms[number].text} ({len(found)} fois)")
        held_hit = found[0]
    for near in index.near:
        left = [hit for n in near.left for hit in kept(n)]
        right = [hit for n in near.right for hit in kept(n)]
        if not left or not right:
            continue
        wider = min(near.rule.window * 2, MAX_WINDOW)
        pair = near_pair(left, right, wider, scan.word_numbers())
        if pair is not None:
            words = scan.word_numbers()
            first, second = sorted(pair, key=_start)
            gap = words[second.start] - words[first.end]
            held.append(
                f"hors fenêtre : {pair[0].term.text} ~ {pair[1].term.text} "
                f"à {gap} mots (fenêtre {near.rule.window})"
            )
            held_hit = held_hit or first
            break
    return held, held_hit


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


def _ref_hits(ref: RefIndex, kept: Callable[[int], list[Hit]], scan: Scan) -> tuple[Hit, ...]:
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
