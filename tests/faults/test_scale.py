"""Bursts stay grouped per chat whatever the outbox holds.

The outbox used to be read 2,000 alerts at a time, oldest first: with a fan-out
to thousands of chats, each chat had one or two alerts in a read, so a burst of
200 went as 200 messages. Delivery now reads whole destinations. The real
batch needs hundreds of chats to cross, which is the benchmark's job
(benchmarks/bench_burst.py, 10,000 subscribers x 200 alerts); here the batch is
scaled down to 7 chats and crossed four times, through the deliverer itself.
"""

import asyncio
from pathlib import Path

from tests.test_delivery_deliverer import START, Setup
from watcher.decide import ItemChange
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.routing import Route
from watcher.sources.base import SourceState
from watcher.store import PollOutcome

CHATS = [str(1000 + n) for n in range(30)]


def fan_out(setup: Setup, items: int) -> None:
    """``items`` alerts, each to every chat: the outbox ordered item by item."""
    match = TopicMatch("biometrie", "biometrie", ("biométrique",), None, ("biométrique",))
    for n in range(1, items + 1):
        item = Item("src", f"k{n}", f"Décret T1x{n} biométrique", f"https://e.org/{n}", START)
        routes = tuple(Route("telegram", chat, ("biometrie",)) for chat in CHATS)
        change = ItemChange(item, (match,), routes)
        setup.store.save_poll(PollOutcome("src", START, START, SourceState(), (change,)))


def test_a_fan_out_larger_than_the_batch_is_grouped_per_chat(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    fan_out(setup, items=6)  # 180 alerts; the batch holds 7 chats' worth
    deliverer = setup.deliverer(batch_destinations=7)

    stats = asyncio.run(deliverer.drain())

    assert stats.sent == 180
    by_chat: dict[str, list[str]] = {}
    for chat, message in setup.target.sent:
        by_chat.setdefault(chat, []).append(message.html)
    assert sorted(by_chat) == CHATS
    for messages in by_chat.values():
        (grouped,) = messages  # one grouped message per chat, not six
        positions = [grouped.index(f"T1x{n} ") for n in range(1, 7)]
        assert positions == sorted(positions)  # oldest first
    assert setup.store.outbox.outbox_length() == 0
