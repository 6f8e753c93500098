"""Every problem with the database's folder or file is one line saying what to do.

A missing, read-only or full folder; an empty, foreign or newer file: `watcher
poll` refuses in one line and changes nothing (an empty file is not silently
made a new database). A damaged file is said at start-up and by `watcher status`.
The read-only and full folders are tmpfs mounts (skipped where mounting is refused).
"""

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run, write_config
from tests.faults.conftest import FAST, fill, rss, tmpfs
from tests.feed_server import FeedServer


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """A folder on a tmpfs of its own (1 MB), which the test may fill or make read-only."""
    with tmpfs(tmp_path / "mounted", "1m") as folder:
        yield folder


@pytest.fixture
def config(workdir: Path, feed_server: FeedServer) -> Path:
    url = feed_server.serve("/feed", rss(1, [1]))
    return write_config(workdir, [{"id": "s", "name": "S", "url": url}], extra=FAST)


def refused(db: Path, *words: str) -> str:
    """`watcher poll --db db` fails with one line holding ``words``; that line."""
    result = run("poll", "--db", str(db))
    assert result.code == 1
    assert "Traceback" not in result.err
    (line,) = result.err.strip().splitlines()
    for word in words:
        assert word in line, line
    return line


def test_a_missing_folder(workdir: Path, config: Path) -> None:
    refused(workdir / "nowhere" / "watcher.db", "does not exist", "create it")


def test_a_read_only_folder_new_and_existing(tmp_path: Path, config: Path, mounted: Path) -> None:
    assert run("poll", "--db", str(mounted / "watcher.db")).code == 0
    # The same folder seen through a read-only bind mount (this process still holds
    # files open in the writable one, which a remount would refuse).
    view = tmp_path / "read-only"
    view.mkdir()
    subprocess.run(["mount", "--bind", str(mounted), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        read_only_folder_is_one_line(view)
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)


def read_only_folder_is_one_line(view: Path) -> None:
    db = view / "watcher.db"
    refused(db, "is read-only", "make it writable")
    refused(view / "other.db", "is read-only")
    # status only reads: it may manage (while this process still holds the WAL's shared
    # memory open), or say the folder is read-only; never "not a usable database".
    status = run("status", "--db", str(db))
    assert "not a usable" not in status.err and "Traceback" not in status.err
    if status.code:
        assert "is read-only" in status.err


def test_a_full_folder_at_start_up(config: Path, mounted: Path) -> None:
    fill(mounted)
    refused(mounted / "watcher.db", "disk full (disque plein)", "free some space")


def test_an_empty_file_is_refused_not_reinitialised(workdir: Path, config: Path) -> None:
    db = workdir / "watcher.db"
    db.touch()
    refused(db, "empty (0 bytes)", "restore it from a backup")
    assert db.stat().st_size == 0


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(b"PK\x03\x04 a zip file", ("not a usable SQLite database",), id="foreign"),
        pytest.param(None, ("is a folder",), id="a-folder"),
    ],
)
def test_a_file_that_is_not_a_database(
    workdir: Path, config: Path, content: bytes | None, words: tuple[str, ...]
) -> None:
    db = workdir / "watcher.db"
    if content is None:
        db.mkdir()
    else:
        db.write_bytes(content)
    refused(db, *words)


def test_a_newer_schema_is_refused(workdir: Path, config: Path) -> None:
    db = workdir / "watcher.db"
    assert run("poll", "--db", str(db)).code == 0
    connection = sqlite3.connect(db)
    connection.execute("INSERT INTO schema_version (version) VALUES (99)")
    connection.commit()
    connection.close()
    refused(db, "newer watcher (schema version 99", "run the newer watcher")


def test_a_damaged_file_is_said_at_start_up_and_in_status(workdir: Path, config: Path) -> None:
    db = workdir / "watcher.db"
    assert run("poll", "--db", str(db)).code == 0
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
    (page,) = connection.execute(
        "SELECT rootpage FROM sqlite_schema WHERE name = 'alerts_pending'"
    ).fetchone()
    (size,) = connection.execute("PRAGMA page_size").fetchone()
    connection.close()
    with db.open("r+b") as file:  # an index page's cell count, made impossible
        file.seek((page - 1) * size + 3)
        file.write(b"\x7f\xff")

    started = run("poll", "--db", str(db))
    assert "fails SQLite's integrity check (Page " in started.err
    status = run("status", "--check", "--db", str(db))
    assert "fails SQLite's integrity check" in status.out
    assert status.code == 1
    assert "the database fails its integrity check" in status.err
