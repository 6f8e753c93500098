"""An operator's small mistakes and races: none stops watcher or loses an alert.

A quoted negative channel id is a channel id; `watcher status` started at the
same moment as `watcher run` on a new database does not make `run` exit (both
would migrate it; the migration is taken under an exclusive lock, once).
"""

import subprocess
from pathlib import Path

from tests.conftest import PYTHON, python_env, run, write_config
from tests.fake_telegram import FakeTelegram
from tests.faults.conftest import FAST, rss, tags
from tests.feed_server import FeedServer
from tests.waiting import wait_for_more


def test_a_quoted_negative_channel_id_is_a_channel(
    workdir: Path,
    feed_server: FeedServer,
    bot_api: FakeTelegram,
) -> None:
    fake = bot_api
    url = feed_server.serve("/feed", rss(1, [1]))
    write_config(
        workdir,
        [{"id": "s", "name": "S", "url": url, "backfill": "true"}],
        extra='channels:\n  - chat_id: "-100555"\n    topics: [biometrie]\n' + FAST,
    )
    assert run("validate").code == 0

    result = run("poll")

    assert result.code == 0, result.err
    (message,) = fake.messages_to(-100555)
    assert tags(message.text) == [(1, 1)]


def test_status_started_with_run_on_a_new_database_never_stops_run(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", rss(1, [1]))
    write_config(workdir, [{"id": "s", "name": "S", "url": url, "interval": "1s"}])
    for attempt in range(3):
        db = f"new-{attempt}.db"
        together = [
            subprocess.Popen(
                [PYTHON, "-m", "watcher", "--db", db, command],
                cwd=workdir,
                env=python_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for command in ("run", "status")
        ]
        running, status = together
        try:
            _, status_err = status.communicate(timeout=30)
            # Before `run` has created the file, status says so in one line (#19:
            # --db never creates a database); after, it reads it. Either way run goes on.
            assert status.returncode == 0 or status_err.startswith(
                f"watcher: {db}: no database here"
            ), status_err
            # `run` got past the migration: it polls its source (and is still there).
            wait_for_more(lambda: len(feed_server.hits("/feed")), 1, "polls by run")
            assert running.poll() is None, running.communicate()[1]
        finally:
            running.terminate()
            _, run_err = running.communicate(timeout=15)
        assert running.returncode == 0, run_err
        assert "Traceback" not in run_err
