"""Costs that must not grow with the wrong thing (issue 8), each measured through the CLI.

(a) a cycle of 1,000 sources all answering 304, with and without a Telegram
    token, at 10,000 subscribers: the same cost, since routing (the subscriber
    map) is only read when a poll matched something;
(b) `watcher status` on a database of 1,000,000 items: under a second;
(d) the first poll of a source of many items: saved in one transaction.

(c), the spread of `watcher run` and its per-host limit, is bench_run.py.

    python benchmarks/bench_costs.py [--only a b d] [--items 1000000]
"""

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_poll import watcher_poll  # noqa: E402
from benchmarks.localfeeds import feed, serving  # noqa: E402
from tests.conftest import python_env, run, write_config  # noqa: E402
from tests.fake_telegram import TOKEN, running_fake_telegram  # noqa: E402
from watcher.store import Store  # noqa: E402


def sources_config(workdir: Path, bases: list[str], count: int, extra: str = "") -> None:
    entries = [
        {"id": f"conseil-{n}", "name": f"Conseil {n}", "url": f"{bases[n % len(bases)]}/c{n}"}
        for n in range(count)
    ]
    write_config(workdir, entries, extra=extra)


def add_subscribers(db: Path, count: int) -> None:
    Store(db)  # migrated
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO subscribers (chat_id, chat_type, created, started_at) VALUES (?,?,?,?)",
            [(10_000 + n, "private", now, now) for n in range(count)],
        )
        conn.executemany(
            "INSERT INTO subscriptions (chat_id, topic) VALUES (?, 'biometrie')",
            [(10_000 + n,) for n in range(count)],
        )


def cost_of_304s(sources: int, subscribers: int) -> None:
    """At two sizes: a difference that does not grow with the sources is start-up, not routing."""
    print(f"(a) a cycle of sources answering 304, {subscribers} subscribers")
    with serving(hosts=4, delay=0.0) as (farm, bases), running_fake_telegram() as (_, api):
        for n in range(sources):
            farm.bodies[f"/c{n}"] = feed(n, 0, 20)
        for count in (sources // 10, sources):
            walls = []
            for label, env in (
                ("without a token", {}),
                ("with a token", {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api}),
            ):
                workdir = Path(tempfile.mkdtemp(prefix="watcher-304-"))
                sources_config(workdir, bases, count)
                add_subscribers(workdir / "watcher.db", subscribers)
                watcher_poll(workdir, **env)  # the backlog, and the validators for next time
                farm.reset_counts()
                cycle = watcher_poll(workdir, **env)
                walls.append((cycle.wall, cycle.cpu))
                answers = Counter(hit.status for hit in farm.hits)
                print(
                    f"  {count:>5} sources {label:<16} wall {cycle.wall:5.2f} s, "
                    f"CPU {cycle.cpu:5.2f} s, answers {dict(answers)}"
                )
            print(
                f"  {count:>5} sources: the token adds {walls[1][0] - walls[0][0]:+.2f} s wall, "
                f"{walls[1][1] - walls[0][1]:+.2f} s CPU (the Telegram stage starting)"
            )


def build_items(db: Path, sources: int, items: int, sent_every: int) -> float:
    """A database of ``items`` items over ``sources`` sources, one in ``sent_every`` alerted."""
    started = time.monotonic()
    Store(db)
    now = datetime.now(UTC).isoformat(timespec="milliseconds")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous = OFF")
    per_source = items // sources
    with conn:
        conn.executemany(
            "INSERT INTO sources (id, initialized, last_success, next_check) VALUES (?, 1, ?, ?)",
            [(f"conseil-{s}", now, now) for s in range(sources)],
        )
        rows = (
            (
                n,
                f"conseil-{n // per_source}",
                f"c{n // per_source}-d{n}",
                f"Délibération n° {n} du conseil",
                f"https://example.org/d/{n}",
                "Le conseil municipal délibère sur le budget primitif des travaux de voirie.",
                now,
                f"https://example.org/d/{n}",
                f"{n:024x}",
            )
            for n in range(items)
        )
        conn.executemany(
            """INSERT INTO items (id, source_id, key, title, url, summary, first_seen,
               link_key, fingerprint) VALUES (?,?,?,?,?,?,?,?,?)""",
            rows,
        )
        conn.executemany(
            """INSERT INTO matches (item_id, topic, keywords) VALUES (?, 'biometrie', ?)""",
            ((n, json.dumps(["reconnaissance faciale"])) for n in range(0, items, sent_every)),
        )
        conn.executemany(
            """INSERT INTO alerts (item_id, destination, target, topics, status, created,
               sent_at) VALUES (?, 'console', 'console', '["biometrie"]', 'sent', ?, ?)""",
            ((n, now, now) for n in range(0, items, sent_every)),
        )
    conn.close()
    return time.monotonic() - started


def status_at_scale(sources: int, items: int) -> None:
    print(f"(b) `watcher status` on {items:,} items over {sources} sources")
    workdir = Path(tempfile.mkdtemp(prefix="watcher-status-"))
    sources_config(workdir, ["http://127.0.0.1:9"], sources)
    built = build_items(workdir / "watcher.db", sources, items, sent_every=50)
    size = (workdir / "watcher.db").stat().st_size / 2**20
    print(f"  database built in {built:.1f} s ({size:.0f} MB, {items // 50:,} alerts sent)")
    for attempt in ("first", "second"):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "watcher", "status"],
            cwd=workdir,
            env=python_env(),
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - started
        lines = result.stdout.splitlines()
        print(
            f"  {attempt} `watcher status`: {wall:.2f} s (process start included), exit "
            f"{result.returncode}, {len(lines)} lines; e.g. {lines[1].split()[0]} "
            f"{' '.join(lines[1].split()[-2:])}"
        )
    store = Store(workdir / "watcher.db")
    started = time.monotonic()
    store.sources.statuses([f"conseil-{n}" for n in range(sources)])
    print(f"  SourceTable.statuses alone: {time.monotonic() - started:.3f} s  goal: status < 1 s")


class TransactionCounter:
    """Counts, per SQLite connection, the transactions that inserted items."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: dict[int, int] = {}
        self.committed: list[int] = []  # item inserts of each committed transaction

    def trace(self, conn_id: int, statement: str) -> None:
        head = statement.lstrip()[:20].upper()
        if head.startswith("INSERT INTO ITEMS_"):  # the search index's trigger, not an item
            return
        with self.lock:
            if head.startswith("BEGIN"):
                self.open[conn_id] = 0
            elif head.startswith("INSERT INTO ITEMS"):
                if conn_id in self.open:
                    self.open[conn_id] += 1
                else:
                    self.committed.append(1)  # an insert outside any transaction
            elif head.startswith(("COMMIT", "END")) and conn_id in self.open:
                count = self.open.pop(conn_id)
                if count:
                    self.committed.append(count)


def first_poll_in_one_transaction(count: int) -> None:
    print(f"(d) the first poll of a source of {count} items")
    counter = TransactionCounter()
    original = sqlite3.connect

    def connect(*args, **kwargs):  # type: ignore[no-untyped-def]
        conn = original(*args, **kwargs)
        conn.set_trace_callback(lambda statement: counter.trace(id(conn), statement))
        return conn

    workdir = Path(tempfile.mkdtemp(prefix="watcher-first-"))
    with serving(hosts=1, delay=0.0) as (farm, bases):
        farm.bodies["/c0"] = feed(0, 0, count)
        write_config(workdir, [{"id": "big", "name": "Big", "url": f"{bases[0]}/c0"}])
        sqlite3.connect = connect  # type: ignore[assignment]
        import os

        cwd = os.getcwd()
        os.chdir(workdir)
        try:
            started = time.monotonic()
            result = run("poll")
            wall = time.monotonic() - started
        finally:
            os.chdir(cwd)
            sqlite3.connect = original  # type: ignore[assignment]
    stored = sqlite3.connect(workdir / "watcher.db").execute("SELECT COUNT(*) FROM items")
    print(
        f"  `watcher poll` (in-process) {wall:.2f} s, exit {result.code}: {stored.fetchone()[0]} "
        f"items stored by {len(counter.committed)} transaction(s) that wrote items"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", default=["a", "b", "d"], choices=["a", "b", "d"])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--first-poll-items", type=int, default=500)
    args = parser.parse_args()
    if "a" in args.only:
        cost_of_304s(args.sources, args.subscribers)
    if "b" in args.only:
        status_at_scale(args.sources, args.items)
    if "d" in args.only:
        first_poll_in_one_transaction(args.first_poll_items)


if __name__ == "__main__":
    main()
