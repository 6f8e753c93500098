"""One chat's command flood delays nobody else's commands.

With Telegram's limits on (1 message/s per private chat), a chat sending forty
/aide at once used to hold every other chat's commands for as long as its
replies took. Chats are now handled side by side: the other chat is answered
at once, and the flooding chat is told once, in French, to slow down, its
commands beyond the first few dropped.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.fake_telegram import FakeTelegram, running_fake_telegram
from tests.faults.conftest import FAST, Watcher, rss, telegram_env
from tests.feed_server import FeedServer
from tests.waiting import wait_until

FLOODER, OTHER = 1001, 2002


@pytest.fixture
def limited() -> Iterator[tuple[FakeTelegram, str]]:
    with running_fake_telegram(enforce_limits=True) as (fake, api_url):
        yield fake, api_url


def test_a_flooding_chat_is_told_to_slow_down_and_others_are_answered(
    workdir: Path,
    feed_server: FeedServer,
    limited: tuple[FakeTelegram, str],
    watchers: list[Watcher],
) -> None:
    fake, api_url = limited
    url = feed_server.serve("/feed", rss(1, []))
    write_config(workdir, [{"id": "src", "name": "Source", "url": url}], extra=FAST)
    watcher = Watcher(workdir, telegram_env(api_url))
    watchers.append(watcher)
    wait_until(lambda: "bot started" in watcher.errors(), "the bot to start")

    for _ in range(40):
        fake.push_message(FLOODER, "/aide")
    fake.push_message(OTHER, "/aide")

    # Sequential handling would answer it after the flooder's forty replies (40 s+).
    wait_until(lambda: fake.messages_to(OTHER), "the other chat's answer", timeout=10)
    wait_until(
        lambda: any("Doucement" in m.text for m in fake.messages_to(FLOODER)),
        "the flooder to be told",
        timeout=10,
    )
    told = [m for m in fake.messages_to(FLOODER) if "Doucement" in m.text]
    assert len(told) == 1  # once, not once per dropped command
    assert "Traceback" not in watcher.errors()
    assert watcher.stop() == 0
    # The flood was cut: a few answers, the slow-down, not forty answers.
    assert len(fake.messages_to(FLOODER)) <= 7
