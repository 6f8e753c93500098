"""The wall-clock jobs (``schedule``) on a fixed clock: the weekly report on Monday
morning, the nightly backup, pruning and index upkeep; a restored backup opens."""

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import schedule

from tests.conftest import run, write_config
from watcher.config import load_config
from watcher.jobs import Jobs, JobsHost
from watcher.store import Store


class Clock:
    """The one time both ``schedule`` and the jobs read (local, naive, as schedule wants)."""

    current = dt.datetime(2026, 12, 6, 23, 0)  # a Sunday evening


class FixedDatetime(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> "FixedDatetime":
        moment = Clock.current if tz is None else Clock.current.astimezone(tz)
        return cls.fromtimestamp(moment.timestamp(), tz)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Clock]]:
    # schedule reads the time through its module's ``datetime``: the library's own seam.
    shim = SimpleNamespace(datetime=FixedDatetime, timedelta=dt.timedelta, time=dt.time)
    monkeypatch.setattr(schedule, "datetime", shim)
    Clock.current = dt.datetime(2026, 12, 6, 23, 0)
    yield Clock


def seed(db: Path) -> None:
    """Three sources (failing, fresh, silent) and items old and new, matched or not."""
    store = Store(db)
    conn = store.database.db.conn
    old, recent = "2023-01-01T00:00:00.000+00:00", "2026-12-05T10:00:00.000+00:00"
    conn.executescript(
        f"""
        INSERT INTO sources (id, consecutive_errors, last_error) VALUES ('broken', 3, 'HTTP 500');
        INSERT INTO sources (id, consecutive_errors) VALUES ('fresh', 0), ('quiet', 0);
        INSERT INTO items (id, source_id, key, title, first_seen) VALUES
            (1, 'quiet', 'old-unmatched', 'Arrêté de voirie', '{old}'),
            (2, 'quiet', 'old-matched', 'Reconnaissance faciale', '{old}'),
            (3, 'fresh', 'new', 'Reconnaissance faciale au stade', '{recent}');
        INSERT INTO items (id, source_id, key, title, first_seen, dossier) VALUES
            (4, 'quiet', 'old-followed', 'Étape du dossier', '{old}', 'pjl-1');
        INSERT INTO dossiers (dossier, source_id, created) VALUES ('pjl-1', 'quiet', '{old}');
        INSERT INTO matches (item_id, topic, keywords) VALUES
            (2, 'biometrie', '[]'), (3, 'biometrie', '[]');
        INSERT INTO alerts (item_id, destination, topics, status, created, sent_at, target)
            VALUES (3, '42', '["biometrie"]', 'sent', '{recent}', '{recent}', 'telegram');
        """
    )
    conn.commit()


def test_weekly_report_and_nightly_maintenance_on_a_fixed_clock(
    workdir: Path, clock: type[Clock]
) -> None:
    write_config(
        workdir,
        [
            {"id": id_, "name": id_, "url": f"https://example.org/{id_}"}
            for id_ in ("broken", "fresh", "quiet")
        ],
        extra="settings:\n  backup_dir: backups\n  backup_keep: 2\n  retention: 365d\n",
    )
    seed(workdir / "watcher.db")
    store = Store(workdir / "watcher.db")
    config = load_config(workdir / "feeds.yml")
    told: list[str] = []
    digests: list[dt.datetime] = []

    async def tell(text: str) -> None:
        told.append(text)

    async def send_digests(now: dt.datetime) -> int:
        digests.append(now)
        return 0

    async def blocking(function, *args, **kwargs):  # type: ignore[no-untyped-def]
        return function(*args, **kwargs)

    jobs = Jobs(
        JobsHost(store, lambda: config, blocking, tell, send_digests),
        now=lambda: Clock.current.astimezone(dt.UTC),
    )

    def at(*moment: int) -> None:
        clock.current = dt.datetime(*moment)
        asyncio.run(jobs.run_pending())

    at(2026, 12, 6, 23, 30)  # Sunday: digests checked each minute, nothing else
    assert told == [] and len(digests) == 1
    assert not (workdir / "backups").exists()

    at(2026, 12, 7, 3, 31)  # Monday night: the maintenance
    (first,) = sorted((workdir / "backups").glob("watcher-*.db"))
    titles = {row[0] for row in store.database.db.execute("SELECT title FROM items")}
    assert titles == {
        "Reconnaissance faciale",
        "Reconnaissance faciale au stade",
        "Étape du dossier",
    }
    assert told == []

    at(2026, 12, 7, 9, 0, 30)  # Monday morning: the weekly report, once
    at(2026, 12, 7, 9, 5)
    (report,) = told
    assert "1 en bonne santé, 1 silencieuses" in report and "1 en échec" in report
    assert "En échec : broken" in report and "Silencieuses : quiet" in report
    assert "Alertes par sujet : Surveillance biométrique 1" in report
    assert "Alertes par source : fresh 1" in report
    assert "Base de données : " in report

    at(2026, 12, 8, 3, 30, 5)
    at(2026, 12, 9, 3, 30, 5)
    kept = sorted((workdir / "backups").glob("watcher-*.db"))
    assert len(kept) == 2 and first not in kept  # the last N are kept

    # A restored backup opens, and `watcher status` reads it.
    restored = workdir / "restored.db"
    restored.write_bytes(kept[-1].read_bytes())
    assert sqlite3.connect(restored).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    result = run("--db", str(restored), "status")
    assert result.code == 0, result.err
    lines = {line.split()[0]: line for line in result.out.splitlines()[1:4]}
    assert set(lines) == {"broken", "fresh", "quiet"}
    assert "HTTP 500 (3x" in lines["broken"]
