"""Negation and exclusion context: which hits a cue such as "aucun" or "ne … pas" governs.

A cue governs a hit when it ends at most ``within`` words before the hit and no
end of clause (``. ; ? !``, or another field) stands between them: "aucune
information relative aux données biométriques", "à l'exclusion des données
biométriques", "n'utilise pas de reconnaissance faciale". Clause ends are read
in the original text, whose words are the folded text's words one for one.

Everything is computed only for texts where a cue and a keyword were both found,
in one pass over the text (word numbers, clause ends) and a binary search per hit.
"""

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Protocol, TypeVar

from watcher.matching.normalize import word_spans
from watcher.matching.rules import CLAUSE_BREAKS

HEAD_REACH = 3  # words between the two parts of "ne … pas" at most
_BREAK = re.compile(f"[{re.escape(CLAUSE_BREAKS)}]")


class Span(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


H = TypeVar("H", bound=Span)


def word_numbers(folded: str, offsets: Iterable[int]) -> dict[int, int]:
    """The number of spaces before each offset: a word's number at its start or end."""
    ends = sorted(set(offsets))
    spaces = map(folded.count, [" "] * len(ends), [0, *ends], ends)
    return dict(zip(ends, accumulate(spaces), strict=True))


def clause_ends(display: Sequence[str]) -> list[int]:
    """The numbers of the words after which a clause ends, in the folded numbering.

    The folded text is " " + fields joined by " | " + " ": the first word of
    field f is numbered ``base_f``, and a field's end is a clause end too.
    """
    ends: list[int] = []
    base = 1
    for text in display:
        spans = word_spans(text)
        starts = [start for start, _ in spans]
        for found in _BREAK.finditer(text):
            before = bisect_right(starts, found.start()) - 1  # the word the mark follows
            if before >= 0:
                ends.append(base + before)
        ends.append(base + len(spans) - 1)  # the field's last word
        ends.append(base + len(spans))  # the "|" between fields
        base += len(spans) + 1
    ends.sort()
    return ends


def governed(
    targets: Sequence[H],
    cues: Sequence[H],
    heads: Mapping[int, Sequence[H]],
    *,
    within: int,
    folded: str,
    display: Sequence[str],
) -> dict[H, H]:
    """The targets a cue governs, each with the nearest such cue before it.

    ``heads`` maps the index of a two-part cue (in ``cues``) to the hits of its
    first part ("ne"/"n'"), one of which must stand a few words before it.
    """
    if not targets or not cues:
        return {}
    offsets = [h.start for h in targets] + [c.end for c in cues] + [c.start for c in cues]
    offsets += [h.end for found in heads.values() for h in found]
    numbers = word_numbers(folded, offsets)
    breaks: list[int] | None = None
    by_end = sorted(cues, key=lambda cue: cue.end)
    cue_ends = [cue.end for cue in by_end]
    head_ends = {
        id(cue): sorted(numbers[h.end] for h in heads.get(index, ()))
        for index, cue in enumerate(cues)
        if index in heads
    }
    result: dict[H, H] = {}
    for target in targets:
        # The nearest cue before the target: the others are farther, behind more ends.
        before = bisect_right(cue_ends, target.start) - 1
        while before >= 0:
            cue = by_end[before]
            last, first = numbers[cue.end], numbers[target.start]
            if first - last - 1 > within:
                break
            ends_of_heads = head_ends.get(id(cue))
            if ends_of_heads is not None and not _head_before(ends_of_heads, numbers[cue.start]):
                before -= 1  # a "pas" with no "ne" before it: look at the cue before
                continue
            if breaks is None:
                breaks = clause_ends(display)
            # A clause end after a word in [last, first - 1] separates them.
            if bisect_left(breaks, last) == bisect_left(breaks, first):
                result[target] = cue
            break
    return result


def _head_before(head_ends: list[int], cue_start: int) -> bool:
    """Whether a head ("ne") ends at most HEAD_REACH words before the cue ("pas") starts."""
    at = bisect_right(head_ends, cue_start) - 1
    return at >= 0 and cue_start - head_ends[at] <= HEAD_REACH + 1
