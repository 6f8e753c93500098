"""What the fault tests share: a stream of tagged items, `watcher run` as a process, the fake API."""

import errno
import re
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PYTHON, python_env
from tests.fake_telegram import TOKEN, FakeTelegram, running_fake_telegram

# Settings that keep a fault short: small retries, small deadlines.
FAST = "settings:\n  delivery_backoff: 0.05s\n  timeout: 2s\n  poll_timeout: 5s\n"
TAG = re.compile(r"\bT(\d+)x(\d+)\b")


def rss(source: int, numbers: range | list[int]) -> bytes:
    """An RSS feed whose items all match, each titled with its tag ``T<source>x<number>``."""
    entries = "".join(
        f"<item><title>Texte T{source}x{n} sur la reconnaissance faciale</title>"
        f"<link>https://example.org/{source}/{n}</link><guid>{source}-{n}</guid>"
        f"<pubDate>Mon, 02 Dec 2024 10:00:00 GMT</pubDate>"
        f"<description>Expérimentation numéro {n}.</description></item>"
        for n in numbers
    )
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{entries}</channel></rss>"
    ).encode()


def tags(text: str) -> list[tuple[int, int]]:
    """The (source, number) tags of the items a message carries."""
    return [(int(s), int(n)) for s, n in TAG.findall(text)]


def telegram_env(api_url: str) -> dict[str, str]:
    return python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url)


@pytest.fixture
def telegram() -> Iterator[tuple[FakeTelegram, str]]:
    """The fake Bot API and the TELEGRAM_API_URL that reaches it."""
    with running_fake_telegram(enforce_limits=False) as (fake, api_url):
        yield fake, api_url


@pytest.fixture
def bot_api(telegram: tuple[FakeTelegram, str], monkeypatch: pytest.MonkeyPatch) -> FakeTelegram:
    """The fake Bot API, which the CLI run in this process reaches through the environment."""
    fake, api_url = telegram
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_URL", api_url)
    return fake


class Watcher:
    """``watcher run`` as a process, its output in files (an unread pipe would block it)."""

    def __init__(self, workdir: Path, env: dict[str, str], *args: str, name: str = "run") -> None:
        self.log = workdir / f"{name}.log"
        self.out = workdir / f"{name}.out"
        with self.log.open("a") as log, self.out.open("a") as out:
            self.process: subprocess.Popen[Any] = subprocess.Popen(
                [PYTHON, "-m", "watcher", *args, "run"],
                cwd=workdir,
                env=env,
                stdout=out,
                stderr=log,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM, as systemd or Docker stop it; the exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("watcher run did not stop within 15 s of SIGTERM") from None
        return self.process.returncode

    def errors(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8")


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    """Processes a test starts; whatever is left running is killed at the end."""
    started: list[Watcher] = []
    yield started
    for watcher in started:
        if watcher.alive():
            watcher.kill()


def alert_rows(db: Path) -> list[tuple[str, str, int | None]]:
    """(destination, status, message_id) of every alert; none before the schema exists."""
    with sqlite3.connect(db) as connection:
        try:
            rows = connection.execute("SELECT destination, status, message_id FROM alerts")
        except sqlite3.OperationalError:  # a process starting up has not migrated it yet
            rows = None
        found = rows.fetchall() if rows is not None else []
    connection.close()
    return found


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """``folder`` on a tmpfs of its own of ``size`` ("8m"); the test is skipped where
    mounting is not allowed (not root, no mount namespace)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'not root'})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk refuses; the file, to remove when space may return."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        while True:
            try:
                out.write(chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    # Smaller writes then, to leave not even a page.
    with filler.open("ab", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 512)
        except OSError:
            pass
    return filler
