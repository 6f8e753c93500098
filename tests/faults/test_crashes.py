"""SIGKILL at random moments of polling and delivery, then restart: nothing lost, doubled only in flight.

Every poll is saved in one transaction and every send is recorded as soon as
Telegram answers, so a process killed at any moment loses nothing: a restart
finds what it had not saved yet and sends what it had not recorded as sent.
The only repeats allowed are the messages Telegram accepted whose answer the
killed process never recorded; the test counts those at each kill.
"""

import random
import sqlite3
import time
from collections import Counter
from pathlib import Path

from tests.conftest import python_env, run, write_config
from tests.fake_telegram import FakeTelegram, running_fake_telegram
from tests.faults.conftest import FAST, Watcher, rss, tags, telegram_env
from tests.feed_server import FeedServer, Route
from tests.test_telegram_delivery import subscribe
from tests.waiting import wait_until
from watcher.delivery.deliverer import MAX_CONCURRENT_SENDS

SOURCES = 5
CHATS = list(range(5001, 5013))
KILLS = 8


def recorded_message_ids(db: Path) -> set[int]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT message_id FROM alerts WHERE message_id IS NOT NULL")
        ids = {message_id for (message_id,) in rows}
    connection.close()
    return ids


def pending_alerts(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        (count,) = connection.execute(
            "SELECT COUNT(*) FROM alerts WHERE status != 'sent'"
        ).fetchone()
    connection.close()
    return int(count)


def test_random_sigkills_during_polls_and_deliveries_lose_nothing(
    workdir: Path, feed_server: FeedServer
) -> None:
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)
    published: dict[int, list[int]] = {s: [0, 1] for s in range(SOURCES)}
    for source in range(SOURCES):
        # A slow answer, so that kills also land while polls are under way.
        feed_server.handle(
            f"/feed{source}",
            lambda seen, s=source: Route(body=rss(s, published[s]), delay=0.15),  # type: ignore[misc]
        )
    write_config(
        workdir,
        [
            {
                "id": f"s{s}",
                "name": f"S{s}",
                "url": feed_server.url(f"/feed{s}"),
                "interval": "1s",
                "backfill": "true",
            }
            for s in range(SOURCES)
        ],
        extra=FAST,
    )
    db = workdir / "watcher.db"
    subscribe(db, CHATS)

    with running_fake_telegram(enforce_limits=False, send_delay=0.03) as (fake, api_url):
        env = telegram_env(api_url)
        in_flight: Counter[tuple[str, tuple[int, int]]] = Counter()
        seen_messages = 0
        for kill in range(KILLS):
            for source in range(SOURCES):  # the stream goes on between restarts
                start = published[source][-1] + 1
                published[source] += range(start, start + chance.randint(0, 3))
            hits = len(feed_server.requests)
            watcher = Watcher(workdir, env, name=f"run{kill}")
            try:
                wait_until(
                    lambda hits=hits: len(feed_server.requests) > hits,  # type: ignore[misc]
                    "a poll after the restart",
                )
                time.sleep(chance.uniform(0.0, 1.5))
                assert watcher.alive(), watcher.errors()
            finally:
                watcher.kill()
            time.sleep(0.3)  # sends the fake was still answering finish
            recorded = recorded_message_ids(db)
            with fake.lock:
                new = fake.sent[seen_messages:]
                seen_messages = len(fake.sent)
            unrecorded = [m for m in new if m.message_id not in recorded]
            assert len(unrecorded) <= MAX_CONCURRENT_SENDS, f"seed {seed}"
            for message in unrecorded:
                in_flight.update((str(message.chat_id), tag) for tag in tags(message.text))
            assert "Traceback" not in watcher.errors(), f"seed {seed}"

        expected = {
            (str(chat), (source, n))
            for chat in CHATS
            for source, numbers in published.items()
            for n in numbers
        }
        last = Watcher(workdir, env, name="last")
        try:
            wait_until(
                lambda: expected <= received(fake) and pending_alerts(db) == 0,
                f"every alert delivered after {KILLS} kills (seed {seed})",
                timeout=60,
            )
            assert last.stop() == 0
        finally:
            if last.alive():
                last.kill()
        assert "Traceback" not in last.errors()

    counts = Counter(
        (str(m.chat_id), tag) for m in fake.sent if m.chat_id in CHATS for tag in tags(m.text)
    )
    assert set(counts) == expected, f"seed {seed}"
    doubled = {key: count - 1 for key, count in counts.items() if count > 1}
    # Repeats only for what Telegram had accepted when the process died.
    assert all(doubled[key] <= in_flight[key] for key in doubled), (seed, doubled, in_flight)
    with sqlite3.connect(db) as connection:
        statuses = connection.execute("SELECT status, COUNT(*) FROM alerts GROUP BY status")
        assert dict(statuses.fetchall()) == {"sent": len(expected)}
        items = connection.execute("SELECT COUNT(*) FROM items").fetchone()
        assert items == (sum(len(numbers) for numbers in published.values()),)
    connection.close()


def received(fake: FakeTelegram) -> set[tuple[str, tuple[int, int]]]:
    with fake.lock:
        return {(str(m.chat_id), tag) for m in fake.sent for tag in tags(m.text)}


def test_sigkill_in_the_middle_of_a_poll_saves_nothing_half_and_the_restart_alerts_once(
    workdir: Path, feed_server: FeedServer
) -> None:
    documents = [feed_server.url(f"/doc{n}") for n in range(3)]
    for path in documents:
        feed_server.routes[path.split(feed_server.url(""))[1]] = Route(
            body=b"<html><main>Un arr\xc3\xaat\xc3\xa9 sur la vid\xc3\xa9oprotection.</main></html>",
            content_type="text/html",
            delay=1.0,  # each document takes a second: the kill lands between two of them
        )
    entries = "".join(
        f"<item><title>Texte T1x{n} sur la reconnaissance faciale</title><link>{url}</link>"
        f"<guid>{n}</guid></item>"
        for n, url in enumerate(documents)
    )
    url = feed_server.serve(
        "/feed",
        f'<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{entries}</channel></rss>",
    )
    write_config(
        workdir,
        [
            {
                "id": "s",
                "name": "S",
                "url": url,
                "interval": "1s",
                "backfill": "true",
                "fulltext": "true",
            }
        ],
        # The three documents take 3 s: a loaded machine must not make the restart's
        # poll overrun FAST's 5 s deadline (this test is about the kill, not deadlines).
        extra=FAST.replace("poll_timeout: 5s", "poll_timeout: 30s"),
    )
    watcher = Watcher(workdir, python_env(), name="killed")
    try:
        wait_until(lambda: feed_server.hits("/doc1"), "the poll halfway through its documents")
    finally:
        watcher.kill()
    assert watcher.output() == ""
    with sqlite3.connect(workdir / "watcher.db") as connection:
        assert connection.execute("SELECT COUNT(*) FROM items").fetchone() == (0,)
    connection.close()

    restart = run("poll")

    assert restart.code == 0, restart.err
    assert sorted(tags(restart.out)) == [(1, 0), (1, 1), (1, 2)], restart.err
    assert run("poll").out == ""  # and never again
