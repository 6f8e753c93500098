"""A full disk is a pause, never a storm: nothing sent twice, nothing lost, one line each way.

The database lives on a small tmpfs that the test fills while `watcher run` has
alerts to deliver and a source to poll. SQLite then really answers SQLITE_FULL.
Mounting needs root (or a user namespace); where it is refused the test is skipped.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run, write_config
from tests.fake_telegram import FakeTelegram
from tests.faults.conftest import FAST, Watcher, alert_rows, fill, rss, tags, telegram_env, tmpfs
from tests.feed_server import FeedServer
from tests.waiting import wait_for_more, wait_until

CHANNEL = -1009876543210


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on its own 8 MB tmpfs."""
    with tmpfs(tmp_path / "disk", "8m") as folder:
        yield folder


def test_a_full_disk_pauses_delivery_and_polling_then_both_resume(
    workdir: Path,
    small_disk: Path,
    feed_server: FeedServer,
    telegram: tuple[FakeTelegram, str],
    watchers: list[Watcher],
) -> None:
    fake, api_url = telegram
    db = small_disk / "watcher.db"
    url = feed_server.serve("/feed", rss(1, []))
    write_config(
        workdir,
        [{"id": "src", "name": "Source", "url": url, "interval": "1s"}],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n    topics: [biometrie]\n" + FAST,
    )
    assert run("poll", "--db", str(db)).code == 0  # the (empty) backlog is seen
    feed_server.serve("/feed", rss(1, range(1, 21)))
    fake.send_delay = 1.0  # the disk fills while Telegram takes the first message
    watcher = Watcher(workdir, telegram_env(api_url), "--db", str(db))
    watchers.append(watcher)
    wait_until(lambda: fake.calls_of("sendMessage"), "the first send")

    filler = fill(small_disk)
    wait_until(lambda: "delivery paused: disk full" in watcher.errors(), "delivery to pause")
    wait_until(lambda: "polling paused: disk full" in watcher.errors(), "polling to pause")
    status = run("status", "--db", str(db))
    assert "disque plein" in status.out
    check = run("status", "--check", "--db", str(db))
    assert check.code == 1
    assert "disque plein" in check.err
    # A storm would re-send every second: two more (failing) polls of the source,
    # retried at 1 s then 2 s, leave it the time to show while delivery looks again.
    wait_for_more(lambda: len(feed_server.hits("/feed")), 2, "polls while the disk is full")
    assert len(fake.sent) == 1  # the burst taken as the disk filled, not again and again
    assert watcher.errors().count("delivery paused") == 1
    assert watcher.errors().count("polling paused") == 1

    filler.unlink()
    wait_until(lambda: all(status == "sent" for _, status, _ in alert_rows(db)), "every alert sent")
    wait_until(lambda: "delivery resumed" in watcher.errors(), "delivery to resume")
    delivered = [tag for message in fake.messages_to(CHANNEL) for tag in tags(message.text)]
    assert sorted(delivered) == [(1, n) for n in range(1, 21)]  # each once, none lost
    assert "Traceback" not in watcher.errors()
    assert "disque plein" not in run("status", "--db", str(db)).out
    assert watcher.stop() == 0
