"""Running the matcher over past items (JSONL), to see what a keyword edit would catch.

Input: one JSON object a line with ``id``, ``title`` and optional ``summary``,
``body`` (other fields ignored). Output: exactly one line per input line, in
order: ``{"id", "matched", "topics", "keywords"}``. When the input carries a
``relevant`` boolean, recall and precision are measured (``ambiguous`` lines
left out) and the misses and false alarms listed, overall, per topic and per
source kind (``kind``, else ``source``: legifrance, senat, region...). A line
with a ``topic`` is labelled for that topic alone (the review queue writes such
lines); without, for every topic when there is one, else for any topic.

With a second matcher (``--compare OLD.yml``), the items whose outcome the rule
change flips are listed.
"""

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any, TextIO

from watcher.errors import WatcherError
from watcher.matching.engine import Matcher


@dataclass
class Tally:
    """Recall and precision counts of one slice of the labelled items."""

    true_positives: int = 0
    false_positives: int = 0
    misses: int = 0

    def add(self, *, relevant: bool, matched: bool) -> None:
        if relevant and matched:
            self.true_positives += 1
        elif relevant:
            self.misses += 1
        elif matched:
            self.false_positives += 1

    def line(self) -> str:
        found, alerted = (
            self.true_positives + self.misses,
            self.true_positives + self.false_positives,
        )
        recall = self.true_positives / found if found else None
        precision = self.true_positives / alerted if alerted else None
        return (
            f"recall: {_fmt(recall)} ({self.true_positives}/{found}), "
            f"precision: {_fmt(precision)} ({self.true_positives}/{alerted})"
        )


@dataclass
class Scores:
    """Counts of a backtest, and the labelled items it got wrong."""

    items: int = 0
    matched: int = 0
    per_topic: Counter[str] = field(default_factory=Counter)
    labelled: int = 0
    true_positives: int = 0
    false_positives: list[tuple[str, str]] = field(default_factory=list)
    misses: list[tuple[str, str]] = field(default_factory=list)
    by_topic: dict[str, Tally] = field(default_factory=dict)
    by_kind: dict[str, Tally] = field(default_factory=dict)
    # Items a rule change flips: (id, label), "now alerts" or "no longer alerts".
    flipped_on: list[tuple[str, str]] = field(default_factory=list)
    flipped_off: list[tuple[str, str]] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        found = self.true_positives + len(self.misses)
        return self.true_positives / found if found else None

    @property
    def precision(self) -> float | None:
        alerted = self.true_positives + len(self.false_positives)
        return self.true_positives / alerted if alerted else None


def read_items(
    lines: Iterable[str], name: str, errors: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Parse JSONL; a bad line is an error naming it (``items.jsonl:12: not JSON (...)``).

    With ``errors``, a bad line is noted there and skipped, so the run still
    summarises the lines it could read; without, the first one is raised.
    """
    # The good line is the hot path of a large backtest: it is parsed once and
    # checked once; blank lines and the error's text are looked at only on failure.
    loads = json.loads
    for number, line in enumerate(lines, start=1):
        try:
            item = loads(line)
        except json.JSONDecodeError as exc:
            if not line.strip():
                continue
            problem = f"not JSON ({exc.msg})"
        else:
            if isinstance(item, dict) and "id" in item and isinstance(item.get("title"), str):
                yield item
                continue
            problem = (
                'needs an "id" and a "title" string'
                if isinstance(item, dict)
                else "each line must be a JSON object"
            )
        message = f"{name}:{number}: {problem}"
        if errors is None:
            raise WatcherError(message)
        errors.append(message)


def backtest(
    matcher: Matcher,
    items: Iterable[dict[str, Any]],
    out: TextIO,
    *,
    old: Matcher | None = None,
    topic: str | None = None,
) -> Scores:
    """Match every item, write one result line per item, and count.

    With ``old``, the items whose outcome differs under the old rules are noted.
    """
    scores = Scores()
    write = out.write
    if topic is not None and topic not in matcher.topics:
        raise WatcherError(
            f"--topic {topic}: no such topic; feeds.yml has {', '.join(matcher.topics)}"
        )
    # The topic a line without its own "topic" is labelled for: --topic, else the only one.
    default_topic = topic or (next(iter(matcher.topics)) if len(matcher.topics) == 1 else None)
    for item in items:
        fields = (item["title"], _text(item.get("summary")), _text(item.get("body")))
        matches = matcher.match(fields, explain=False)
        scores.items += 1
        if not matches:  # most items: a line of constants around the id
            topics: list[str] = []
            keywords: list[str] = []
            write(_UNMATCHED.format(_json_value(item["id"])))
        else:
            topics = [m.topic for m in matches]
            keywords = list(dict.fromkeys(k for m in matches for k in m.keywords))
            line = {"id": item["id"], "matched": True, "topics": topics, "keywords": keywords}
            write(_encode(line) + "\n")
            scores.matched += 1
            scores.per_topic.update(topics)
        labelled_topic = item.get("topic")
        if not isinstance(labelled_topic, str) or not labelled_topic:
            labelled_topic = default_topic
        matched = labelled_topic in topics if labelled_topic else bool(matches)
        relevant = item.get("relevant")
        is_labelled = isinstance(relevant, bool) and not item.get("ambiguous")
        if old is not None:
            _compare(scores, old, item, fields, labelled_topic, matched, relevant, is_labelled)
        if is_labelled:
            assert isinstance(relevant, bool)
            _score(scores, item, labelled_topic, keywords, relevant=relevant, matched=matched)
    return scores


# json.dumps(..., ensure_ascii=False) builds a new encoder at each call: one, made once.
_encode = json.JSONEncoder(ensure_ascii=False).encode
_UNMATCHED = '{{"id": {}, "matched": false, "topics": [], "keywords": []}}\n'


def _json_value(value: object) -> str:
    """``value`` as json.dumps writes it, the usual ids (int, str) without its set-up."""
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is str:
        return encode_basestring(value)
    return _encode(value)


def _label(item: dict[str, Any]) -> str:
    return f"{item['id']}: {str(item['title'])[:100]}"


def _compare(
    scores: Scores,
    old: Matcher,
    item: dict[str, Any],
    fields: tuple[str, str, str],
    labelled_topic: str | None,
    matched: bool,
    relevant: object,
    is_labelled: bool,
) -> None:
    """Note the item when the old rules decided it otherwise."""
    before = old.match(fields, explain=False)
    was = labelled_topic in {m.topic for m in before} if labelled_topic else bool(before)
    if was == matched:
        return
    verdict = "" if not is_labelled else " (relevant)" if relevant else " (not relevant)"
    (scores.flipped_on if matched else scores.flipped_off).append(
        (str(item["id"]), _label(item) + verdict)
    )


def _score(
    scores: Scores,
    item: dict[str, Any],
    labelled_topic: str | None,
    keywords: list[str],
    *,
    relevant: bool,
    matched: bool,
) -> None:
    """Count a labelled item overall, for its topic and for its source kind."""
    scores.labelled += 1
    if relevant and matched:
        scores.true_positives += 1
    elif relevant:
        scores.misses.append((str(item["id"]), _label(item)))
    elif matched:
        scores.false_positives.append((str(item["id"]), f"{_label(item)} [{', '.join(keywords)}]"))
    kind = str(item.get("kind") or item.get("source") or "?")
    scores.by_kind.setdefault(kind, Tally()).add(relevant=relevant, matched=matched)
    if labelled_topic is not None:
        scores.by_topic.setdefault(labelled_topic, Tally()).add(relevant=relevant, matched=matched)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def report(scores: Scores) -> str:
    """The summary printed on stderr."""
    lines = [f"items: {scores.items}, matched: {scores.matched}"]
    lines += [f"  {topic}: {count}" for topic, count in sorted(scores.per_topic.items())]
    if scores.labelled:
        recall, precision = scores.recall, scores.precision
        lines.append(
            f"labelled: {scores.labelled} (ambiguous left out), "
            f"recall: {_fmt(recall)}, precision: {_fmt(precision)}"
        )
        lines += [f"  miss: {label}" for _, label in scores.misses]
        lines += [f"  false alarm: {label}" for _, label in scores.false_positives]
        lines += [
            f"topic {name}: {tally.line()}" for name, tally in sorted(scores.by_topic.items())
        ]
        lines += [f"kind {name}: {tally.line()}" for name, tally in sorted(scores.by_kind.items())]
    if scores.flipped_on or scores.flipped_off:
        lines.append(
            f"changed by the new rules: {len(scores.flipped_on)} now alert, "
            f"{len(scores.flipped_off)} no longer alert"
        )
        lines += [f"  + {label}" for _, label in scores.flipped_on]
        lines += [f"  - {label}" for _, label in scores.flipped_off]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
