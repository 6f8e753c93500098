"""A real bill's life replayed through ``watcher run``: one thread, whatever order the feeds answer.

``../shared/replay/`` rebuilds the Sénat bill on biometric recognition (ppl22-505,
2023) in the real feeds' shapes, step by step (deposit, committee, amendments,
sitting and vote, transmission). Each step is served on a local site while
watcher's clock is set to the step's real moment (libfaketime: the clock of the
``watcher run`` process, not the test's), and the new content of each feed is
released in a given order, each group read before the next is released. A
subscriber must get the first alert the day after the deposit, then every later
step once, as a reply to it; and the same messages in both orders.
"""

import contextlib
import importlib
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import PYTHON, SHARED, python_env, run, write_config
from tests.fake_telegram import TOKEN, FakeTelegram, parse_entities, running_fake_telegram
from tests.test_following import subscribe
from tests.waiting import wait_until

REPLAY = SHARED / "replay"
libfaketime = pytest.importorskip("libfaketime")
pytestmark = pytest.mark.skipif(not REPLAY.is_dir(), reason="../shared/replay is absent")

ALICE = 5001
SIGNET = "ppl22-505"
# Feeds released together, one group after the other; a dossier's stream once followed.
SOURCES_FIRST = (
    ("/rss/textes.rss", "/rss/rapports.rss", "/rss/presse.rss"),
    ("/akomantoso/depots.xml", "/akomantoso/adoptions.xml"),
    (f"/dossier-legislatif/rss/dosleg{SIGNET}.xml",),
)
ORDERS = {"sources-first": SOURCES_FIRST, "stream-first": tuple(reversed(SOURCES_FIRST))}


def replay_modules() -> ModuleType:
    """The timeline module of ../shared/replay, imported from there (never copied here)."""
    if str(REPLAY) not in sys.path:
        sys.path.insert(0, str(REPLAY))
    return importlib.import_module("tl_ppl505")


def faketime_env(clock: Path) -> dict[str, str]:
    """What makes a process read its wall clock from ``clock`` (its monotonic clock is real)."""
    library = Path(libfaketime.__file__).parent / "vendor" / "libfaketime" / "src"
    return {
        "LD_PRELOAD": str(library / "libfaketime.so.1"),
        "FAKETIME_TIMESTAMP_FILE": str(clock),
        "FAKETIME_NO_CACHE": "1",
        "DONT_FAKE_MONOTONIC": "1",
        "TZ": "UTC",
    }


def set_clock(clock: Path, moment: datetime) -> None:
    """From now on, watcher's clock starts from ``moment`` and runs."""
    clock.write_text(moment.astimezone(UTC).strftime("@%Y-%m-%d %H:%M:%S\n"))


class Replay:
    """The replay's site, the running watcher, and what each chat received."""

    def __init__(self, workdir: Path, fake: FakeTelegram, site: Any, clock: Path) -> None:
        self.workdir, self.fake, self.site, self.clock = workdir, fake, site, clock
        self.served: dict[str, tuple[str, bytes]] = {}
        self.feeds = [path for group in SOURCES_FIRST for path in group]

    def read_after(self, path: str, moment: float, times: int = 1) -> None:
        wait_until(lambda: self.site.count(path, moment) >= times, f"{path} read", timeout=30)

    def release(self, files: dict[str, tuple[str, bytes]], order: Sequence[Sequence[str]]) -> None:
        """Serve a step's files, each group of feeds read before the next is released."""
        feeds = {path for group in order for path in group}
        # Documents (Akoma Ntoso texts) come with the step; feeds group by group.
        self.served.update({p: f for p, f in files.items() if p not in feeds})
        for group in order:
            changed = [p for p in group if p in files and self.served.get(p) != files[p]]
            if not changed:
                continue
            self.served.update({p: files[p] for p in changed})
            self.site.publish(self.served)
            moment = time.time()
            for path in changed:
                # A dossier's stream is read only once the dossier is followed.
                if "/dossier-legislatif/" not in path or self.site.count(path):
                    self.read_after(path, moment)
        self.settle()

    def settle(self) -> None:
        """Every feed read twice more, the dossier's stream included, and the outbox empty."""
        moment = time.time()
        for path in self.feeds:
            # A dossier's stream is read only once the dossier is followed.
            if path in self.served and (
                "/dossier-legislatif/" not in path or self.site.count(path)
            ):
                self.read_after(path, moment)
        db = sqlite3.connect(self.workdir / "watcher.db", timeout=10)
        try:
            wait_until(
                lambda: (
                    not db.execute(
                        "SELECT COUNT(*) FROM alerts WHERE status = 'pending'"
                    ).fetchone()[0]
                ),
                "the outbox delivered",
            )
        finally:
            db.close()

    def thread(self, chat: int | str) -> list[tuple[str, int | None]]:
        """What a chat received: each message's text, and the message it replies to."""
        # A call refused (429) and retried asks the same: the reply of a text is its calls'.
        replies = {
            call["text"]: json.loads(call.get("reply_parameters") or "null")
            for call in self.fake.calls_of("sendMessage")
            if str(call["chat_id"]) == str(chat)
        }
        return [
            (parse_entities(m.text)[0], (replies[m.text] or {}).get("message_id"))
            for m in self.fake.messages_to(chat)
        ]


@contextlib.contextmanager
def replaying(workdir: Path) -> Iterator[Replay]:
    """The replay's site on 127.0.0.1, and ``watcher run`` on its clock against a fake Bot API."""
    timeline = replay_modules()
    site = importlib.import_module("snapsite").SnapSite().start()
    steps = timeline.steps(site.base)
    clock = workdir / "clock"
    set_clock(clock, steps[0].when)
    sources = [{**source, "interval": "0.3s"} for source in timeline.sources(site.base)]
    write_config(workdir, sources, extra="settings:\n  allow_private_addresses: true\n")
    subscribe(workdir / "watcher.db", [ALICE])
    # The feeds as they stood before the deposit, read first as the backlog.
    site.publish(steps[0].world.render(site.base))
    with running_fake_telegram() as (fake, api_url):
        env = python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url, **faketime_env(clock))
        log = workdir / "watcher.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [PYTHON, "-m", "watcher", "run"], cwd=workdir, env=env, stdout=out, stderr=out
            )
        replay = Replay(workdir, fake, site, clock)
        replay.served = steps[0].world.render(site.base)
        try:
            replay.settle()
            yield replay
        finally:
            process.terminate()
            process.wait(timeout=30)
            site.stop()
            print(log.read_text()[-6000:])


Told = dict[str, list[tuple[str, int | None]]]


def play(workdir: Path, order: Sequence[Sequence[str]]) -> tuple[int, Told]:
    """Replay the whole timeline in this order: Alice's first message, what she got at each step."""
    workdir.mkdir()
    told: Told = {}
    with replaying(workdir) as replay:
        for step in replay_modules().steps(replay.site.base):
            set_clock(replay.clock, step.when)
            before = len(replay.thread(ALICE))
            replay.release(step.world.render(replay.site.base), order)
            told[step.label] = replay.thread(ALICE)[before:]
        return replay.fake.messages_to(ALICE)[0].message_id, told


def cli(workdir: Path, *command: str) -> str:
    """The maintainer's view of a replay's database, through the CLI."""
    paths = ["--config", str(workdir / "feeds.yml"), "--db", str(workdir / "watcher.db")]
    result = run(*paths, *command)
    assert result.code == 0, result.err
    return result.out


# What a follower reads after the first alert, step by step (in any order within a step).
THREAD = {
    "A2 committee": {
        "🔁 Suite du dossier : Texte de la commission (n° 664) · 31/05/2023",
        "🔁 Suite du dossier : Rapport (n° 663) · 31/05/2023",
        "🔁 Suite du dossier : Travaux de la commission · 31/05/2023",
        "🔁 Suite du dossier : Communiqué de presse · 31/05/2023",
    },
    "A3 amendments": {"🔁 Suite du dossier : Amendements (texte n° 664) · 08/06/2023"},
    "A4 vote": {
        "🔁 Suite du dossier : Compte rendu de la séance · 12/06/2023",
        "🔁 Suite du dossier : Adopté par le Sénat (n° 128) · 12/06/2023",
    },
    "A5 transmission": {"🔁 Suite du dossier : Transmis à l'Assemblée nationale · 13/06/2023"},
}


def test_a_bill_is_one_thread_from_its_deposit_whatever_order_the_feeds_answer_in(
    workdir: Path,
) -> None:
    # The two orders replay side by side (each its own site, watcher and Bot API).
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda o: play(workdir / o[0], o[1]), ORDERS.items()))
    for (first_id, told), name in zip(runs, ORDERS, strict=True):
        assert told["A0 backlog"] == []
        # The first alert the day after the deposit: one, though two sources list the bill.
        [(first, reply)] = told["A1 deposit"]
        assert reply is None
        assert "Proposition de loi relative à la reconnaissance biométrique" in first
        assert "déposé au sénat le 05/04/2023" in first.lower()
        assert "séance" not in first
        # Then every step once, each a reply to it, whatever feed told it first.
        for label, expected in THREAD.items():
            texts = [text.split("\n")[0] for text, _ in told[label]]
            assert sorted(texts) == sorted(expected), label
            assert {reply for _, reply in told[label]} == {first_id}, label
        # `watcher dossiers` lists each step once, in order, with its date and sources.
        listing = cli(workdir / name, "dossiers", "ppl22-505")
        assert listing.count("Texte de la commission (n° 664)") == 1
        assert listing.index("Déposé au Sénat") < listing.index("Rapport (n° 663)")
        assert listing.index("Rapport (n° 663)") < listing.index("Adopté par le Sénat (n° 128)")
        assert "senat-textes" in listing
        # `watcher search` finds the dossier by a number of one of its texts.
        found = cli(workdir / name, "search", "664")
        assert "dossier senat:ppl22-505: Proposition de loi relative" in found, found
        assert "dossier senat:ppl22-664" not in found  # the committee's text is a step
