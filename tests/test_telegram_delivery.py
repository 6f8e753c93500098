"""Delivery to Telegram from the outbox, through a fake Bot API server."""

import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import PYTHON, python_env, run, write_config
from tests.fake_telegram import TOKEN, FakeTelegram, running_fake_telegram
from tests.feed_server import FeedServer
from watcher.store import Store
from watcher.store.subscribers import Subscribers

CHANNEL = -1001234567890


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with running_fake_telegram() as (fake, api_url):
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_URL", api_url)
        fake.api_url = api_url  # type: ignore[attr-defined]
        yield fake


def feed_items(count: int, *, start: int = 0) -> bytes:
    entries = "".join(
        f"<item><title>Expérimentation n° {i} de reconnaissance faciale &amp; biométrique</title>"
        f"<link>https://example.org/textes/{i}</link><guid>t-{i}</guid>"
        f"<pubDate>Mon, 02 Dec 2024 10:{i % 60:02d}:00 GMT</pubDate>"
        f"<description>Le texte &lt;b&gt;autorise&lt;/b&gt; la reconnaissance faciale.</description></item>"
        for i in range(start, start + count)
    )
    return f'<rss version="2.0"><channel><title>T</title><link>https://example.org</link><description>d</description>{entries}</channel></rss>'.encode()


def subscribe(db: Path, chat_ids: list[int]) -> None:
    subscribers = Subscribers(Store(db))
    for chat_id in chat_ids:
        subscribers.start(chat_id, "private", now=datetime.now(UTC))
        subscribers.subscribe(chat_id, "biometrie")


def test_channel_gets_alerts_as_escaped_html_with_previews_off(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    url = feed_server.serve("/feed", feed_items(2))
    write_config(
        workdir,
        [{"id": "src", "name": "Source <test>", "url": url, "backfill": "true"}],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n    topics: [biometrie]\n",
    )

    result = run("poll")

    assert result.code == 0, result.err
    messages = telegram.messages_to(CHANNEL)
    assert len(messages) == 2
    text = messages[0].text
    assert messages[0].parse_mode == "HTML"
    assert (
        '<a href="https://example.org/textes/0">Expérimentation n° 0 de reconnaissance faciale &amp; biométrique</a>'
        in text
    )
    assert "Source &lt;test&gt;" in text
    assert "<b>reconnaissance faciale</b>" in text
    assert "Mots-clés : <i>reconnaissance faciale</i>, <i>biométrique</i>" in text
    sends = telegram.calls_of("sendMessage")
    assert all('"is_disabled": true' in s.get("link_preview_options", "") for s in sends)
    assert run("poll").code == 0
    assert len(telegram.messages_to(CHANNEL)) == 2  # nothing twice


def test_alerts_to_many_subscribers_all_arrive_and_every_429_is_honoured(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    """150 alerts to 50 subscribers: 3 items each (not yet a burst), within Telegram's limits."""
    chats = list(range(1000, 1050))
    url = feed_server.serve("/feed", feed_items(0))
    write_config(workdir, [{"id": "src", "name": "Source", "url": url}])
    run("poll")  # first poll: the (empty) backlog
    subscribe(workdir / "watcher.db", chats)
    for chat in chats[:10]:
        telegram.force_429[chat] = 1  # these chats are told to wait once
    feed_server.serve("/feed", feed_items(3))

    started = time.monotonic()
    result = run("poll")
    elapsed = time.monotonic() - started

    assert result.code == 0, result.err
    for chat in chats:
        titles = [
            m.text.split("Expérimentation n° ")[1].split(" ")[0] for m in telegram.messages_to(chat)
        ]
        assert titles == ["0", "1", "2"], chat  # oldest first, each once
    assert telegram.breaches == []
    assert telegram.rate_limited >= 10
    assert elapsed < 60
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT status, COUNT(*) FROM alerts GROUP BY status").fetchall() == [
        ("sent", 150)
    ]


def test_blocked_user_is_deactivated_and_start_reactivates(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    url = feed_server.serve("/feed", feed_items(0))
    write_config(workdir, [{"id": "src", "name": "Source", "url": url}])
    run("poll")
    subscribe(workdir / "watcher.db", [501, 502])
    telegram.blocked.add(501)
    feed_server.serve("/feed", feed_items(2))

    assert run("poll").code == 0

    assert len(telegram.messages_to(502)) == 2
    store = Store(workdir / "watcher.db")
    subscriber = Subscribers(store).get(501)
    assert subscriber is not None and not subscriber.active
    assert store.outbox.outbox_length() == 0
    Subscribers(store).start(501, "private", now=datetime.now(UTC))
    assert Subscribers(store).subscriptions()[501] == {"biometrie"}


def test_migrated_group_gets_its_new_id_and_the_alert(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    url = feed_server.serve("/feed", feed_items(0))
    write_config(workdir, [{"id": "src", "name": "Source", "url": url}])
    run("poll")
    store = Store(workdir / "watcher.db")
    Subscribers(store).start(-42, "group", now=datetime.now(UTC))
    Subscribers(store).subscribe(-42, "biometrie")
    telegram.migrated[-42] = -100042
    feed_server.serve("/feed", feed_items(1))

    assert run("poll").code == 0

    assert len(telegram.messages_to(-100042)) == 1
    assert Subscribers(store).get(-100042) is not None
    assert Subscribers(store).get(-42) is None


def test_html_refused_is_resent_as_plain_text(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    url = feed_server.serve("/feed", feed_items(0))
    write_config(workdir, [{"id": "src", "name": "Source", "url": url}])
    run("poll")
    subscribe(workdir / "watcher.db", [777])
    telegram.reject_html.add(777)
    feed_server.serve("/feed", feed_items(1))

    result = run("poll")

    (message,) = telegram.messages_to(777)
    assert message.parse_mode is None
    assert "Expérimentation n° 0" in message.text and "<a href" not in message.text
    assert "HTML refused" in result.err


def test_very_long_items_fit_in_one_message(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    title = "Décret " + "très long " * 600 + "reconnaissance faciale"
    body = f'<rss version="2.0"><channel><title>T</title><link>https://e.org</link><description>d</description><item><title>{title}</title><guid>x</guid><description>{"<b>mot</b> " * 3000}reconnaissance faciale</description></item></channel></rss>'
    url = feed_server.serve("/feed", body)
    write_config(
        workdir,
        [{"id": "src", "name": "Source", "url": url, "backfill": "true"}],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n",
    )

    assert run("poll").code == 0

    (message,) = telegram.messages_to(CHANNEL)  # the fake refuses > 4096 or broken HTML
    assert message.text.count("<b>") == message.text.count("</b>")


def test_invalid_token_is_one_clear_line(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:wrong")
    url = feed_server.serve("/feed", feed_items(1))
    write_config(
        workdir,
        [{"id": "src", "name": "Source", "url": url, "backfill": "true"}],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n",
    )
    result = run("poll")
    assert result.code == 1
    assert (
        result.err.strip().splitlines()[-1]
        == "watcher: Telegram rejected TELEGRAM_BOT_TOKEN: check the token from @BotFather"
    )
    assert (
        Store(workdir / "watcher.db").outbox.outbox_length() == 1
    )  # kept for when the token is fixed


def test_sigkill_during_delivery_loses_nothing(workdir: Path, feed_server: FeedServer) -> None:
    with running_fake_telegram(send_delay=0.05, enforce_limits=False) as (fake, api_url):
        url = feed_server.serve("/feed", feed_items(0))
        write_config(workdir, [{"id": "src", "name": "Source", "url": url}])
        run("poll")
        chats = list(range(2000, 2040))
        subscribe(workdir / "watcher.db", chats)
        feed_server.serve("/feed", feed_items(3))
        env = python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url)
        process = subprocess.Popen(
            [PYTHON, "-m", "watcher", "poll"],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        fake.wait_for(lambda: len(fake.sent) >= 30)
        process.kill()
        process.wait()
        assert len(fake.sent) < 120  # it was killed mid-delivery

        restart = subprocess.run(
            [PYTHON, "-m", "watcher", "poll"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert restart.returncode == 0, restart.stderr

        received = {(str(m.chat_id), m.text.split("Expérimentation n° ")[1][:2]) for m in fake.sent}
        assert len(received) == 120  # every (chat, item) arrived
        assert len(fake.sent) - 120 <= 32  # duplicates only for sends in flight at the kill


def test_digest_subscribers_get_one_grouped_message_a_day(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    url = feed_server.serve("/feed", feed_items(0))
    write_config(
        workdir,
        [{"id": "src", "name": "Source", "url": url}],
        extra='settings:\n  digest_time: "00:00"\n',
    )
    run("poll")
    subscribe(workdir / "watcher.db", [901, 902])
    Subscribers(Store(workdir / "watcher.db")).set_flag(901, "digest", True)
    feed_server.serve("/feed", feed_items(3))

    assert run("poll").code == 0

    (digest,) = telegram.messages_to(901)
    assert digest.text.startswith("🗞 <b>Votre sélection du jour</b> — 3 alertes\n")
    assert all(f"Expérimentation n° {i} " in digest.text for i in range(3))
    assert len(telegram.messages_to(902)) == 3  # immediate alerts for the other
    store = Store(workdir / "watcher.db")
    assert store.outbox.outbox_length() == 0
    assert Subscribers(store).get(901).last_digest is not None  # type: ignore[union-attr]

    feed_server.serve("/feed", feed_items(4))
    run("poll")
    assert len(telegram.messages_to(901)) == 1  # the next digest is tomorrow's
    assert store.outbox.outbox_length() == 1


def test_alerts_queued_for_the_console_are_printed_once_a_token_is_set(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = feed_server.serve("/feed", feed_items(1))
    write_config(workdir, [{"id": "src", "name": "Source", "url": url, "backfill": "true"}])
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN")
    run("poll")  # no token: the alert goes to the console...
    db = sqlite3.connect(workdir / "watcher.db")
    db.execute("UPDATE alerts SET status = 'pending'")  # ...say the process died before printing it
    db.commit()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)

    result = run("poll")

    assert "Expérimentation n° 0 de reconnaissance faciale" in result.out
    assert db.execute("SELECT destination, status FROM alerts").fetchall() == [("console", "sent")]
