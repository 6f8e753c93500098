"""The command line behaves like other Unix tools: options anywhere, grep-like exit codes."""

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import fixture_bytes, run, write_config
from tests.feed_server import FeedServer


def test_options_are_accepted_after_the_command(workdir: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed", fixture_bytes("senat_textes_rss2.xml"))
    (workdir / "conf").mkdir()
    write_config(workdir / "conf", [{"id": "s", "name": "S", "url": url}])
    assert run("poll", "--config", "conf/feeds.yml", "--db", "after.db").code == 0
    assert (workdir / "after.db").exists()
    status = run("status", "--db", "after.db", "--config", "conf/feeds.yml")
    assert status.code == 0, status.err
    assert status.out.startswith("source")
    assert run("--config", "conf/feeds.yml", "validate").code == 0
    assert run("validate", "--config", "conf/feeds.yml").code == 0


def test_check_exits_like_grep(workdir: Path) -> None:
    write_config(workdir, [{"id": "s", "name": "S", "url": "https://example.org/feed"}])
    assert run("check", "Interdire la reconnaissance faciale").code == 0
    assert run("check", "Catastrophe naturelle").code == 1
    (workdir / "feeds.yml").write_text("topics: [", encoding="utf-8")
    broken = run("check", "Interdire la reconnaissance faciale")
    assert broken.code == 2
    assert broken.err.startswith("watcher: feeds.yml")


def test_status_check_fails_when_the_loop_is_stale_or_every_source_fails(
    workdir: Path, feed_server: FeedServer
) -> None:
    write_config(workdir, [{"id": "gone", "name": "Gone", "url": feed_server.url("/gone")}])
    run("poll")
    assert run("status").out.splitlines()[-1] == (
        "outbox: 0 pending alert(s); ended for good: 0 to chats that refuse the bot, 0 refused"
    )
    unhealthy = run("status", "--check")
    assert unhealthy.code == 1
    assert unhealthy.err.strip() == "watcher: unhealthy: every source is failing (1 of 1)"

    feed_server.serve("/gone", fixture_bytes("senat_textes_rss2.xml"))
    db = sqlite3.connect(workdir / "watcher.db")
    db.execute("UPDATE sources SET next_check = NULL")
    db.commit()
    assert run("poll").code == 0
    healthy = run("status", "--check")
    assert healthy.code == 0, healthy.err
    assert healthy.out.splitlines()[-1] == "healthy"

    long_ago = (datetime.now(UTC) - timedelta(minutes=10)).isoformat(timespec="milliseconds")
    db.execute("UPDATE meta SET value = ? WHERE key = 'heartbeat'", [long_ago])
    db.commit()
    stale = run("status", "--check")
    assert stale.code == 1
    assert "the run loop has not turned for 10 min" in stale.err
    db.close()


def test_version() -> None:
    result = run("--version")
    assert result.code == 0
    assert result.out.startswith("watcher ")
