"""The delivery stage's decisions with a recording target and a fixed clock."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from tests.conftest import write_config
from watcher.config import load_config
from watcher.decide import ItemChange
from watcher.delivery.base import Message
from watcher.delivery.deliverer import Deliverer
from watcher.delivery.outcome import Outcome, Sent, Transient
from watcher.delivery.preferences import ChatPreferences
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.routing import Route
from watcher.sources.base import SourceState
from watcher.store import PollOutcome, Store

T = TypeVar("T")
START = datetime(2026, 7, 13, 9, 0, tzinfo=UTC)


@dataclass
class Recorder:
    """A target that keeps what it is given and answers from a script."""

    name: str = "telegram"
    groups: bool = True
    overall_rate: float = 0.0
    sent: list[tuple[str, Message]] = field(default_factory=list)
    answers: list[Outcome] = field(default_factory=list)

    def spacing(self, destination: str) -> float:
        return 0.0

    async def send(self, destination: str, message: Message) -> Outcome:
        if self.answers:
            return self.answers.pop(0)
        self.sent.append((destination, message))
        return Sent(len(self.sent))


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at


class Setup:
    def __init__(self, tmp_path: Path) -> None:
        write_config(tmp_path, [{"id": "src", "name": "Sénat", "url": "https://e.org/feed"}])
        self.store = Store(tmp_path / "watcher.db")
        self.config = load_config(tmp_path / "feeds.yml")
        self.clock = Clock()
        self.target = Recorder()
        self.blocking_calls = 0
        self.count = 0

    async def run_blocking(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        self.blocking_calls += 1
        return func(*args, **kwargs)

    def deliverer(self, **options: Any) -> Deliverer:
        return Deliverer(
            self.store,
            self.config,
            [self.target],
            run_blocking=self.run_blocking,
            now=self.clock,
            **options,
        )

    def queue(self, count: int, chat: str = "1001") -> None:
        match = TopicMatch("biometrie", "biometrie", ("biométrique",), None, ("biométrique",))
        for _ in range(count):
            self.count += 1
            item = Item("src", f"k{self.count}", f"Décret {self.count} biométrique", None, START)
            route = Route("telegram", chat, ("biometrie",))
            change = ItemChange(item, (match,), (route,))
            at = self.clock.at
            self.store.save_poll(PollOutcome("src", at, at, SourceState(), (change,)))


def test_a_burst_stays_grouped_until_the_chat_is_quiet_for_a_minute(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    deliverer = s.deliverer()

    s.queue(5)
    asyncio.run(deliverer.drain())
    s.clock.at += timedelta(seconds=30)
    s.queue(2)  # within the burst: grouped too
    asyncio.run(deliverer.drain())
    s.clock.at += timedelta(seconds=120)
    s.queue(2)  # the burst is over: one message each
    asyncio.run(deliverer.drain())

    heads = [m.html.splitlines()[0] for _, m in s.target.sent]
    assert heads[:2] == ["📚 <b>5 nouvelles alertes</b>", "📚 <b>2 nouvelles alertes</b>"]
    assert [h.startswith("🔎") for h in heads[2:]] == [True, True]
    assert s.blocking_calls > 0  # every SQLite call went through the runtime's executor


def test_three_alerts_at_once_are_not_a_burst(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.queue(3)

    stats = asyncio.run(s.deliverer().drain())

    assert (stats.sent, stats.messages) == (3, 3)


def test_a_chat_that_chose_grouped_gets_grouped_messages(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.queue(2)
    deliverer = s.deliverer(
        preferences=lambda: {"1001": ChatPreferences(mode="grouped", silent=True)}
    )

    asyncio.run(deliverer.drain())

    ((_, message),) = s.target.sent
    assert message.html.startswith("📚 <b>2 nouvelles alertes</b>") and message.silent


def test_a_transient_error_keeps_the_alert_and_holds_only_that_chat(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.queue(1, chat="1001")
    s.queue(1, chat="1002")
    s.target.answers = [Transient("network: Bad Gateway")]

    stats = asyncio.run(s.deliverer().drain())

    assert (stats.sent, stats.retried, stats.failed) == (1, 1, 0)
    rows = s.store.outbox.db.execute(
        "SELECT status, attempts, next_attempt FROM alerts ORDER BY destination"
    ).fetchall()
    first, second = rows
    assert first[:2] == ("pending", 1) and first[2] > START.isoformat()
    assert second[:2] == ("sent", 1)
    s.clock.at += timedelta(seconds=5)
    asyncio.run(s.deliverer().drain())
    assert s.store.outbox.alert_counts() == {"sent": 2}


def test_alerts_held_for_a_digest_do_not_keep_a_one_shot_drain_waiting(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.queue(1)
    past = (START - timedelta(seconds=1)).isoformat()
    with s.store.database.transaction() as db:
        db.execute("UPDATE alerts SET next_attempt = ?", [past])  # a digest part retried
    deliverer = s.deliverer(preferences=lambda: {"1001": ChatPreferences(mode="digest")})

    stats = asyncio.run(deliverer.drain(settle=120))

    assert stats.sent == 0 and s.target.sent == []
    assert s.blocking_calls < 10  # it looked once and returned, without spinning


def test_a_new_alert_waits_behind_an_older_one_of_its_chat_and_holds_no_other_chat(
    tmp_path: Path,
) -> None:
    s = Setup(tmp_path)
    deliverer = s.deliverer()
    s.queue(1, chat="1001")
    s.target.answers = [Transient("network: Bad Gateway")]
    asyncio.run(deliverer.drain())  # the first alert waits 5 s before its retry

    s.queue(1, chat="1001")  # newer, to the same chat: held behind the first
    s.queue(1, chat="1002")  # another chat: not held
    asyncio.run(deliverer.drain())
    assert [(chat, m.plain.splitlines()[1]) for chat, m in s.target.sent] == [
        ("1002", "Décret 3 biométrique")
    ]

    s.clock.at += timedelta(seconds=5)
    asyncio.run(deliverer.drain())
    to_first = [m.plain.splitlines()[1] for chat, m in s.target.sent if chat == "1001"]
    assert to_first == ["Décret 1 biométrique", "Décret 2 biométrique"]


def test_the_outbox_gives_a_chat_its_alerts_up_to_the_first_that_waits(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    s.queue(3, chat="1001")
    s.queue(1, chat="1002")
    later = (START + timedelta(seconds=30)).isoformat()
    with s.store.database.transaction() as db:  # the second alert of 1001 waits a retry
        db.execute("UPDATE alerts SET next_attempt = ? WHERE id = 2", [later])

    due = s.store.outbox.due_by_destination("telegram", now=START)

    assert [(a.destination, a.id) for a in due] == [("1001", 1), ("1002", 4)]
    after = s.store.outbox.due_by_destination("telegram", now=START + timedelta(seconds=30))
    assert [(a.destination, a.id) for a in after] == [
        ("1001", 1),
        ("1001", 2),
        ("1001", 3),
        ("1002", 4),
    ]
