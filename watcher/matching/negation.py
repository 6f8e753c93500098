"""Negation and exclusion context: which hits a cue such as "aucun" or "ne … pas" governs.

A cue governs a hit when it ends at most ``within`` words before the hit and no
end of clause (``. ; ? !``, or another field) stands between them: "aucune
information relative aux données biométriques", "à l'exclusion des données
biométriques", "n'utilise pas de reconnaissance faciale". Clause ends are read
in the original text, whose words are the folded text's words one for one.

Everything is computed only for texts where a cue and a keyword were both found,
in one pass over the text (word numbers, clause ends) and a binary search per hit.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate
from typing import Protocol, TypeVar

from watcher.matching.normalize import marked_words
from watcher.matching.rules import CLAUSE_BREAKS
from watcher.matching.scan import CHARS_PER_WORD

HEAD_REACH = 3  # words between the two parts of "ne … pas" at most


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


def clause_ends(prepared: Sequence[str]) -> list[int]:
    """The numbers of the words after which a clause ends, in the folded numbering.

    The folded text is " " + fields joined by " | " + " ": the first word of
    field f is numbered ``base_f``, and a field's end is a clause end too. The
    marks are found at C speed (``marked_words``), then visited one by one.
    """
    ends: list[int] = []
    base = 1
    for text in prepared:
        marked = marked_words(text, CLAUSE_BREAKS)
        words = marks = 0
        position = marked.find(b"\x01")
        previous = 0
        while position != -1:
            words += marked.count(b" ", previous, position)  # tokens before, marks included
            previous = position
            # The word the mark follows: tokens before it, minus the marks among them, minus one.
            if words - marks > 0:
                ends.append(base + words - marks - 1)
            marks += 1
            position = marked.find(b"\x01", position + 1)
        count = (marked.count(b" ") + 1 if marked else 0) - marks
        ends.append(base + count - 1)  # the field's last word
        ends.append(base + count)  # the "|" between fields
        base += count + 1
    ends.sort()
    return ends


def governed(
    targets: Sequence[H],
    cues: Sequence[H],
    heads: Mapping[int, Sequence[H]],
    *,
    within: int,
    folded: str,
    prepared: Sequence[str],
) -> dict[H, H]:
    """The targets a cue governs, each with the nearest such cue before it.

    ``heads`` maps the index of a two-part cue (in ``cues``) to the hits of its
    first part ("ne"/"n'"), one of which must stand a few words before it.
    Words are counted in the short stretch between a cue and a hit; clause ends
    are read (one pass over the text) only when some cue is close enough.
    """
    if not targets or not cues:
        return {}
    reach = (within + 1) * CHARS_PER_WORD
    by_end = sorted(range(len(cues)), key=lambda index: cues[index].end)
    cue_ends = [cues[index].end for index in by_end]
    head_ends = {index: sorted(h.end for h in found) for index, found in heads.items()}
    close: list[tuple[H, H]] = []
    for target in targets:
        # The nearest cue before the target: the others are farther, behind more ends.
        before = bisect_right(cue_ends, target.start) - 1
        while before >= 0:
            index = by_end[before]
            cue = cues[index]
            if target.start - cue.end > reach or _words(folded, cue.end, target.start) > within:
                break
            ends = head_ends.get(index)
            if ends is not None and not _head_before(folded, ends, cue.start):
                before -= 1  # a "pas" with no "ne" before it: look at the cue before
                continue
            close.append((target, cue))
            break
    if not close:
        return {}
    numbers = word_numbers(folded, [o for t, c in close for o in (t.start, c.end)])
    breaks = clause_ends(prepared)
    # A clause end after a word from the cue's last to the one before the target separates them.
    return {
        target: cue
        for target, cue in close
        if bisect_left(breaks, numbers[cue.end]) == bisect_left(breaks, numbers[target.start])
    }


def _words(folded: str, end: int, start: int) -> int:
    """How many words stand between a hit ending at ``end`` and one starting at ``start``."""
    return folded.count(" ", end, start) - 1


def _head_before(folded: str, head_ends: list[int], cue_start: int) -> bool:
    """Whether a head ("ne") ends at most HEAD_REACH words before the cue ("pas") starts."""
    at = bisect_right(head_ends, cue_start) - 1
    if at < 0 or cue_start - head_ends[at] > (HEAD_REACH + 1) * CHARS_PER_WORD:
        return False
    return _words(folded, head_ends[at], cue_start) <= HEAD_REACH
