"""Soak: `watcher run` for N minutes against 200 local sources and the fake Bot API, limits on.

Each source starts empty, then publishes items at random moments (one every
--item-every seconds on average, half of them matching, the feed keeping its
last 20 as real feeds do). Ten private chats and a channel follow the topic.
The fake Bot API answers 429 to whatever exceeds Telegram's limits. At the end
the stream stops, the outbox is given a minute to drain, and `watcher run`
gets SIGTERM. Printed: alerts delivered / expected, duplicates, what is still
pending, 429s and retry_after breaches, and the process's memory (RSS) after
warm-up and at the end, and every 2 minutes (targets: all delivered, no duplicates,
growth < 10%).

    python benchmarks/soak.py [--minutes 10] [--sources 200] [--item-every 120]
"""

import argparse
import random
import re
import signal
import statistics
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

from tests.conftest import python_env, write_config  # noqa: E402
from tests.fake_telegram import TOKEN, running_fake_telegram  # noqa: E402
from tests.feed_server import Route, running_feed_server  # noqa: E402
from watcher.store import Store  # noqa: E402
from watcher.store.subscribers import Subscribers  # noqa: E402

CHATS = list(range(7001, 7011))
CHANNEL = "@veille"
WINDOW = 20  # items a feed keeps
TAG = re.compile(r"\bT(\d+)x(\d+)\b")
START_DELAY = 20.0  # the stream starts after every source's first poll (spread over 15 s)


class Stream:
    """Every source's items, published at random moments; records what was served."""

    def __init__(self, sources: int, every: float, seed: int) -> None:
        self.random = random.Random(seed)
        self.every = every
        self.lock = threading.Lock()
        self.items: dict[int, list[int]] = {s: [] for s in range(sources)}
        start = time.monotonic() + START_DELAY
        self.next_at = {s: start + self.random.expovariate(1 / every) for s in range(sources)}
        self.served: dict[int, set[int]] = {s: set() for s in range(sources)}
        self.first: dict[int, set[int]] = {}
        self.running = True

    def feed(self, source: int) -> bytes:
        with self.lock:
            now = time.monotonic()
            while self.running and self.next_at[source] <= now:
                self.items[source].append(len(self.items[source]))
                self.next_at[source] += self.random.expovariate(1 / self.every)
            shown = self.items[source][-WINDOW:]
            self.served[source].update(shown)
            self.first.setdefault(source, set(shown))
        return rss(source, shown)

    def published(self) -> int:
        with self.lock:
            return sum(len(numbers) for numbers in self.items.values())

    def expected(self) -> set[tuple[int, int]]:
        """Matching items watcher was shown after its first look at each source."""
        with self.lock:
            return {
                (s, n)
                for s, numbers in self.served.items()
                for n in numbers - self.first.get(s, set())
                if matching(n)
            }


def matching(n: int) -> bool:
    return n % 2 == 0


def rss(source: int, numbers: list[int]) -> bytes:
    entries = "".join(
        (
            f"<item><title>Texte T{source}x{n} sur la reconnaissance faciale</title>"
            if matching(n)
            else f"<item><title>Budget annexe T{source}x{n}</title>"
        )
        + f"<link>https://example.org/{source}/{n}</link><guid>{source}-{n}</guid>"
        f"<description>Délibération numéro {n}.</description></item>"
        for n in reversed(numbers)
    )
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{entries}</channel></rss>"
    ).encode()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def rss_at(samples: list[tuple[float, int]], moment: float) -> int:
    """The RSS (KiB) sampled nearest to ``moment`` seconds after the start."""
    return min(samples, key=lambda sample: abs(sample[0] - moment))[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--item-every", type=float, default=120.0, help="seconds, per source")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="watcher-soak-"))
    stream = Stream(args.sources, args.item_every, args.seed)
    duration = args.minutes * 60
    warm_up = min(120.0, duration / 5)

    with running_feed_server() as feeds, running_fake_telegram() as (fake, api_url):
        for source in range(args.sources):
            feeds.handle(
                f"/feed{source}",
                lambda seen, s=source: Route(body=stream.feed(s)),  # type: ignore[misc]
            )
        write_config(
            workdir,
            [
                {"id": f"s{s}", "name": f"Source {s}", "url": feeds.url(f"/feed{s}")}
                for s in range(args.sources)
            ],
            extra=(
                f"channels:\n  - chat_id: '{CHANNEL}'\n    topics: [biometrie]\n"
                "settings:\n  interval: 15s\n  delivery_backoff: 30s\n"
            ),
        )
        subscribers = Subscribers(Store(workdir / "watcher.db"))
        for chat_id in CHATS:
            subscribers.start(chat_id, "private", now=datetime.now(UTC))
            subscribers.subscribe(chat_id, "biometrie")
        env = python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url)
        log = (workdir / "watcher.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", "run"],
            cwd=workdir,
            env=env,
            stdout=log,
            stderr=log,
        )
        started = time.monotonic()
        samples: list[tuple[float, int]] = []
        while time.monotonic() - started < duration and process.poll() is None:
            samples.append((time.monotonic() - started, rss_kib(process.pid)))
            time.sleep(5)
        with stream.lock:
            stream.running = False
        destinations = [*map(str, CHATS), CHANNEL]
        expected = {(d, tag) for d in destinations for tag in stream.expected()}

        def received() -> Counter[tuple[str, tuple[int, int]]]:
            with fake.lock:
                sent = list(fake.sent)
            return Counter(
                (str(m.chat_id), (int(s), int(n))) for m in sent for s, n in TAG.findall(m.text)
            )

        drain_until = time.monotonic() + 90
        while time.monotonic() < drain_until and not expected <= set(received()):
            time.sleep(1)
        samples.append((time.monotonic() - started, rss_kib(process.pid)))
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        log.close()
        counts = received()
        pending = Store(workdir / "watcher.db").outbox.outbox_length()

    delivered = expected & set(counts)
    duplicates = sum(count - 1 for count in counts.values() if count > 1)
    unexpected = set(counts) - expected
    warm = [kib for at, kib in samples if warm_up - 15 <= at <= warm_up + 15]
    end = [kib for _, kib in samples[-4:]]
    before, after = statistics.median(warm), statistics.median(end)
    text = (workdir / "watcher.log").read_text()
    print(
        f"soak: {args.minutes:g} min, {args.sources} sources, {len(destinations)} destinations, "
        f"{stream.published()} items published ({len(stream.expected())} matching and seen)"
    )
    print(
        f"delivered/expected: {len(delivered)}/{len(expected)}, duplicates: {duplicates}, "
        f"unexpected: {len(unexpected)}, still pending: {pending}  "
        "(target: all delivered, no duplicates)"
    )
    print(f"429 answers: {fake.rate_limited}, retry_after breaches: {len(fake.breaches)}")
    print(
        f"memory (RSS): {before / 1024:.1f} MB after {warm_up:.0f} s of warm-up, "
        f"{after / 1024:.1f} MB at the end: {100 * (after - before) / before:+.1f}% "
        "(target: under 10%)"
    )
    # Whether memory levels off or keeps climbing: the RSS at each 2-minute mark.
    marks = [
        f"{minute} min {rss_at(samples, 60 * minute) / 1024:.1f}"
        for minute in range(2, int(args.minutes) + 1, 2)
    ]
    print("memory by time: " + ", ".join(marks) + " (MB)")
    print(
        f"watcher run exited {code} on SIGTERM; tracebacks in its log: {text.count('Traceback')}; "
        f"log: {workdir / 'watcher.log'}"
    )


if __name__ == "__main__":
    main()
