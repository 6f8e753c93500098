"""A wall-clock step cannot hold an alert for a day, nor break the order of a chat's alerts.

Waits (a transient error's retry, a 429's retry_after) are stored as wall-clock
due times, so that they survive a restart. When the clock steps back a day (an
NTP correction, a VM restored from a snapshot) a retry due "in 5 s" looked a
day away. A due time further than any wait watcher sets is now due at once.
The deliverer's injected clock steps in the first tests; `watcher run` under
libfaketime (its wall clock stepped back a day while it runs) in the last. The
pacing between sends runs on the monotonic clock, which no step moves.
"""

import asyncio
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run, write_config
from tests.fake_telegram import FakeTelegram
from tests.faults.conftest import FAST, Watcher, rss, tags, telegram_env
from tests.feed_server import FeedServer, Route
from tests.test_delivery_deliverer import Setup
from tests.waiting import wait_until
from watcher.delivery.outcome import RetryAfter, Transient

CHANNEL = -1009876543210
OTHER = -1001234567890


@pytest.mark.parametrize(
    "failure",
    [Transient("network: Bad Gateway"), RetryAfter(1.0)],
    ids=["retry", "429"],
)
def test_a_day_backward_step_neither_holds_nor_reorders_alerts(
    tmp_path: Path, failure: Transient | RetryAfter
) -> None:
    s = Setup(tmp_path)
    deliverer = s.deliverer()
    s.queue(1)
    s.target.answers = [failure]
    asyncio.run(
        deliverer.drain()
    )  # the first alert waits (5 s, or the 429's 1 s, honoured on the monotonic clock)
    assert s.target.sent == []

    s.clock.at -= timedelta(days=1)  # the wall clock steps back a day
    s.queue(1)  # a newer alert for the same chat
    asyncio.run(deliverer.drain())

    titles = [message.plain.splitlines()[1] for _, message in s.target.sent]
    assert titles == ["Décret 1 biométrique", "Décret 2 biométrique"]


def test_a_forward_step_sends_what_waited_at_once(tmp_path: Path) -> None:
    s = Setup(tmp_path)
    deliverer = s.deliverer()
    s.queue(1)
    s.target.answers = [Transient("network: Bad Gateway")]
    asyncio.run(deliverer.drain())

    s.clock.at += timedelta(days=1)
    asyncio.run(deliverer.drain())

    assert len(s.target.sent) == 1


def test_a_source_backing_off_across_a_backward_step_is_polled_again(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", rss(1, []))
    write_config(workdir, [{"id": "s", "name": "S", "url": url, "interval": "1h"}], extra=FAST)
    feed_server.routes["/feed"] = Route(status=500)
    assert run("poll").code == 0  # fails: backs off for an hour (the source's interval)
    # The wall clock then steps back two days: the stored next check looks 2 days away.
    db = sqlite3.connect(workdir / "watcher.db")
    (at,) = db.execute("SELECT next_check FROM sources").fetchone()
    later = (datetime.fromisoformat(at) + timedelta(days=2)).isoformat()
    db.execute("UPDATE sources SET next_check = ?", [later])
    db.commit()
    db.close()
    feed_server.serve("/feed", rss(1, []))

    result = run("poll")

    assert "not due before" not in result.err
    assert len(feed_server.hits("/feed")) == 2


FAILURES = {
    "502": (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}),
    "429": (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    ),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_new_alert_never_overtakes_one_waiting_out_a_retry_nor_holds_another_chat(
    workdir: Path,
    feed_server: FeedServer,
    telegram: tuple[FakeTelegram, str],
    watchers: list[Watcher],
    failure: str,
) -> None:
    fake, api_url = telegram
    url = feed_server.serve("/feed", rss(1, []))
    channels = "".join(f"  - chat_id: {c}\n    topics: [biometrie]\n" for c in (CHANNEL, OTHER))
    write_config(
        workdir,
        [{"id": "src", "name": "Source", "url": url, "interval": "1s"}],
        extra="channels:\n" + channels + FAST.replace("0.05s", "5s"),
    )
    assert run("poll").code == 0  # the backlog is seen
    # Retried every 5 s (502) or every second (429) for as long as it lasts.
    refusing = RefusingFirstAlert(fake, CHANNEL, FAILURES[failure])
    watcher = Watcher(workdir, telegram_env(api_url))
    watchers.append(watcher)
    feed_server.serve("/feed", rss(1, [1]))
    wait_until(lambda: refusing.refused, "the first alert refused")

    feed_server.serve("/feed", rss(1, [1, 2]))  # a newer alert, to both channels
    wait_until(lambda: len(fake.messages_to(OTHER)) == 2, "the other channel's two alerts")
    assert fake.messages_to(CHANNEL) == []  # the newer alert waits behind the refused one
    refusing.stop()  # the Bot API takes the first alert again

    wait_until(lambda: len(fake.messages_to(CHANNEL)) == 2, "the held channel's alerts", 30)
    assert watcher.stop() == 0
    for chat in (CHANNEL, OTHER):
        assert [tags(m.text) for m in fake.messages_to(chat)] == [[(1, 1)], [(1, 2)]]


class RefusingFirstAlert:
    """Sends of the item tagged T1x1 to ``chat`` get ``answer`` until ``stop()``."""

    def __init__(self, fake: FakeTelegram, chat: int, answer: tuple[int, Any]) -> None:
        self.refused = 0
        self._stopped = threading.Event()
        handle = fake.handle

        def handle_or_refuse(token: str, method: str, params: dict[str, Any]) -> tuple[int, Any]:
            first = method == "sendMessage" and "T1x1 " in str(params.get("text"))
            if first and str(params.get("chat_id")) == str(chat) and not self._stopped.is_set():
                self.refused += 1
                return answer
            return handle(token, method, params)

        fake.handle = handle_or_refuse  # type: ignore[method-assign]

    def stop(self) -> None:
        self._stopped.set()


def faketime_library() -> Path | None:
    """libfaketime's shared library, as the `libfaketime` package ships it."""
    try:
        import libfaketime
    except ImportError:
        return None
    library = Path(libfaketime.__file__).parent / "vendor/libfaketime/src/libfaketime.so.1"
    return library if library.is_file() else None


def test_watcher_run_across_a_one_day_backward_step_of_the_wall_clock(
    workdir: Path,
    feed_server: FeedServer,
    telegram: tuple[FakeTelegram, str],
    watchers: list[Watcher],
) -> None:
    library = faketime_library()
    if library is None:
        pytest.skip("the libfaketime package is not installed")
    fake, api_url = telegram
    url = feed_server.serve("/feed", rss(1, []))
    write_config(
        workdir,
        [{"id": "src", "name": "Source", "url": url, "interval": "1s"}],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n    topics: [biometrie]\n"
        + FAST.replace("delivery_backoff: 0.05s", "delivery_backoff: 3s"),
    )
    assert run("poll").code == 0  # the backlog is seen
    offset = workdir / "faketime"
    offset.write_text("+0\n", encoding="utf-8")
    env = telegram_env(api_url) | {
        "LD_PRELOAD": str(library),
        "FAKETIME_TIMESTAMP_FILE": str(offset),
        "FAKETIME_NO_CACHE": "1",  # read the offset at every call: the step happens live
        # A wall-clock step leaves the monotonic clock: libfaketime reads one name or
        # the other depending on its version (DONT_FAKE_MONOTONIC before 0.9.8).
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "DONT_FAKE_MONOTONIC": "1",
    }
    fake.outage = 1  # the first send fails: its alert waits 3 s (a wall-clock due time)
    watcher = Watcher(workdir, env)
    watchers.append(watcher)
    feed_server.serve("/feed", rss(1, [1]))
    wait_until(lambda: fake.outage == 0, "the failed first send")
    # The retry's due time is set on the wall clock before it steps (the case of a
    # pending alert held for a day); stepping sooner would test another race.
    wait_until(lambda: "retrying at" in watcher.log.read_text(), "the retry's due time")

    offset.write_text("-1d\n", encoding="utf-8")  # the wall clock steps back a day
    feed_server.serve("/feed", rss(1, [1, 2]))

    wait_until(lambda: len(fake.messages_to(CHANNEL)) == 2, "both alerts, within seconds")
    # Each once, within seconds rather than a day, and in order: the new alert waits
    # behind the first while that one waits out its 3 s backoff.
    sent = [tags(m.text) for m in fake.messages_to(CHANNEL)]
    assert sent == [[(1, 1)], [(1, 2)]]
    assert watcher.stop() == 0
