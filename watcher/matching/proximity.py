"""Proximity: which hits of two lists stand within a window of words of each other.

Both answers take hits sorted once and walked once, so a text with thousands of
hits that never pair up costs as little as one with a few: no hit is compared
with every hit of the other side.
"""

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import Protocol, TypeVar


class Span(Protocol):
    """A hit of the scan: character offsets in the folded text."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


H = TypeVar("H", bound=Span)
Words = Mapping[int, int]  # offset of a hit's start or end -> number of its word


def near_pair(
    left: Sequence[H], right: Sequence[H], window: int, words: Words
) -> tuple[H, H] | None:
    """The first left hit with a right hit at most ``window`` words away, in text order.

    Its partner is the earliest such right hit that does not overlap it. Left
    hits are walked in text order while two pointers delimit the right hits
    that end before the left hit and within the window; a deque keeps the
    earliest-starting one of them. Right hits after it are found by a binary
    search, the first one being the only candidate.
    """
    by_end = sorted(right, key=lambda hit: hit.end)
    end_words = [words[hit.end] for hit in by_end]
    by_start = sorted(right, key=lambda hit: hit.start)
    starts = [hit.start for hit in by_start]
    earliest: deque[int] = deque()  # indexes in by_end, earliest start first
    ended = first = 0  # by_end[first:ended]: the right hits ending before, within the window
    count = len(by_end)
    for hit in sorted(left, key=lambda hit: hit.start):
        while ended < count and by_end[ended].end <= hit.start:
            while earliest and by_end[earliest[-1]].start >= by_end[ended].start:
                earliest.pop()
            earliest.append(ended)
            ended += 1
        reach = words[hit.start] - window
        while first < ended and end_words[first] < reach:
            first += 1
        while earliest and earliest[0] < first:
            earliest.popleft()
        if earliest:
            return (by_end[earliest[0]], hit)
        after = bisect_left(starts, hit.end)
        if after < count and words[by_start[after].start] - words[hit.end] <= window:
            return (hit, by_start[after])
    return None


def near_left_hits(left: Sequence[H], right: Sequence[H], window: int, words: Words) -> list[H]:
    """Every hit of ``left`` that has a hit of ``right`` within the window (touching counts).

    The right hits in order of start, with the running maximum of their end: a
    binary search per left hit finds whether one reaches it.
    """
    if not right:
        return []
    right = sorted(right, key=lambda hit: hit.start)
    starts = [words[hit.start] for hit in right]
    reach = list(accumulate((words[hit.end] for hit in right), max))
    close = []
    for hit in left:
        # Right hits starting at most `window` words after this one ends...
        last = bisect_right(starts, words[hit.end] + window) - 1
        # ...of which one ends at most `window` words before it starts.
        if last >= 0 and reach[last] >= words[hit.start] - window:
            close.append(hit)
    return close
