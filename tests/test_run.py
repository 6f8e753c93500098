"""``watcher run`` without Telegram: polls on schedule, prints alerts, stops cleanly on signals."""

import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, fixture_bytes, python_env, run, write_config
from tests.feed_server import FeedServer
from tests.waiting import wait_for_more, wait_until


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_polls_on_interval_and_exits_cleanly(
    stop_signal: int, workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", fixture_bytes("senat_textes_rss2.xml"))
    write_config(workdir, [{"id": "senat", "name": "Sénat", "url": url, "interval": "1s"}])
    out = (workdir / "out.txt").open("w")
    process = subprocess.Popen(
        [PYTHON, "-m", "watcher", "run"],
        cwd=workdir,
        env=python_env(),
        stdout=out,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: feed_server.hits("/feed"), "the first poll")
        feed_server.serve("/feed", fixture_bytes("senat_textes_rss2_later.xml"))
        wait_until(
            lambda: "interdire la reconnaissance faciale" in (workdir / "out.txt").read_text(),
            "the alert on stdout",
        )
        # Still polling on its interval: two more polls come.
        wait_for_more(lambda: len(feed_server.hits("/feed")), 2, "polls")
        process.send_signal(stop_signal)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        out.close()
    printed = (workdir / "out.txt").read_text()
    assert printed.count("interdire la reconnaissance faciale") == 1
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT status FROM alerts").fetchall() == [("sent",)]


def test_a_broken_database_file_is_one_clear_line(workdir: Path) -> None:
    write_config(workdir, [{"id": "s", "name": "S", "url": "https://example.org/feed"}])
    (workdir / "watcher.db").write_bytes(b"this is not sqlite, it is a text file" * 100)
    result = run("status")
    assert result.code == 1
    assert (
        result.err.strip()
        == "watcher: watcher.db: not a usable SQLite database (file is not a database); "
        "restore it from a backup, or pass --db PATH"
    )


def test_database_path_from_option_and_environment(
    workdir: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = feed_server.serve("/feed", fixture_bytes("senat_textes_rss2.xml"))
    write_config(workdir, [{"id": "s", "name": "S", "url": url}])
    assert run("--db", "elsewhere.db", "poll").code == 0
    assert (workdir / "elsewhere.db").exists()
    monkeypatch.setenv("WATCHER_DB", str(workdir / "env.db"))
    assert run("poll").code == 0
    assert (workdir / "env.db").exists() and not (workdir / "watcher.db").exists()
