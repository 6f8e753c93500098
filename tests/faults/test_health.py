"""`watcher status --check`, as Docker's HEALTHCHECK runs it beside a `watcher run`.

The loop's heartbeat and the sources' errors are what it reads (the rules
themselves are in tests/test_cli.py): healthy while `run` turns, unhealthy
once a killed `run` has been silent for three minutes (the wait is skipped by
ageing its last heartbeat), healthy again after a restart, unhealthy while every
source fails even though the loop turns.
"""

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import python_env, run, write_config
from tests.faults.conftest import FAST, Watcher, rss
from tests.feed_server import FeedServer, Route
from tests.waiting import wait_until


def age_heartbeat(db: Path, by: timedelta) -> None:
    connection = sqlite3.connect(db)
    (beat,) = connection.execute("SELECT value FROM meta WHERE key = 'heartbeat'").fetchone()
    older = (datetime.fromisoformat(beat) - by).isoformat(timespec="milliseconds")
    connection.execute("UPDATE meta SET value = ? WHERE key = 'heartbeat'", [older])
    connection.commit()
    connection.close()


def test_the_health_check_follows_the_run_loop_and_the_sources(
    workdir: Path, feed_server: FeedServer, watchers: list[Watcher]
) -> None:
    url = feed_server.serve("/feed", rss(1, [1]))
    write_config(workdir, [{"id": "s", "name": "S", "url": url, "interval": "1s"}], extra=FAST)
    assert run("status", "--check").code == 1  # nothing has run yet

    first = Watcher(workdir, python_env(), name="first")
    watchers.append(first)
    wait_until(lambda: run("status", "--check").code == 0, "healthy while run turns")
    first.kill()  # SIGKILL: nothing is written on the way out
    age_heartbeat(workdir / "watcher.db", timedelta(minutes=4))
    dead = run("status", "--check")
    assert dead.code == 1
    assert "watcher: unhealthy: the run loop has not turned for 4 min" in dead.err

    second = Watcher(workdir, python_env(), name="second")
    watchers.append(second)
    wait_until(lambda: run("status", "--check").code == 0, "healthy again after a restart")
    feed_server.routes["/feed"] = Route(status=500)
    wait_until(
        lambda: "every source is failing (1 of 1)" in run("status", "--check").err,
        "unhealthy while the only source fails",
    )
    assert second.alive()
    assert second.stop() == 0
