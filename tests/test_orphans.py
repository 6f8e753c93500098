"""No process outlives ``watcher run``: its parsing workers end when it is killed."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PYTHON, python_env, write_config
from tests.feed_server import FeedServer
from tests.processes import alive, children
from tests.waiting import wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def big_feed(entries: int) -> bytes:
    """An RSS feed long enough that parsing it keeps a worker busy for a while."""
    items = "".join(
        f"<item><title>Délibération n° {n} sur la voirie</title>"
        f"<link>https://example.org/d/{n}</link><guid>d-{n}</guid>"
        f"<description>{'Texte de la délibération. ' * 40}</description>"
        f"<pubDate>Mon, 07 Dec 2026 08:00:00 GMT</pubDate></item>"
        for n in range(entries)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()


def workers_of(pid: int) -> dict[int, str]:
    """The parsing workers (spawned interpreters) of a process, not its resource tracker."""
    return {
        child: command
        for child, command in children(pid).items()
        if "spawn_main" in command and "resource_tracker" not in command
    }


def test_sigkill_of_run_during_parsing_leaves_no_worker(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/big", big_feed(4000))
    write_config(workdir, [{"id": "big", "name": "Big", "url": url, "interval": "1s"}])
    with (workdir / "run.log").open("w") as log:
        process = subprocess.Popen(
            [PYTHON, "-m", "watcher", "run"], cwd=workdir, env=python_env(), stdout=log, stderr=log
        )
    workers: dict[int, str] = {}
    try:
        wait_until(lambda: feed_server.hits("/big"), "the feed to be fetched")
        wait_until(lambda: workers.update(workers_of(process.pid)) or workers, "a parsing worker")
        assert process.poll() is None, "watcher run ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
        wait_until(lambda: not any(alive(pid) for pid in workers), "the orphaned workers to exit")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in workers:  # never leave one behind, even when the test fails
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_worker_whose_parent_is_already_gone_exits_at_once() -> None:
    # The race PR_SET_PDEATHSIG cannot cover: the parent died before the worker asked.
    code = (
        "import os, sys; from watcher.orphans import exit_with_parent; "
        "exit_with_parent(os.getppid() + 1 if os.getppid() != 1 else 2); sys.exit(0)"
    )
    result = subprocess.run([PYTHON, "-c", code], env=python_env(), timeout=30)
    assert result.returncode == 1
