"""One `watcher poll` cycle over 1,000 RSS sources on slow local servers.

Each source is a feed of about 20 items on one of several loopback addresses
(127.0.0.1, 127.0.0.2...: sources spread over hosts as in real life, so that
``settings.per_host`` limits what it would limit); every request is answered
after 200 ms. A first cycle notes the backlog; then every feed publishes one new
item and the second cycle, the one measured, reads them all. Run through the
real CLI in a subprocess, once per concurrency. Prints the wall time against
the ideal for the concurrency (sources x delay / concurrency), the CPU time of
the watcher process (user + sys: how much it could spread over the cores) and
its peak memory (ru_maxrss). Goal at concurrency 32: within 2x of the ideal,
peak memory under 150 MB.

    python benchmarks/bench_poll.py [--sources 1000] [--concurrency 4 32] [--hosts 16]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.localfeeds import FeedFarm, feed, serving  # noqa: E402
from tests.conftest import python_env, write_config  # noqa: E402
from watcher.config import Settings  # noqa: E402


class TreeSampler:
    """CPU and memory of a process and its descendants (parsing workers), read from /proc.

    ``wait4`` only counts the processes a parent reaped: the parsing workers are
    children of a fork server, so they are sampled here instead, every 50 ms.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.cpu: dict[int, float] = {}  # last user+sys seen per process
        self.peak_rss_mb = 0.0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(0.05):
            children: dict[int, list[int]] = {}
            stats: dict[int, list[str]] = {}
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    raw = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                fields = raw[raw.rindex(")") + 2 :].split()
                stats[int(entry)] = fields
                children.setdefault(int(fields[1]), []).append(int(entry))
            tree, todo = [], [self.pid]
            while todo:
                pid = todo.pop()
                if pid in stats:
                    tree.append(pid)
                    todo.extend(children.get(pid, []))
            total_rss = 0.0
            for pid in tree:
                fields = stats[pid]
                self.cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
                total_rss += _pss_mb(pid)
            self.peak_rss_mb = max(self.peak_rss_mb, total_rss)
            self.peak_processes = max(self.peak_processes, len(tree))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _pss_mb(pid: int) -> float:
    """Proportional set size: pages shared with the fork server are counted once in all."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass(frozen=True)
class Cycle:
    wall: float
    max_rss_mb: float
    code: int
    summary: str
    cpu: float  # user + sys of watcher and every process it started
    helpers_cpu: float  # of which its helper processes (parsing workers)
    tree_rss_mb: float
    processes: int


def watcher_poll(workdir: Path, command: str = "poll", **env: str) -> Cycle:
    """One `watcher poll` in a subprocess, with that process's own resource usage."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "watcher", command],
        cwd=workdir,
        env=python_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    sampler = TreeSampler(process.pid)
    assert process.stderr is not None
    err = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    sampler.stop()
    others = sum(cpu for pid, cpu in sampler.cpu.items() if pid != process.pid)
    process.returncode = os.waitstatus_to_exitcode(status)
    summary = next((line for line in err.splitlines() if "source(s) polled" in line), err[-300:])
    return Cycle(
        wall,
        usage.ru_maxrss / 1024,  # kilobytes on Linux
        process.returncode,
        summary.split(": ", 1)[-1].strip(),
        # wait4 counts the descendants watcher reaped (its spawned workers); those
        # it did not reap are known only from the samples.
        max(usage.ru_utime + usage.ru_stime, sampler.cpu.get(process.pid, 0.0) + others),
        others,
        sampler.peak_rss_mb,
        sampler.peak_processes,
    )


def setup(
    farm: FeedFarm,
    bases: list[str],
    workdir: Path,
    sources: int,
    items: int,
    concurrency: int,
    per_host: int,
) -> None:
    entries = []
    for n in range(sources):
        path = f"/conseil-{n}/rss"
        farm.bodies[path] = feed(n, 0, items)
        entries.append(
            {
                "id": f"conseil-{n}",
                "name": f"Conseil {n}",
                "url": bases[n % len(bases)] + path,
                "interval": "1h",
            }
        )
    settings = f"settings:\n  concurrency: {concurrency}\n  per_host: {per_host}\n"
    write_config(workdir, entries, extra=settings)


def publish_one_each(farm: FeedFarm, sources: int, items: int) -> None:
    """Every feed gets one new item (one in fifty about facial recognition)."""
    for n in range(sources):
        matching = frozenset({items}) if n % 50 == 0 else frozenset()
        farm.bodies[f"/conseil-{n}/rss"] = feed(n, 1, items, matching=matching)


def main() -> None:
    shipped = Settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--per-host", type=int, default=shipped.per_host)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[shipped.concurrency, 32])
    args = parser.parse_args()
    print(
        f"{args.sources} RSS sources of {args.items} items on {args.hosts} loopback addresses, "
        f"each answer after {args.delay * 1000:.0f} ms; per_host {args.per_host} "
        f"(so at most {args.per_host * args.hosts} requests in flight); {os.cpu_count()} cores"
    )
    print(f"load average before: {os.getloadavg()[0]:.2f} (other work on the machine slows this)")
    for concurrency in args.concurrency:
        workdir = Path(tempfile.mkdtemp(prefix=f"watcher-poll-{concurrency}-"))
        with serving(hosts=args.hosts, delay=args.delay) as (farm, bases):
            setup(farm, bases, workdir, args.sources, args.items, concurrency, args.per_host)
            first = watcher_poll(workdir)
            publish_one_each(farm, args.sources, args.items)
            farm.reset_counts()
            second = watcher_poll(workdir)
            hosts_peak = max(farm.max_in_flight.values(), default=0)
        ideal = args.sources * args.delay / concurrency
        limit = min(concurrency, args.per_host * args.hosts)
        print(
            f"\nconcurrency {concurrency}: ideal {ideal:.2f} s "
            f"({args.sources} x {args.delay:g} s / {concurrency})"
        )
        for name, cycle in (("backlog cycle", first), ("one new item each", second)):
            print(
                f"  {name:<18} wall {cycle.wall:6.2f} s ({cycle.wall / ideal:4.2f}x ideal), exit "
                f"{cycle.code}: {cycle.summary}"
            )
            print(
                f"  {'':<18} CPU {cycle.cpu:6.2f} s ({cycle.cpu / cycle.wall:.2f} cores): "
                f"watcher {cycle.cpu - cycle.helpers_cpu:.2f} s + parsing processes "
                f"{cycle.helpers_cpu:.2f} s"
            )
            print(
                f"  {'':<18} peak memory: watcher process {cycle.max_rss_mb:.0f} MB (ru_maxrss); "
                f"with its {cycle.processes - 1} helper process(es) {cycle.tree_rss_mb:.0f} MB "
                f"(sum of PSS, sampled)"
            )
        print(
            f"  requests in flight at most (server side, second cycle): {farm.max_in_flight_total} "
            f"in all (allowed {limit}), {hosts_peak} on one host (per_host {args.per_host})"
        )
    print("\ngoal at concurrency 32: within 2x of the ideal; peak memory < 150 MB")


if __name__ == "__main__":
    main()
