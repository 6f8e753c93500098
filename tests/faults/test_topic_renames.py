"""Renaming a topic keeps its subscribers; a rename that forgets to say so is refused.

`watcher run` with a subscriber of ``biometrie``; feeds.yml then calls the topic
``surveillance``. Without ``renamed_from:`` the SIGHUP reload is refused in one
line saying how to keep them; with it, the subscription follows, the next alert
reaches the subscriber, and nobody is offered the topic as new.
"""

import signal
import sqlite3
from pathlib import Path

from tests.conftest import TOPIC, run, write_config
from tests.fake_telegram import FakeTelegram
from tests.faults.conftest import FAST, Watcher, rss, tags, telegram_env
from tests.feed_server import FeedServer
from tests.test_telegram_delivery import subscribe
from tests.waiting import wait_until

CHAT = 4242


def rename(workdir: Path, url: str, *, declared: bool) -> None:
    former = "    renamed_from: [biometrie]\n" if declared else ""
    topics = TOPIC.replace("  biometrie:\n", f"  surveillance:\n{former}")
    (workdir / "feeds.yml").write_text(
        topics
        + f"sources:\n  - id: src\n    name: Source\n    url: {url}\n    interval: 1s\n"
        + FAST,
        encoding="utf-8",
    )


def subscriptions(db: Path) -> list[tuple[int, str]]:
    connection = sqlite3.connect(db)
    rows = connection.execute("SELECT chat_id, topic FROM subscriptions").fetchall()
    connection.close()
    return rows


def test_a_renamed_topic_keeps_its_subscribers_across_a_sighup(
    workdir: Path,
    feed_server: FeedServer,
    telegram: tuple[FakeTelegram, str],
    watchers: list[Watcher],
) -> None:
    fake, api_url = telegram
    url = feed_server.serve("/feed", rss(1, []))
    write_config(workdir, [{"id": "src", "name": "Source", "url": url, "interval": "1s"}], FAST)
    assert run("poll").code == 0
    db = workdir / "watcher.db"
    subscribe(db, [CHAT])
    watcher = Watcher(workdir, telegram_env(api_url))
    watchers.append(watcher)
    wait_until(lambda: "bot started" in watcher.errors(), "the bot to start")

    rename(workdir, url, declared=False)
    watcher.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload refused" in watcher.errors(), "the reload to be refused")
    (refusal,) = [line for line in watcher.errors().splitlines() if "reload refused" in line]
    assert "topic 'biometrie' has subscribers and is gone while 'surveillance' appears" in refusal
    assert "add `renamed_from: [biometrie]` under topics.surveillance" in refusal
    assert subscriptions(db) == [(CHAT, "biometrie")]

    rename(workdir, url, declared=True)
    watcher.process.send_signal(signal.SIGHUP)
    wait_until(lambda: subscriptions(db) == [(CHAT, "surveillance")], "the subscription to follow")
    feed_server.serve("/feed", rss(1, [1]))
    wait_until(lambda: fake.messages_to(CHAT), "the next alert")

    texts = [m.text for m in fake.messages_to(CHAT)]
    assert [tags(text) for text in texts] == [[(1, 1)]]
    assert not any("Nouveau sujet" in text for text in texts)
    assert watcher.stop() == 0
