"""Deciding whether one topic fires on one scanned text, and what to say of it.

``Scan`` is a text folded and scanned once; a ``TopicIndex`` (``index.py``) is
a topic's rules as the automaton's term numbers. ``evaluate`` applies exclusions,
negations, proximity, references and the strength of weak terms to the few hits
found, and says which signals fired, which hits were ignored, and, when the topic
did not fire, why the text came close (a near miss for the review queue).
"""

from bisect import bisect_right
from collections.abc import Callable, Mapping
from itertools import accumulate
from typing import NamedTuple

from watcher.matching.index import NearIndex, RefIndex, TopicIndex
from watcher.matching.negation import HEAD_REACH, governed
from watcher.matching.proximity import near_left_hits, near_pair
from watcher.matching.refs import BACK_WINDOW, FORWARD_WINDOW, citation_owning, within_words
from watcher.matching.rules import MAX_WINDOW, Term, TopicRules
from watcher.matching.scan import Hit, Scan, new_hit

NEGATION_REACH = 8  # the first hits of a phrase that negation cues are looked for before


class Fired(NamedTuple):
    """A rule that fired: its text, the hit an excerpt is cut around, the hits it consists of."""

    text: str
    hit: Hit
    hits: tuple[Hit, ...]
    reference: bool = False  # a reference rule: its hit says less than the words of others


class Evaluation(NamedTuple):
    """What a topic's rules made of a text.

    ``fired`` is empty when the topic does not fire; then ``held`` says why the
    text came close (a near miss), with the hit to show. Without review, a topic
    that cannot fire is answered at once: nothing fired, nothing ignored.
    """

    fired: list[Fired]
    signals: list[str]
    ignored: list[tuple[Hit, str]]  # hits that did not count, and why
    held: list[str]
    held_hit: Hit | None


def evaluate(index: TopicIndex, scan: Scan, terms: list[Term], *, review: bool) -> Evaluation:
    """The rules that make a topic fire, with their hits and signals; with ``review``,
    why a topic that did not fire came close."""
    if not review and not index.may_fire(scan.hits):
        # One side of a proximity rule alone: nothing can fire, and without review
        # nothing else is asked (the negations around it are not looked for).
        return Evaluation([], [], [], [], None)
    negated, signals = _negated(index, scan)
    kept = _keeper(index, scan, negated)
    fired = _fired(index, scan, terms, kept)
    ignored = [(hit, f"négation ({cue.term.text})") for hit, cue in negated.items()]
    weak_found = [(n, found) for n in index.weak if (found := kept(n))]
    weak_hits = [Fired(terms[n].text, found[0], (found[0],)) for n, found in weak_found]
    if fired:
        signals += ["mot-clé"] + (["mot faible en renfort"] if weak_hits else [])
        return Evaluation(fired + weak_hits, signals, ignored, [], None)
    if weak_found:
        signals += _weak_signals(index.rules, scan, terms, weak_found)
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


def _keeper(
    index: TopicIndex, scan: Scan, negated: Mapping[Hit, Hit]
) -> Callable[[int], list[Hit]]:
    """A term's hits that count: not inside an exclusion, not near one, not negated."""
    hits = scan.hits
    inside_exclusion = _containment([hit for n in index.exclude for hit in hits.get(n, ())])
    excluded_hits = _excluded_near(index, scan)

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

    return kept


def _excluded_near(index: TopicIndex, scan: Scan) -> set[tuple[int, int]]:
    """The spans of the hits that a proximity exclusion ("X ~ Y" in ``exclude``) voids."""
    hits = scan.hits
    excluded: set[tuple[int, int]] = set()
    for near in index.exclude_near:
        if not near.present(hits):
            continue
        close = near_left_hits(
            [hit for n in near.left for hit in hits.get(n, ())],
            [hit for n in near.right for hit in hits.get(n, ())],
            near.rule.window,
            scan.word_numbers(),
        )
        excluded.update((hit.start, hit.end) for hit in close)
    return excluded


def _fired(
    index: TopicIndex, scan: Scan, terms: list[Term], kept: Callable[[int], list[Hit]]
) -> list[Fired]:
    """The keywords, proximity rules and references that fired, in that order."""
    hits = scan.hits
    fired: list[Fired] = []
    for number in index.strong_in(hits):
        if kept_hits := kept(number):
            hit = min(kept_hits, key=scan.excerpt_order)
            fired.append(Fired(terms[number].text, hit, (hit,)))
    for near in index.near:
        if near.present(hits) and (pair := _near_fired(near, scan, kept, fired)) is not None:
            fired.append(pair)
    for ref in index.refs:
        if ref.mention in hits and (cited := _ref_hits(ref, kept, scan)):
            fired.append(Fired(ref.rule.text, cited[0], cited, reference=True))
    return fired


def _near_fired(
    near: NearIndex, scan: Scan, kept: Callable[[int], list[Hit]], fired: list[Fired]
) -> Fired | None:
    """A proximity rule's closest pair, unless it lies inside a phrase that already fired."""
    pair = near_pair(
        [hit for n in near.left for hit in kept(n)],
        [hit for n in near.right for hit in kept(n)],
        near.rule.window,
        scan.word_numbers(),
    )
    # A pair inside a phrase that already fired says nothing more.
    if pair is None or any(_overlap(f.hit, pair[0]) and _overlap(f.hit, pair[1]) for f in fired):
        return None
    left, right = pair
    return Fired(f"{left.term.text} ~ {right.term.text}", min(pair, key=_start), pair)


def _weak_signals(
    rules: TopicRules, scan: Scan, terms: list[Term], weak_found: list[tuple[int, list[Hit]]]
) -> list[str]:
    """What makes weak terms alone enough: several, one in the title, one repeated."""
    signals: list[str] = []
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
    return signals


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
    reach = NEGATION_REACH
    targets = [hit for n, found in hits.items() if n in negatable for hit in found[:reach]]
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
        prepared=scan.prepared,
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
        # "Just outside": half the window more (5 words at least), not anywhere in a long text.
        wider = min(near.rule.window + max(5, near.rule.window // 2), MAX_WINDOW)
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
            return (new_hit(Hit, (article.term, article.start, mention.end)),)
        return (mention, article)
    return ()
