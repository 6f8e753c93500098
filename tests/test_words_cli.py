"""Subscribers' own words (/mots) through the CLI: ``watcher check --words`` and
``watcher backtest --words`` match them as the poller does; the rules' limits."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import run, write_config
from watcher.personal import WordsError, parse_rule
from watcher.store import Store
from watcher.store.subscribers import Subscribers


@pytest.fixture
def words_db(workdir: Path) -> Path:
    write_config(workdir, [{"id": "src", "url": "https://example.org/feed"}])
    store = Store(workdir / "watcher.db")
    Subscribers(store).start(4242, "private", now=datetime.now(UTC))
    store.words.add(4242, parse_rule('"reconnaissance vocale"').text)
    store.words.add(4242, parse_rule("vidéoprotection Lyon").text)
    return workdir / "watcher.db"


def test_check_knows_the_subscribers_words(words_db: Path) -> None:
    text = "Les Reconnaissances vocales testées à Lyon"
    assert run("check", text).out == "no match\n"  # the topics alone
    result = run("check", "--words", text)
    assert result.code == 0, result.err
    assert result.out.startswith("mots:4242 (vos mots : « reconnaissance vocale »)\n")
    every_word = run("check", "--words", "La vidéo-protection gagne LYON")
    assert "mots:4242 (vos mots : vidéoprotection Lyon)" in every_word.out
    assert run("check", "--words", "La vidéoprotection gagne Marseille").out == "no match\n"


def test_backtest_knows_the_subscribers_words(words_db: Path, workdir: Path) -> None:
    items = workdir / "items.jsonl"
    items.write_text(
        json.dumps({"id": "a", "title": "Vidéoprotection à Lyon : le conseil vote"})
        + "\n"
        + json.dumps({"id": "b", "title": "Budget de Lyon"})
        + "\n",
        encoding="utf-8",
    )
    result = run("backtest", "--words", "--input", str(items))
    assert result.code == 0, result.err
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert lines[0]["topics"] == ["mots:4242"] and lines[1]["matched"] is False


def test_a_rule_is_checked_against_the_limits() -> None:
    assert parse_rule(" « caméras  piétons » ").parts == ("caméras piétons",)
    assert parse_rule("vidéoprotection Lyon").parts == ("vidéoprotection", "Lyon")
    for bad in ("", "le", "a b c d e f", "x" * 81):
        with pytest.raises(WordsError):
            parse_rule(bad)
