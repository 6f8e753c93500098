"""Bursts at scale: N subscribers x M alerts at once, through the fake Bot API, limits on.

The issue's case is 10,000 subscribers and a burst of 200 alerts: each chat must
get its alerts as a few grouped messages, not 200 messages, so that the whole
fan-out takes about what Telegram's 30 msg/s cap allows for those grouped
messages. Printed: messages sent, messages per chat, the sending time, the time
the cap allows for that many messages, their ratio (goal: <= 2), and how many
alerts were lost or are still pending (goal: 0).

    python benchmarks/bench_burst.py [--subscribers 10000] [--alerts 200]

The full case sends about 50,000 messages (about 29 minutes at the cap) from an
outbox of 2 million alerts; a scaled-down run (--subscribers 600) shows the ratio
in a few minutes. Also printed: the delivering process's peak memory.
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import python_env, write_config  # noqa: E402
from tests.fake_telegram import TOKEN, running_fake_telegram  # noqa: E402
from tests.feed_server import running_feed_server  # noqa: E402
from tests.test_telegram_delivery import feed_items  # noqa: E402
from watcher.store import Store  # noqa: E402

TELEGRAM_CAP = 30.0  # messages per second, all chats together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--alerts", type=int, default=200)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="watcher-burst-") as tmp,
        running_feed_server() as feeds,
        running_fake_telegram() as (fake, api_url),
    ):
        workdir = Path(tmp)
        url = feeds.serve("/feed", feed_items(0))
        write_config(workdir, [{"id": "src", "name": "Source", "url": url}])
        env = python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url)
        watcher = [sys.executable, "-m", "watcher", "poll"]
        subprocess.run(watcher, cwd=workdir, env=env, check=True, capture_output=True)
        store = Store(workdir / "watcher.db")
        now = datetime.now(UTC).isoformat()
        with store.database.transaction() as db:  # subscribers in bulk, as /start would
            chats = range(10_000_000, 10_000_000 + args.subscribers)
            db.conn.executemany(
                "INSERT INTO subscribers (chat_id, chat_type, created) VALUES (?, 'private', ?)",
                [(chat, now) for chat in chats],
            )
            db.conn.executemany(
                "INSERT INTO subscriptions (chat_id, topic) VALUES (?, 'biometrie')",
                [(chat,) for chat in chats],
            )
        feeds.serve("/feed", feed_items(args.alerts))
        started = time.monotonic()
        done = subprocess.run(watcher, cwd=workdir, env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        if done.returncode:
            print(done.stderr[-2000:])
        sent = len(fake.sent)
        span = fake.sent[-1].at - fake.sent[0].at if sent > 1 else 0.0
        per_chat = Counter(m.chat_id for m in fake.sent)
        statuses = store.outbox.alert_counts()
    expected = args.subscribers * args.alerts
    allowed = sent / TELEGRAM_CAP
    print(
        f"{args.subscribers} subscribers x {args.alerts} alerts = {expected} alerts; "
        f"sent {statuses.get('sent', 0)}, pending {statuses.get('pending', 0)}"
    )
    print(
        f"messages: {sent} ({sent / max(len(per_chat), 1):.1f} per chat, "
        f"max {max(per_chat.values(), default=0)})"
    )
    print(
        f"sending time {span:.0f} s; the cap allows {allowed:.0f} s for {sent} messages: "
        f"ratio {span / max(allowed, 1e-9):.2f} (goal <= 2); whole `watcher poll` {wall:.0f} s"
    )
    print(f"429 answers: {fake.rate_limited}, retry_after breaches: {len(fake.breaches)}")
    print(f"peak memory of `watcher poll`: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
