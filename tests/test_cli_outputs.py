"""The CLI's outputs for people outside Telegram: search, Atom feeds, exports, backtest."""

import csv
import io
import json
import re
import signal
import subprocess
from pathlib import Path

import feedparser

from tests.conftest import PYTHON, python_env, run, write_config
from tests.feed_server import FeedServer
from tests.waiting import wait_until

CONFIG_EXTRA = "settings:\n  timezone: Europe/Paris\n"


def rss(*entries: tuple[str, str, str]) -> str:
    """A feed of (guid, title, description) entries."""
    items = "".join(
        f"<item><title>{title}</title><link>https://example.org/{guid}</link><guid>{guid}</guid>"
        f"<pubDate>Tue, 12 Apr 2022 22:30:00 GMT</pubDate><description>{text}</description></item>"
        for guid, title, text in entries
    )
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{items}</channel></rss>"
    )


FEED = rss(
    ("a", "Expérimentation des caméras augmentées à Marseille", "Un arrêté préfectoral."),
    ("b", "Décret relatif à la reconnaissance faciale", "Le traitement biométrique &amp; co."),
    ("c", "Budget des caméras de la ville", "Sans rapport."),
)


def polled(workdir: Path, feed_server: FeedServer, body: str = FEED) -> None:
    url = feed_server.serve("/feed", body)
    write_config(
        workdir,
        [{"id": "src", "name": "Préfecture test", "url": url, "backfill": "true"}],
        extra=CONFIG_EXTRA,
    )
    assert run("poll").code == 0


def test_search_folds_accents_and_case_and_exits_like_grep(
    workdir: Path, feed_server: FeedServer
) -> None:
    polled(workdir, feed_server)

    found = run("search", "CAMERAS", "augmentees")
    assert found.code == 0, found.err
    assert found.out.startswith("Expérimentation des caméras augmentées à Marseille\n")
    assert "13/04/2022 · Préfecture test · Surveillance biométrique" in found.out  # Paris date
    assert "mots trouvés : caméras augmentées" in found.out

    every = run("search", "camera", "--limit", "1", "--db", "watcher.db")  # options after
    assert every.code == 0 and every.out.count("https://example.org/") == 1
    assert "--limit to see more" in every.err

    nothing = run("search", "zoologie")
    assert nothing.code == 1 and nothing.out == ""
    assert "no stored item contains: zoologie" in nothing.err
    assert run("search", "x", "--limit", "0").code == 2  # a usage error


def test_atom_feed_is_valid_and_its_ids_are_stable(workdir: Path, feed_server: FeedServer) -> None:
    polled(workdir, feed_server)

    result = run("feed", "--topic", "biometrie", "--output", "alerts.xml")
    assert result.code == 0, result.err
    parsed = feedparser.parse(io.BytesIO((workdir / "alerts.xml").read_bytes()))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "watcher — Surveillance biométrique"
    titles = [e.title for e in parsed.entries]
    assert sorted(titles) == [
        "Décret relatif à la reconnaissance faciale",
        "Expérimentation des caméras augmentées à Marseille",
    ]
    entry = next(e for e in parsed.entries if "Décret" in e.title)
    assert entry.link == "https://example.org/b"
    assert entry.tags[0].term == "biometrie"
    assert "Mots trouvés : reconnaissance faciale" in entry.summary
    assert "Préfecture test · 13/04/2022" in entry.summary
    assert entry.updated_parsed is not None

    assert run("feed", "--topic", "biometrie", "--output", "again.xml").code == 0
    again = feedparser.parse(io.BytesIO((workdir / "again.xml").read_bytes()))
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]

    limited = run("feed", "--topic", "biometrie", "--output", "-", "--limit", "1")
    assert len(feedparser.parse(io.BytesIO(limited.out.encode())).entries) == 1
    unknown = run("feed", "--topic", "drones", "--output", "x.xml")
    assert unknown.code == 1
    assert unknown.err.strip() == "watcher: unknown topic 'drones'; feeds.yml has: biometrie"
    assert not (workdir / "x.xml").exists()


def test_export_csv_and_jsonl(workdir: Path, feed_server: FeedServer) -> None:
    polled(workdir, feed_server)

    assert run("export", "--format", "csv", "--output", "alerts.csv").code == 0
    with (workdir / "alerts.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 2
    row = next(r for r in rows if "Décret" in r["title"])
    assert row["date"] == "13/04/2022" and row["source"] == "Préfecture test"
    assert row["topics"] == "biometrie" and row["url"] == "https://example.org/b"
    assert row["words"] == "reconnaissance faciale, biométrique"

    jsonl = run("export", "--format", "jsonl")
    assert jsonl.code == 0
    lines = [json.loads(line) for line in jsonl.out.splitlines()]
    assert {line["title"] for line in lines} == {r["title"] for r in rows}
    assert run("export", "--format", "xml").code == 2  # argparse names the choices


def test_backtest_reports_the_bad_line_and_still_summarises(workdir: Path) -> None:
    write_config(workdir, [{"id": "src", "url": "https://example.org/feed"}])
    (workdir / "items.jsonl").write_text(
        '{"id": 1, "title": "reconnaissance faciale"}\n'
        '{"id": 2, "title": "budget"}\n'
        "{oops\n"
        '{"id": 4, "title": "biométrique"}\n',
        encoding="utf-8",
    )
    result = run("backtest", "--input", "items.jsonl", "--output", "out.jsonl")
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert lines[-1].startswith("watcher: items.jsonl:3: not JSON (")
    assert "items: 3, matched: 2" in result.err
    assert len((workdir / "out.jsonl").read_text().splitlines()) == 3


def test_run_keeps_atom_files_and_logs_in_the_configured_zone(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", rss())
    write_config(
        workdir,
        [{"id": "src", "name": "Préfecture test", "url": url, "interval": "1s"}],
        extra=CONFIG_EXTRA + "  atom_dir: feeds\n",
    )
    log = workdir / "run.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [PYTHON, "-m", "watcher", "run"], cwd=workdir, env=python_env(), stdout=out, stderr=out
        )
    try:
        wait_until(lambda: feed_server.hits("/feed"), "a first poll")
        feed_server.serve("/feed", FEED)
        atom = workdir / "feeds" / "biometrie.xml"
        wait_until(lambda: atom.exists(), "the Atom file")
        parsed = feedparser.parse(io.BytesIO(atom.read_bytes()))
        assert parsed.bozo == 0 and len(parsed.entries) == 2
        assert not list((workdir / "feeds").glob(".*tmp"))  # written through a rename
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    text = log.read_text()
    assert "no TELEGRAM_BOT_TOKEN: alerts print here" in text
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0[12]:00 INFO ", re.MULTILINE)
    assert stamp.search(text), text[:500]
    assert not re.search(r"\d\d:\d\d:\d\d[.,]\d", text)  # no fractions of a second


def test_reading_commands_need_an_existing_database(workdir: Path) -> None:
    write_config(workdir, [{"id": "src", "url": "https://example.org/feed"}])
    for args in (
        ("search", "x"),
        ("feed", "--topic", "biometrie", "--output", "-"),
        ("export", "--format", "csv"),
    ):
        result = run(*args, "--db", "missing.db")
        assert result.code == 1
        assert result.err.strip() == (
            "watcher: missing.db: no database here; pass --db PATH or run `watcher poll` first"
        )
    assert not (workdir / "missing.db").exists()
