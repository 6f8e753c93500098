"""Fan-out: 1,000 alerts to 1,000 subscribers through the fake Bot API, limits on.

The fake server (tests/fake_telegram.py) refuses with 429 whatever exceeds
1 msg/s per private chat, 20/min per group and 30/s overall. This prints the
rate achieved between the first and the last accepted message (goal: >= 27
msg/s, 90% of the 30/s cap), the 429s received, and how many alerts were lost
(goal: 0).

    python benchmarks/bench_fanout.py [--subscribers 1000]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import python_env, write_config  # noqa: E402
from tests.fake_telegram import TOKEN, running_fake_telegram  # noqa: E402
from tests.feed_server import running_feed_server  # noqa: E402
from tests.test_telegram_delivery import feed_items  # noqa: E402
from watcher.store import Store  # noqa: E402
from watcher.store.subscribers import Subscribers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="watcher-fanout-"))
    with running_feed_server() as feeds, running_fake_telegram() as (fake, api_url):
        url = feeds.serve("/feed", feed_items(0))
        write_config(workdir, [{"id": "src", "name": "Source", "url": url}])
        env = python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url)
        watcher = [sys.executable, "-m", "watcher", "poll"]
        subprocess.run(watcher, cwd=workdir, env=env, check=True, capture_output=True)
        store = Store(workdir / "watcher.db")
        subscribers = Subscribers(store)
        for chat_id in range(10_000, 10_000 + args.subscribers):
            subscribers.start(chat_id, "private", now=datetime.now(UTC))
            subscribers.subscribe(chat_id, "biometrie")
        feeds.serve("/feed", feed_items(1))
        started = time.monotonic()
        subprocess.run(watcher, cwd=workdir, env=env, check=True, capture_output=True)
        wall = time.monotonic() - started
        sent = len(fake.sent)
        span = fake.sent[-1].at - fake.sent[0].at if sent > 1 else 0.0
        received = {m.chat_id for m in fake.sent}
        lost = args.subscribers - len(received)
        pending = store.outbox.outbox_length()
    print(
        f"alerts: {args.subscribers}, accepted by Telegram: {sent}, lost: {lost}, "
        f"still pending: {pending}"
    )
    print(
        f"rate: {(sent - 1) / span:.1f} msg/s between first and last message "
        f"({span:.1f} s; whole `watcher poll` {wall:.1f} s)  goal >= 27 msg/s"
    )
    print(f"429 answers: {fake.rate_limited}, retry_after breaches: {len(fake.breaches)}")


if __name__ == "__main__":
    main()
