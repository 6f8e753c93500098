"""The runtime's parsing processes: payloads are parsed beside the event loop, not under it."""

import os

import pytest

from watcher.errors import WatcherError
from watcher.parsing_pool import ParsingPool


def _die_unless_in(pid: int) -> str:
    """Kills the worker process that runs it; returns normally in the process ``pid``."""
    if os.getpid() != pid:
        os._exit(1)
    return "parsed here"


def test_work_runs_in_another_process_and_workers_are_reused() -> None:
    pool = ParsingPool(2)
    try:
        pids = {pool(os.getpid) for _ in range(6)}
    finally:
        pool.close()
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2


def test_a_dead_worker_costs_nothing_but_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    pool = ParsingPool(1)
    try:
        assert pool(_die_unless_in, os.getpid()) == "parsed here"
        assert pool(os.getpid) != os.getpid()  # new workers took over
    finally:
        pool.close()
    assert "a parsing process died" in caplog.text


def test_a_closed_pool_refuses_work_with_a_watcher_error() -> None:
    pool = ParsingPool(1)
    pool.close()
    with pytest.raises(WatcherError, match="watcher is stopping"):
        pool(os.getpid)
