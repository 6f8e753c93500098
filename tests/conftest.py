"""Shared fixtures: a local feed server, a feeds.yml writer, and the CLI runner."""

import contextlib
import io
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.feed_server import FeedServer, running_feed_server
from tests.processes import SESSION_MARK, marked
from tests.waiting import wait_until
from watcher.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL = SHARED / "fixtures" / "real"

needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/fixtures/real is absent")
needs_eval = pytest.mark.skipif(
    not (SHARED / "eval" / "dev.jsonl").is_file(), reason="../shared/eval is absent"
)

TOPIC = """
topics:
  biometrie:
    label: Surveillance biométrique
    keywords:
      - reconnaissance faciale
      - biométrique
      - caméra(s) augmentée
      - near: [vidéoprotection, caméra]
        with: [algorithmique, intelligent(e)]
        within: 12
"""


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with running_feed_server() as server:
        yield server


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean working directory with no Telegram token and no stray configuration."""
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "WATCHER_CONFIG", "WATCHER_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_config(directory: Path, sources: list[dict[str, object]], extra: str = "") -> Path:
    """A feeds.yml with the test topic and these sources."""
    lines = ["sources:"]
    for source in sources:
        first = True
        for key, value in source.items():
            prefix = "  - " if first else "    "
            lines.append(f"{prefix}{key}: {value}")
            first = False
    path = directory / "feeds.yml"
    path.write_text(TOPIC + "\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def run(*args: str) -> Result:
    """Run the watcher CLI in-process, as a user would from a shell."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors and --help
            code = int(exc.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def python_env(**extra: str) -> dict[str, str]:
    """The environment for a watcher subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WATCHER_"))}
    env.update(extra)
    env.setdefault("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    return env


PYTHON = sys.executable


@pytest.fixture(scope="session", autouse=True)
def _no_process_left_behind() -> Iterator[None]:
    """Every process a test started (and theirs, workers included) has ended with the session.

    Each carries a mark in its environment, inherited from this process, so an orphan
    re-parented to init is still found. Our own multiprocessing resource tracker ends
    with us and is not counted.
    """
    mark = uuid.uuid4().hex
    os.environ[SESSION_MARK] = mark
    yield

    def leaked() -> dict[int, str]:
        return {
            pid: command
            for pid, command in marked(mark).items()
            if "resource_tracker" not in command
        }

    if sys.platform.startswith("linux"):
        with contextlib.suppress(AssertionError):
            wait_until(lambda: not leaked(), "the test processes to end", timeout=15)
        left = leaked()
        assert not left, f"processes left behind by the tests: {left}"


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Collect after each test so a leaked socket or file is blamed on the test that leaked it."""
    yield
    import gc

    gc.collect()
