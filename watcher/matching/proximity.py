"""Proximity: which hits of two lists stand within a window of words of each other.

Both answers take hits sorted once and walked once, so a text with thousands of
hits that never pair up costs as little as one with a few: no hit is compared
with every hit of the other side.
"""

from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import Protocol, TypeVar


class Span(Protocol):
    """A hit of the scan: character offsets in the folded text."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


H = TypeVar("H", bound=Span)
WordAt = Callable[[int], int]  # the word number at a hit's start or end offset


def near_pair(
    left: Sequence[H], right: Sequence[H], window: int, word_at: WordAt
) -> tuple[H, H] | None:
    """A pair of hits, one from each side, at most ``window`` words apart, in text order.

    One sweep over the hits in order of start: each hit is compared with the
    hit of the other side that ends last before it starts (the closest one that
    does not overlap it), kept up to date from the hits in order of end. The
    pair returned is the one whose second hit comes first in the text.
    """
    sides = [(hit, 0) for hit in left] + [(hit, 1) for hit in right]
    by_start = sorted(sides, key=lambda pair: pair[0].start)
    by_end = sorted(sides, key=lambda pair: pair[0].end)
    closest: list[H | None] = [None, None]  # per side, the hit ending last so far
    ended = 0
    for hit, side in by_start:
        while ended < len(by_end) and by_end[ended][0].end <= hit.start:
            closest[by_end[ended][1]] = by_end[ended][0]
            ended += 1
        other = closest[1 - side]
        if other is not None and word_at(hit.start) - word_at(other.end) <= window:
            return (other, hit)
    return None


def near_left_hits(left: Sequence[H], right: Sequence[H], window: int, word_at: WordAt) -> list[H]:
    """Every hit of ``left`` that has a hit of ``right`` within the window (touching counts).

    The right hits in order of start, with the running maximum of their end: a
    binary search per left hit finds whether one reaches it.
    """
    if not right:
        return []
    right = sorted(right, key=lambda hit: hit.start)
    starts = [word_at(hit.start) for hit in right]
    reach = list(accumulate((word_at(hit.end) for hit in right), max))
    close = []
    for hit in left:
        # Right hits starting at most `window` words after this one ends...
        last = bisect_right(starts, word_at(hit.end) + window) - 1
        # ...of which one ends at most `window` words before it starts.
        if last >= 0 and reach[last] >= word_at(hit.start) - window:
            close.append(hit)
    return close
