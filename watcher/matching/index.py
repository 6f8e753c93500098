"""A topic's rules as the automaton's term numbers, so a text's hits are checked fast.

The matcher (``engine.py``) numbers every term once and builds one ``TopicIndex``
per topic; ``evaluate.py`` reads a scanned text's hits through it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from watcher.matching.rules import Near, Negation, Ref, TopicRules


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

    @cached_property
    def alone(self) -> frozenset[int]:
        """The terms whose hit can make the topic fire alone: keywords, weak terms, mentions."""
        return frozenset(self.strong + self.weak + tuple(ref.mention for ref in self.refs))

    def may_fire(self, hits: Mapping[int, object]) -> bool:
        """Whether these hits can make the topic fire: a proximity rule needs both sides."""
        return not self.alone.isdisjoint(hits) or any(near.present(hits) for near in self.near)

    def strong_in(self, hits: Mapping[int, object]) -> list[int]:
        """The topic's keywords found in the text, in the order of its rules."""
        order = self._strong_order
        return sorted((n for n in hits if n in order), key=order.__getitem__)
