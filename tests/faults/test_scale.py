"""Bursts stay grouped per chat whatever the outbox holds; no stored alert blocks a chat.

The outbox used to be read 2,000 alerts at a time, oldest first: with a fan-out
to thousands of chats, each chat had one or two alerts in a read, so a burst of
200 went as 200 messages. Delivery now reads whole destinations. The real
batch needs hundreds of chats to cross, which is the benchmark's job
(benchmarks/bench_burst.py, 10,000 subscribers x 200 alerts); here the batch is
scaled down to 7 chats and crossed four times, through the deliverer itself
(each next batch read while the one before is sent: no chat twice).
"""

import asyncio
from pathlib import Path

import pytest

from tests.test_delivery_deliverer import START, Setup
from watcher.decide import ItemChange
from watcher.delivery.render import AlertView
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


def test_an_alert_that_cannot_be_rendered_goes_plain_and_blocks_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from watcher.delivery import compose as module

    def render_html(view: AlertView, **options: object) -> str:
        if "T1x2" in view.item.title:  # a stored alert that rendering chokes on
            raise OverflowError("date value out of range")
        return original(view)

    original = module.render_html
    monkeypatch.setattr(module, "render_html", render_html)
    setup = Setup(tmp_path)
    fan_out(setup, items=3)  # three alerts per chat: not a burst, one message each

    asyncio.run(setup.deliverer().drain())

    sent = [(chat, m) for chat, m in setup.target.sent if chat == CHATS[0]]
    assert len(sent) == 3
    broken = sent[1][1]
    assert broken.plain == "Décret T1x2 biométrique\nhttps://e.org/2"  # bare title and link
    assert "<b>" in sent[0][1].html and "<b>" in sent[2][1].html  # the others, as usual
    assert setup.store.outbox.outbox_length() == 0
    assert caplog.text.count("cannot be rendered") == len(CHATS)  # one line per broken alert
