"""Is a source drifting? Pure: its recent polls' figures and ``now`` in, one problem out.

A source can keep "succeeding" while nobody would be alerted: its listing gives
0 links (a page redesigned, a feed emptied), its documents stop giving text (a
portal that now answers a redirect page instead of the PDF), its newest item
stops advancing for longer than it ever did, or its answer stops having the
shape its kind reads. Each is told in ``watcher status``, ``status --check``,
/statut, and once to the maintainers, beside the last good poll's figures.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.figures import PollFigures

# A source is "stalled" only after this long at least, whatever its history.
STALL_FLOOR = timedelta(days=1)
# How many advances of its newest date a source needs before its longest gap means much.
STALL_HISTORY = 3

PROBLEMS_FR = {
    "unrecognised": "sa réponse n'a plus le format attendu",
    "empty": "sa liste ne donne plus aucun lien ni élément",
    "no_text": "ses documents ne donnent plus de texte",
    "stalled": "son élément le plus récent n'avance plus",
}


@dataclass(frozen=True)
class Drift:
    """What is off with one source, today's figures and the last good ones."""

    source_id: str
    problem: str  # "unrecognised", "empty", "no_text", "stalled"
    detail: str  # English, one clause
    today: PollFigures
    last_good: PollFigures | None

    def line(self) -> str:
        """One line for ``watcher status``."""
        good = (
            f"last good poll {self.last_good.at:%Y-%m-%d %H:%M}: {self.last_good.summary()}"
            if self.last_good
            else "no good poll yet"
        )
        return (
            f"{self.source_id}: {self.detail} (today {self.today.at:%Y-%m-%d %H:%M}: "
            f"{self.today.summary()}; {good})"
        )

    def notice_fr(self) -> str:
        """The message the maintainers receive once (plain text)."""
        good = (
            f"Dernier relevé correct ({self.last_good.at:%d/%m/%Y %H:%M}) : "
            f"{self.last_good.summary_fr()}."
            if self.last_good
            else "Aucun relevé correct jusqu'ici."
        )
        return (
            f"⚠️ Source {self.source_id} : {PROBLEMS_FR[self.problem]}.\n"
            f"Aujourd'hui ({self.today.at:%d/%m/%Y %H:%M}) : {self.today.summary_fr()}.\n"
            f"{good}\nVérifiez-la avec `watcher sources check --source {self.source_id}`."
        )


def detect(source_id: str, history: Sequence[PollFigures], now: datetime) -> Drift | None:
    """The problem the latest poll shows, if any; ``history`` is oldest first."""
    if not history:
        return None
    today = history[-1]
    if today.outcome == "unrecognised":
        return _drift(
            source_id, "unrecognised", "answer not recognised (its last error says why)", history
        )
    if today.outcome == "empty" or (today.ok and today.whole and today.items == 0):
        return _drift(source_id, "empty", "the listing gave 0 links/items", history)
    if _textless(today) and (today.without_text >= 2 or _previous_textless(history)):
        detail = f"none of its {today.without_text} new document(s) gave text"
        return _drift(source_id, "no_text", detail, history)
    return _stalled(source_id, history, now)


def _stalled(source_id: str, history: Sequence[PollFigures], now: datetime) -> Drift | None:
    """The newest date has not advanced for longer than its longest gap so far."""
    newest = sorted({f.newest for f in history if f.ok and f.newest is not None})
    if len(newest) < STALL_HISTORY:
        return None
    longest = max(later - earlier for earlier, later in itertools.pairwise(newest))
    silent = now - newest[-1]
    if silent <= max(longest, STALL_FLOOR):
        return None
    detail = (
        f"its newest item is {silent.days} day(s) old, longer than its longest gap "
        f"so far ({_days(longest)})"
    )
    last = next(f for f in reversed(history) if f.ok and f.newest == newest[-1])
    return Drift(source_id, "stalled", detail, history[-1], last)


def _textless(figures: PollFigures) -> bool:
    """Documents were fetched and none gave text."""
    return figures.ok and figures.without_text > 0 and not figures.with_text


def _previous_textless(history: Sequence[PollFigures]) -> bool:
    """The poll before, that fetched documents, got no text either (one scan is no drift)."""
    fetched = [f for f in history[:-1] if f.ok and (f.with_text or f.without_text)]
    return bool(fetched) and _textless(fetched[-1])


def _drift(source_id: str, problem: str, detail: str, history: Sequence[PollFigures]) -> Drift:
    return Drift(source_id, problem, detail, history[-1], _last_good(history[:-1]))


def _last_good(history: Sequence[PollFigures]) -> PollFigures | None:
    """The latest poll that read items, and text when its documents were fetched."""
    for figures in reversed(history):
        if figures.ok and figures.items and (figures.with_text or not figures.without_text):
            return figures
    return None


def _days(gap: timedelta) -> str:
    if gap >= timedelta(days=1):
        return f"{gap.days} day(s)"
    return f"{int(gap.total_seconds() // 3600)} hour(s)"
