"""The Bot API unreachable, at start-up or for longer than the old retry cap: nothing is dropped.

Network errors and 5xx are transient: the alert waits in the outbox and is sent
when Telegram answers again, however long that takes. An API unreachable when
watcher starts is a warning, not a traceback: polling goes on.
"""

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run, write_config
from tests.fake_telegram import FakeTelegram
from tests.faults.conftest import FAST, Watcher, alert_rows, rss, tags, telegram_env
from tests.feed_server import FeedServer
from tests.test_telegram_delivery import subscribe
from tests.waiting import wait_until

CHANNEL = -1009876543210
CHAT = 4242


def channel_config(workdir: Path, url: str, **source: str) -> None:
    write_config(
        workdir,
        [{"id": "src", "name": "Source", "url": url, "backfill": "true", **source}],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n    topics: [biometrie]\n" + FAST,
    )


def delivered(fake: FakeTelegram) -> list[tuple[int, int]]:
    return sorted(tag for message in fake.messages_to(CHANNEL) for tag in tags(message.text))


@pytest.mark.parametrize("mode", ["502", "reset"])
def test_an_outage_longer_than_the_old_retry_cap_loses_nothing(
    workdir: Path,
    feed_server: FeedServer,
    bot_api: FakeTelegram,
    mode: str,
) -> None:
    fake = bot_api
    url = feed_server.serve("/feed", rss(1, []))
    write_config(workdir, [{"id": "src", "name": "Sénat", "url": url}], extra=FAST)
    assert run("poll").code == 0  # the backlog is seen
    subscribe(workdir / "watcher.db", [CHAT])
    feed_server.serve("/feed", rss(1, [7]))
    fake.outage, fake.outage_mode = 15, mode  # 15 failed sends in a row

    result = run("poll")

    assert result.code == 0, result.err
    assert fake.outage == 0
    (message,) = fake.messages_to(CHAT)
    assert tags(message.text) == [(1, 7)]
    db = sqlite3.connect(workdir / "watcher.db")
    ((status, attempts, message_id),) = db.execute(
        "SELECT status, attempts, message_id FROM alerts"
    ).fetchall()
    db.close()
    assert (status, message_id) == ("sent", message.message_id)
    assert attempts == 16  # 15 failures (the old cap gave up after 12), then the send
    assert "retrying at" in result.err  # each failure is logged, none is silent


def test_poll_with_the_api_down_warns_and_keeps_the_alerts_for_the_next_run(
    workdir: Path,
    feed_server: FeedServer,
    bot_api: FakeTelegram,
) -> None:
    fake = bot_api
    channel_config(workdir, feed_server.serve("/feed", rss(1, [1, 2])))
    fake.down = True

    down = run("poll")

    assert down.code == 0, down.err
    assert "Traceback" not in down.err
    assert "Telegram Bot API unreachable" in down.err
    assert "alerts stay in the outbox for the next run" in down.err
    assert sorted(alert_rows(workdir / "watcher.db")) == [
        (str(CHANNEL), "pending", None),
        (str(CHANNEL), "pending", None),
    ]
    assert fake.sent == []

    fake.down = False
    assert run("poll").code == 0
    assert delivered(fake) == [(1, 1), (1, 2)]
    assert {status for _, status, _ in alert_rows(workdir / "watcher.db")} == {"sent"}


def test_run_with_the_api_down_polls_on_and_delivers_when_it_comes_back(
    workdir: Path,
    feed_server: FeedServer,
    telegram: tuple[FakeTelegram, str],
    watchers: list[Watcher],
) -> None:
    fake, api_url = telegram
    channel_config(workdir, feed_server.serve("/feed", rss(1, [1, 2])), interval="1s")
    fake.down = True
    watcher = Watcher(workdir, telegram_env(api_url))
    watchers.append(watcher)
    db = workdir / "watcher.db"

    wait_until(lambda: db.exists() and len(alert_rows(db)) == 2, "the first poll's alerts")
    feed_server.serve("/feed", rss(1, [1, 2, 3]))
    wait_until(lambda: len(alert_rows(db)) == 3, "polling going on while Telegram is down")
    wait_until(lambda: "Telegram Bot API unreachable" in watcher.errors(), "the warning")
    assert watcher.alive(), watcher.errors()
    assert {status for _, status, _ in alert_rows(db)} == {"pending"}

    fake.down = False
    fake.wait_for(lambda: delivered(fake) == [(1, 1), (1, 2), (1, 3)])
    fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=30)  # the bot starts, too
    assert watcher.stop() == 0
    assert delivered(fake) == [(1, 1), (1, 2), (1, 3)]  # each once
    assert "Traceback" not in watcher.errors()


def test_the_api_failing_as_polling_starts_is_retried_not_fatal(
    workdir: Path,
    feed_server: FeedServer,
    telegram: tuple[FakeTelegram, str],
    watchers: list[Watcher],
) -> None:
    fake, api_url = telegram
    channel_config(workdir, feed_server.serve("/feed", rss(1, [])))
    # deleteWebhook fails twice: once for the start-up probe, once as polling starts.
    fake.failing["deleteWebhook"] = 2
    watcher = Watcher(workdir, telegram_env(api_url))
    watchers.append(watcher)

    wait_until(lambda: "bot started" in watcher.errors(), "the bot to start after a retry")
    assert fake.failing["deleteWebhook"] == 0 and len(fake.calls_of("deleteWebhook")) == 1
    assert "Telegram Bot API unreachable (network: Bad Gateway)" in watcher.errors()
    fake.push_message(CHAT, "/aide")
    fake.wait_for(lambda: fake.messages_to(CHAT))  # it takes commands
    assert watcher.stop() == 0
    # The one traceback is python-telegram-bot's own log of its failed bootstrap, before
    # the gate classifies the error; nothing of watcher's fails.
    errors = watcher.errors()
    assert errors.count("Traceback") == errors.count("Bootstrap delete Webhook): Failed") == 1
