"""`watcher run` against many local sources: are requests spread, and per-host limited?

Runs the real CLI for a bounded time against N RSS sources served from a few
loopback addresses (each answer after 200 ms), then sends SIGTERM. The server
side records when each request arrived and how many were in flight per host:
printed as a histogram of requests per second over the run, the peak rate, and
the most requests in flight on one host (goal: never above ``settings.per_host``),
then how long the shutdown took (goal: under 10 s).

    python benchmarks/bench_run.py [--sources 1000] [--interval 60] [--seconds 75]
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.localfeeds import feed, serving  # noqa: E402
from tests.conftest import python_env, write_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=60, help="seconds")
    parser.add_argument("--seconds", type=float, default=75.0, help="how long to let it run")
    parser.add_argument("--hosts", type=int, default=2)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--bucket", type=float, default=2.0, help="histogram step, seconds")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="watcher-run-"))
    with serving(hosts=args.hosts, delay=0.2) as (farm, bases):
        entries = []
        for n in range(args.sources):
            farm.bodies[f"/c{n}"] = feed(n, 0, 20)
            entries.append(
                {
                    "id": f"conseil-{n}",
                    "name": f"Conseil {n}",
                    "url": f"{bases[n % len(bases)]}/c{n}",
                    "interval": f"{args.interval}s",
                }
            )
        settings = f"settings:\n  concurrency: {args.concurrency}\n  per_host: {args.per_host}\n"
        write_config(workdir, entries, extra=settings)
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "watcher", "run"],
            cwd=workdir,
            env=python_env(),
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "run.log", "w"),  # noqa: SIM115
        )
        time.sleep(args.seconds)
        asked = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
        stopped = time.monotonic() - asked
        hits = list(farm.hits)
        peak_host = dict(farm.max_in_flight)
        peak_total = farm.max_in_flight_total
    per_second = Counter(int(hit.at - started) for hit in hits)
    buckets = Counter(int((hit.at - started) // args.bucket) for hit in hits)
    polled = len({hit.path for hit in hits})
    print(
        f"`watcher run` for {args.seconds:g} s: {args.sources} sources, "
        f"interval {args.interval} s, "
        f"concurrency {args.concurrency}, per_host {args.per_host}, {args.hosts} host(s); "
        f"{len(hits)} requests, {polled} distinct sources polled; {os.cpu_count()} cores"
    )
    print(f"requests per second, in {args.bucket:g}-second steps (each # = 1 request/s):")
    scale = args.bucket
    for index in range(int(args.seconds // args.bucket) + 1):
        rate = buckets.get(index, 0) / scale
        start = index * args.bucket
        print(f"  {start:5.0f}-{start + args.bucket:<4.0f}s {rate:6.1f}/s {'#' * round(rate)}")
    print(
        f"peak: {max(per_second.values(), default=0)} requests in one second; even spread "
        f"would be {args.sources / min(args.interval, 300):.1f}/s"
    )
    print(
        f"most requests in flight: {peak_total} in all, per host {peak_host} "
        f"(per_host {args.per_host})  goal: never above per_host"
    )
    print(f"SIGTERM -> exit {code} in {stopped:.2f} s  goal: exit 0 within 10 s")


if __name__ == "__main__":
    main()
