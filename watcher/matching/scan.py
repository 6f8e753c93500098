"""A text folded and scanned once, and what its rules compute of it on demand.

``Hit`` is a term found at character offsets of the folded text; ``Scan`` holds
the hits of the first scan, and counts words, finds the title's end and looks
for negation cues only when a rule asks.
"""

from collections.abc import Callable, Mapping
from itertools import accumulate, chain, repeat
from typing import NamedTuple

from watcher.matching.rules import Term

FIELD_SEPARATOR = " | "
# The longest a folded word usually is, spaces included, to bound the stretch of
# text a negation cue is looked for in (a longer word only shortens the reach).
CHARS_PER_WORD = 16


class Hit(NamedTuple):
    """A term found in the folded text, as character offsets of the folded text."""

    term: Term
    start: int
    end: int


new_hit = tuple.__new__  # Hit(...) costs 4x more than tuple.__new__


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
