"""The delivery stage end to end: `watcher poll` against the fake Bot API.

Outages, bursts, digests, permanent refusals told to the maintainers once.
"""

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Bot

from tests.conftest import run, write_config
from tests.fake_telegram import TOKEN, FakeTelegram, parse_entities, running_fake_telegram
from tests.feed_server import FeedServer
from tests.test_telegram_delivery import feed_items, subscribe
from watcher.config import load_config
from watcher.decide import ItemChange
from watcher.delivery.base import Button, Message
from watcher.delivery.deliverer import Deliverer
from watcher.delivery.outcome import ChatGone, ChatMoved, Refused, Sent
from watcher.delivery.telegram import TelegramTarget
from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.routing import Route
from watcher.sources.base import SourceState
from watcher.store import PollOutcome, Store
from watcher.store.subscribers import Subscribers

CHAT = 4242
MAINTAINER = 777000


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with running_fake_telegram() as (fake, api_url):
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_URL", api_url)
        fake.api_url = api_url  # type: ignore[attr-defined]
        yield fake


def first_poll(workdir: Path, feed_server: FeedServer, extra: str = "") -> None:
    """A source whose backlog is seen, and one subscribed chat."""
    url = feed_server.serve("/feed", feed_items(0))
    write_config(workdir, [{"id": "src", "name": "Sénat", "url": url}], extra=extra)
    assert run("poll").code == 0
    subscribe(workdir / "watcher.db", [CHAT])


def statuses(workdir: Path) -> list[tuple[str, int]]:
    db = sqlite3.connect(workdir / "watcher.db")
    return db.execute("SELECT status, COUNT(*) FROM alerts GROUP BY status").fetchall()


def numbers_in(text: str) -> list[int]:
    return [int(part.split(" ")[0]) for part in text.split("Expérimentation n° ")[1:]]


def test_a_burst_of_25_alerts_arrives_as_grouped_messages(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    first_poll(workdir, feed_server)
    feed_server.serve("/feed", feed_items(25))

    assert run("poll").code == 0

    messages = telegram.messages_to(CHAT)
    assert 1 <= len(messages) <= 2
    shown = []
    for n, message in enumerate(messages, start=1):
        plain, error = parse_entities(message.text)
        assert error is None and len(plain) <= 4096
        numbering = f" ({n}/{len(messages)})" if len(messages) > 1 else ""
        assert plain.startswith(f"📚 25 nouvelles alertes{numbering}\n")
        shown += numbers_in(plain)
    assert sorted(shown) == list(range(25))  # each alert once
    lines = [line for m in messages for line in m.text.splitlines() if line.startswith("• ")]
    assert len(lines) == 22  # the first 3 in full, the rest one line each
    assert lines[0].startswith('• <a href="https://example.org/textes/3">Expérimentation n° 3 ')
    assert lines[0].endswith(" — Sénat, 02/12/2024")
    db = sqlite3.connect(workdir / "watcher.db")
    carried = {m for (m,) in db.execute("SELECT message_id FROM alerts WHERE status = 'sent'")}
    assert carried == {m.message_id for m in messages}  # each alert knows its message
    assert (
        Store(workdir / "watcher.db").outbox.message_id_of(1, str(CHAT)) == messages[0].message_id
    )
    sends = [c for c in telegram.calls_of("sendMessage") if c["chat_id"] == str(CHAT)]
    assert [c.get("disable_notification") for c in sends] == ["false"] + ["true"] * (
        len(sends) - 1
    )  # one notification for the whole burst
    assert statuses(workdir) == [("sent", 25)]


def test_a_digest_of_25_is_one_numbered_compact_message_set(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    first_poll(workdir, feed_server, extra='settings:\n  digest_time: "00:00"\n')
    Subscribers(Store(workdir / "watcher.db")).set_flag(CHAT, "digest", True)
    feed_server.serve("/feed", feed_items(25))

    assert run("poll").code == 0

    messages = telegram.messages_to(CHAT)
    shown = []
    for n, message in enumerate(messages, start=1):
        plain, error = parse_entities(message.text)
        assert error is None and len(plain) <= 4096
        numbering = f" ({n}/{len(messages)})" if len(messages) > 1 else ""
        assert plain.startswith(f"🗞 Votre sélection du jour — 25 alertes{numbering}\n")
        assert "<blockquote>" not in message.text  # compact: one line per alert
        shown += numbers_in(plain)
    assert sorted(shown) == list(range(25))
    assert len(messages) <= 2
    assert statuses(workdir) == [("sent", 25)]


def test_refused_messages_are_counted_and_told_to_the_maintainers_once(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    channel = -1009999
    url = feed_server.serve("/feed", feed_items(2))
    write_config(
        workdir,
        [{"id": "src", "name": "Sénat", "url": url, "backfill": "true"}],
        extra=f"channels:\n  - chat_id: {channel}\nmaintainers: [{MAINTAINER}]\n",
    )
    telegram.refuse[channel] = "Bad Request: message is too long"

    assert run("poll").code == 0

    assert telegram.messages_to(channel) == []
    (notice,) = telegram.messages_to(MAINTAINER)
    assert str(channel) in notice.text and "message is too long" in notice.text.lower()
    assert Store(workdir / "watcher.db").outbox.failure_counts() == {"chat_gone": 0, "refused": 2}


def test_a_blocked_chat_is_told_to_the_maintainers_once(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    first_poll(workdir, feed_server, extra=f"maintainers: [{MAINTAINER}]\n")
    telegram.blocked.add(CHAT)
    feed_server.serve("/feed", feed_items(2))

    assert run("poll").code == 0

    # The first poll's empty feed was a drift, told to the maintainers on its own.
    (notice,) = [m for m in telegram.messages_to(MAINTAINER) if not m.text.startswith("⚠️ Source")]
    assert f"{CHAT} refuse les messages" in notice.text
    assert Store(workdir / "watcher.db").outbox.failure_counts() == {"chat_gone": 2, "refused": 0}


def test_updates_and_upcoming_votes_read_as_such(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    """Through the stage's own interface, with the items a poll would have saved."""
    first_poll(workdir, feed_server)
    store = Store(workdir / "watcher.db")
    now = datetime.now(UTC)
    match = TopicMatch("biometrie", "biometrie", ("biométrique",), None, ("biométrique",))
    route = Route("telegram", str(CHAT), ("biometrie",))
    changed = Item("src", "changed", "Décret biométrique", "https://e.org/changed", now)
    scheduled = Item(
        "src",
        "scheduled",
        "Proposition de loi biométrique",
        "https://e.org/scheduled",
        now,
        event_at=now + timedelta(days=6),
        event="Vote",
    )
    changes = (
        ItemChange(changed, (match,), (route,), reason="update"),
        ItemChange(scheduled, (match,), (route,)),
    )
    store.save_poll(PollOutcome("src", now, now, SourceState(), changes))
    config = load_config(workdir / "feeds.yml")

    async def deliver() -> None:
        async with Bot(TOKEN, base_url=telegram.api_url) as bot:  # type: ignore[attr-defined]
            await Deliverer(store, config, [TelegramTarget(bot)]).drain(settle=10)

    asyncio.run(deliver())

    changed_message, scheduled_message = telegram.messages_to(CHAT)
    assert "🔄 mis à jour" in changed_message.text.splitlines()[0]
    first_line = scheduled_message.text.splitlines()[0]
    assert first_line.startswith("⏰ Vote prévu le ") and first_line.endswith(", dans 6 jours")


def test_a_dossier_follow_up_answers_the_message_of_its_previous_stage(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    first_poll(workdir, feed_server)
    store = Store(workdir / "watcher.db")
    config = load_config(workdir / "feeds.yml")
    match = TopicMatch("biometrie", "biometrie", ("biométrique",), None, ("biométrique",))
    route = Route("telegram", str(CHAT), ("biometrie",))

    def save_and_deliver(item: Item, reason: str) -> None:
        now = datetime.now(UTC)
        change = ItemChange(item, (match,), (route,), reason=reason)
        store.save_poll(PollOutcome("src", now, now, SourceState(), (change,)))

        async def deliver() -> None:
            async with Bot(TOKEN, base_url=telegram.api_url) as bot:  # type: ignore[attr-defined]
                await Deliverer(store, config, [TelegramTarget(bot)]).drain(settle=10)

        asyncio.run(deliver())

    bill = "senat:ppl25-170"
    save_and_deliver(Item("src", "ppl", "PPL biométrique", None, dossier=bill), "new")
    report = Item("src", "rap", "Rapport", None, kind="Rapport de commission", dossier=bill)
    save_and_deliver(report, "follow-up")

    first, follow_up = telegram.messages_to(CHAT)
    # The step is named as a follow-up names it (following.stage_label): what happened.
    assert "🔁 Suite du dossier : <b>Rapport</b>" in follow_up.text
    (_, reply) = telegram.calls_of("sendMessage")
    assert f'"message_id": {first.message_id}' in reply["reply_parameters"]


def test_the_telegram_target_says_what_telegram_answered(telegram: FakeTelegram) -> None:
    telegram.blocked.add(501)
    telegram.migrated[-42] = -100042
    telegram.reject_html.add(502)
    telegram.refuse[503] = "Bad Request: message is too long"
    message = Message(
        "<b>Décret</b>",
        "Décret",
        reply_to=7,
        keyboard=((Button("Plus", data="more:1"), Button("Lire", url="https://e.org/1")),),
        silent=True,
        preview=True,
    )

    async def send_all() -> list[object]:
        async with Bot(TOKEN, base_url=telegram.api_url) as bot:  # type: ignore[attr-defined]
            target = TelegramTarget(bot)
            return [
                await target.send(chat, message) for chat in ("500", "501", "-42", "502", "503")
            ]

    sent, blocked, moved, plain, refused = asyncio.run(send_all())

    assert isinstance(sent, Sent) and sent.message_id == telegram.messages_to(500)[0].message_id
    assert blocked == ChatGone("Forbidden: bot was blocked by the user")
    assert moved == ChatMoved("-100042")
    assert isinstance(plain, Sent) and telegram.messages_to(502)[0].parse_mode is None
    assert isinstance(refused, Refused)
    (call, *_) = telegram.calls_of("sendMessage")
    assert call["disable_notification"] == "true"
    assert '"message_id": 7' in call["reply_parameters"]
    assert '"allow_sending_without_reply": true' in call["reply_parameters"]
    assert '"is_disabled": false' in call["link_preview_options"]
    assert '"callback_data": "more:1"' in call["reply_markup"]
    assert '"url": "https://e.org/1"' in call["reply_markup"]
