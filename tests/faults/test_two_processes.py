"""Two processes: one writer per database, one poller per bot token.

A second `watcher run` on a database that a `run` holds refuses with one line
naming the holder (a cron `watcher poll` beside a `run` is in
tests/test_runtime.py). Two `run`s with one token on two databases: the one
that started second stops with one line; the first keeps answering.
"""

import subprocess
from pathlib import Path

from tests.conftest import PYTHON, fixture_bytes, python_env, write_config
from tests.fake_telegram import FakeTelegram
from tests.faults.conftest import Watcher, rss, tags, telegram_env
from tests.feed_server import FeedServer
from tests.waiting import wait_until


def test_a_second_run_on_the_same_database_refuses_and_the_first_prints_each_alert_once(
    workdir: Path, feed_server: FeedServer, watchers: list[Watcher]
) -> None:
    url = feed_server.serve("/feed", rss(1, range(5)))
    write_config(
        workdir, [{"id": "s", "name": "S", "url": url, "interval": "1s", "backfill": "true"}]
    )
    first = Watcher(workdir, python_env(), name="first")
    watchers.append(first)
    wait_until(lambda: len(tags(first.output())) == 5, "the first run's alerts")

    second = subprocess.run(
        [PYTHON, "-m", "watcher", "run"],
        cwd=workdir,
        env=python_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert second.returncode == 1
    assert second.stderr.strip() == (
        f"watcher: watcher.db is in use by watcher run (pid {first.pid}): "
        "stop it first, or use another --db"
    )
    assert second.stdout == ""
    feed_server.serve("/feed", rss(1, range(6)))
    wait_until(lambda: (1, 5) in tags(first.output()), "the first run going on")
    assert first.stop() == 0
    assert sorted(tags(first.output())) == [(1, n) for n in range(6)]  # each alert once


def test_a_second_run_with_the_same_token_stops_and_the_first_keeps_answering(
    workdir: Path,
    feed_server: FeedServer,
    telegram: tuple[FakeTelegram, str],
    watchers: list[Watcher],
) -> None:
    fake, api_url = telegram
    fake.exclusive_polling = True  # as Telegram: a new getUpdates ends the pending one with 409
    url = feed_server.serve("/feed", fixture_bytes("senat_textes_rss2.xml"))
    write_config(workdir, [{"id": "s", "name": "S", "url": url, "interval": "1s"}])
    env = telegram_env(api_url)
    first = Watcher(workdir, env, name="first")
    watchers.append(first)
    fake.wait_for(lambda: fake.calls_of("setMyCommands"))  # the first bot is up

    second = subprocess.run(
        [PYTHON, "-m", "watcher", "--db", "second.db", "run"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert second.returncode == 1, second.stderr
    assert second.stderr.strip().splitlines()[-1] == (
        "watcher: another process is already polling Telegram with this bot token "
        "(409 Conflict): run one watcher per token"
    )
    assert first.alive(), first.errors()
    before = len(fake.messages_to(4242))
    fake.push_message(4242, "/aide")
    fake.wait_for(lambda: len(fake.messages_to(4242)) > before)
    assert "/sujets" in fake.messages_to(4242)[before].text
    assert first.stop() == 0
    assert "Traceback" not in first.errors()
