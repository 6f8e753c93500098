"""The wall-clock jobs through ``watcher run``, its clock set by libfaketime: the nightly
backup (the last N kept), pruning that keeps what matched or is followed, the weekly
report reaching the maintainers through the fake Bot API; a restored backup opens
and ``watcher status`` reads it.

``watcher run``'s wall clock (the one ``schedule`` and the jobs read) steps to each
job's time; its monotonic clock stays real, so polling and pacing are untouched,
and each job runs within a second of the step (``schedule`` runs a job that is due).
"""

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import python_env, run, write_config
from tests.fake_telegram import FakeTelegram, running_fake_telegram
from tests.faults.conftest import Watcher, telegram_env
from tests.feed_server import FeedServer, Route
from tests.waiting import wait_for_text, wait_until
from watcher.store import Store

libfaketime = pytest.importorskip("libfaketime")
MAINTAINER = 777
OLD, RECENT = "2023-01-01T00:00:00.000+00:00", "2026-12-05T10:00:00.000+00:00"
EMPTY = (
    b'<rss version="2.0"><channel><title>T</title><link>https://example.org</link></channel></rss>'
)


@pytest.fixture
def telegram() -> Iterator[tuple[FakeTelegram, str]]:
    """The fake Bot API and the TELEGRAM_API_URL that reaches it."""
    with running_fake_telegram(enforce_limits=False) as (fake, api_url):
        yield fake, api_url


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    """``watcher run`` processes a test starts; one left running is killed at the end."""
    started: list[Watcher] = []
    yield started
    for watcher in started:
        if watcher.alive():
            watcher.kill()


def faketime_env(clock: Path) -> dict[str, str]:
    """A process reading its wall clock from ``clock`` (libfaketime), in UTC."""
    library = Path(libfaketime.__file__).parent / "vendor" / "libfaketime" / "src"
    return {
        "LD_PRELOAD": str(library / "libfaketime.so.1"),
        "FAKETIME_TIMESTAMP_FILE": str(clock),
        "FAKETIME_NO_CACHE": "1",  # the file is read at every call: a step happens live
        "DONT_FAKE_MONOTONIC": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",  # the name libfaketime reads since 0.9.8
        "TZ": "UTC",  # `schedule` reads local time
    }


def set_clock(clock: Path, moment: datetime) -> None:
    """From now on, the process's wall clock starts from ``moment`` and runs."""
    clock.write_text(moment.strftime("@%Y-%m-%d %H:%M:%S\n"), encoding="utf-8")


def seed(db: Path) -> None:
    """Three sources (failing, fresh, silent) and items old and new, matched or followed."""
    store = Store(db)
    conn = store.database.db.conn
    conn.executescript(
        f"""
        INSERT INTO sources (id, consecutive_errors, last_error) VALUES ('broken', 3, 'HTTP 500');
        INSERT INTO sources (id, consecutive_errors) VALUES ('fresh', 0), ('quiet', 0);
        INSERT INTO items (id, source_id, key, title, first_seen) VALUES
            (1, 'quiet', 'old-unmatched', 'Arrêté de voirie', '{OLD}'),
            (2, 'quiet', 'old-matched', 'Reconnaissance faciale', '{OLD}'),
            (3, 'fresh', 'new', 'Reconnaissance faciale au stade', '{RECENT}');
        INSERT INTO items (id, source_id, key, title, first_seen, dossier) VALUES
            (4, 'quiet', 'old-followed', 'Étape du dossier', '{OLD}', 'pjl-1');
        INSERT INTO dossiers (dossier, source_id, created) VALUES ('pjl-1', 'quiet', '{OLD}');
        INSERT INTO matches (item_id, topic, keywords) VALUES
            (2, 'biometrie', '[]'), (3, 'biometrie', '[]');
        INSERT INTO alerts (item_id, destination, topics, status, created, sent_at, target)
            VALUES (3, '42', '["biometrie"]', 'sent', '{RECENT}', '{RECENT}', 'telegram');
        """
    )
    conn.commit()
    store.database.close()


def started(db: Path) -> None:
    """Wait for the run loop's first heartbeat: the jobs are scheduled by then (on the
    clock they started with), as ``watcher run`` schedules them before it polls."""

    def beat() -> bool:
        with sqlite3.connect(db) as connection:
            row = connection.execute("SELECT 1 FROM meta WHERE key = 'heartbeat'").fetchone()
        connection.close()
        return row is not None

    wait_until(beat, "the run loop's first heartbeat")


def titles(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        found = {title for (title,) in connection.execute("SELECT title FROM items")}
    connection.close()
    return found


def reports(fake: FakeTelegram) -> list[str]:
    """The weekly reports the maintainer received (beside other notices, a drift's)."""
    return [m.text for m in fake.messages_to(MAINTAINER) if "Rapport de la semaine" in m.text]


def test_nightly_backup_and_weekly_report_through_watcher_run(
    workdir: Path,
    feed_server: FeedServer,
    telegram: tuple[FakeTelegram, str],
    watchers: list[Watcher],
) -> None:
    fake, api_url = telegram
    feed_server.routes["/broken"] = Route(status=500)
    urls = {"broken": feed_server.url("/broken")}
    urls |= {name: feed_server.serve(f"/{name}", EMPTY) for name in ("fresh", "quiet")}
    write_config(
        workdir,
        [{"id": i, "name": i, "url": url, "interval": "1h"} for i, url in urls.items()],
        extra=f"maintainers: [{MAINTAINER}]\n"
        "settings:\n  backup_dir: backups\n  backup_keep: 2\n  retention: 365d\n",
    )
    db, backups, clock = workdir / "watcher.db", workdir / "backups", workdir / "clock"
    seed(db)
    set_clock(clock, datetime(2026, 12, 7, 3, 0))  # a Monday night
    watcher = Watcher(workdir, telegram_env(api_url) | faketime_env(clock))
    watchers.append(watcher)
    started(db)

    set_clock(clock, datetime(2026, 12, 7, 3, 30))  # the night's jobs are due
    wait_for_text(watcher.log, "nightly maintenance: 1 unmatched old item(s) pruned")
    (first,) = backups.glob("watcher-*.db")
    assert first.name.startswith("watcher-20261207-0330")
    # Only the old item that never matched and is followed by no dossier is gone.
    assert titles(db) == {
        "Reconnaissance faciale",
        "Reconnaissance faciale au stade",
        "Étape du dossier",
    }
    assert titles(first) == titles(db) | {"Arrêté de voirie"}  # the backup is taken first
    assert reports(fake) == []  # the report waits for Monday morning

    set_clock(clock, datetime(2026, 12, 7, 9, 0))
    fake.wait_for(lambda: reports(fake))
    (report,) = reports(fake)
    assert "Rapport de la semaine" in report
    assert "1 en bonne santé, 1 silencieuses" in report and "1 en échec" in report
    assert "En échec : broken" in report and "Silencieuses : quiet" in report
    assert "Alertes par sujet : Surveillance biométrique 1" in report
    assert "Alertes par source : fresh 1" in report

    for day in (8, 9):  # two more nights: the two newest backups are kept
        set_clock(clock, datetime(2026, 12, day, 3, 30))
        wait_until(lambda day=day: list(backups.glob(f"watcher-202612{day:02d}-*")), "a backup")
    wait_until(lambda: not first.exists(), "the oldest backup removed")
    kept = sorted(backups.iterdir())
    assert [p.name[:17] for p in kept] == ["watcher-20261208-", "watcher-20261209-"]
    assert watcher.stop() == 0
    assert len(reports(fake)) == 1  # one report a week
    assert "Traceback" not in watcher.errors()

    # A restored backup opens, and `watcher status` reads it.
    restored = workdir / "restored.db"
    restored.write_bytes(kept[-1].read_bytes())
    assert sqlite3.connect(restored).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    result = run("--db", str(restored), "status")
    assert result.code == 0, result.err
    lines = {line.split()[0]: line for line in result.out.splitlines()[1:4]}
    assert set(lines) == {"broken", "fresh", "quiet"}
    assert "HTTP 500" in lines["broken"]


def test_a_night_whose_backup_fails_is_one_line_and_the_next_night_backs_up(
    workdir: Path,
    feed_server: FeedServer,
    watchers: list[Watcher],
) -> None:
    url = feed_server.serve("/feed", EMPTY)
    write_config(
        workdir,
        [{"id": "feed", "name": "Feed", "url": url, "interval": "1h"}],
        extra="settings:\n  backup_dir: disk/backups\n  retention: 365d\n",
    )
    db, clock = workdir / "watcher.db", workdir / "clock"
    seed(db)
    (workdir / "disk").write_text("a file where the backups' folder should be", encoding="utf-8")
    set_clock(clock, datetime(2026, 12, 7, 3, 0))
    watcher = Watcher(workdir, python_env() | faketime_env(clock))
    watchers.append(watcher)
    started(db)

    set_clock(clock, datetime(2026, 12, 7, 3, 30))
    log = wait_for_text(watcher.log, "scheduled job failed, it runs again next time")
    (line,) = [line for line in log.splitlines() if "scheduled job failed" in line]
    assert "disk/backups" in line
    # Nothing is pruned on a night without a backup.
    assert "Arrêté de voirie" in titles(db)

    (workdir / "disk").unlink()
    set_clock(clock, datetime(2026, 12, 8, 3, 30))
    wait_for_text(watcher.log, "nightly maintenance: 1 unmatched old item(s) pruned")
    assert [p.name[:17] for p in (workdir / "disk" / "backups").iterdir()] == ["watcher-20261208-"]
    assert watcher.stop() == 0
    assert "Traceback" not in watcher.errors()
