"""/reglages filters by kind of text and family of source, through ``watcher run`` and
the fake Bot API: shown in the summary, applied to what arrives."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feed_server import FeedServer
from tests.test_bot_commands import USER, Bot, running_bot
from tests.test_bot_subscribers import alerts_about, keyboard_of, press, rss, texts
from watcher.filters import ChatFilter, source_family, text_kind
from watcher.items import Item
from watcher.sources.base import SourceConfig


@pytest.fixture
def bot(workdir: Path, feed_server: FeedServer) -> Iterator[Bot]:
    with running_bot(workdir, feed_server) as running:
        yield running


def choose(bot: Bot, data: str, message_id: int) -> str:
    """Press a /reglages button; the settings as redrawn."""
    before = len(bot.fake.calls_of("editMessageText"))
    assert press(bot, USER, data, message_id) == "Réglage enregistré."
    bot.fake.wait_for(lambda: len(bot.fake.calls_of("editMessageText")) > before)
    return str(bot.fake.calls_of("editMessageText")[-1]["text"])


def test_a_kind_filter_keeps_only_decrees(bot: Bot, feed_server: FeedServer, workdir: Path) -> None:
    bot.say("/start")
    menu = bot.say("/reglages")
    assert "Types de textes : tous\nSources : toutes" in menu
    message_id, buttons = keyboard_of(bot, USER)
    labels = [b["text"] for row in buttons for b in row]
    assert "✅ Tous les textes" in labels and "Décret" in labels and "Parlement" in labels
    assert "Types de textes : Décret" in choose(bot, "set:kind:decret", message_id)

    feed_server.serve(
        "/feed",
        rss(
            ("k1", "Proposition de loi sur la reconnaissance faciale"),
            ("k2", "Décret n° 2026-12 relatif à la reconnaissance faciale"),
        ),
    )
    bot.fake.wait_for(lambda: any("Décret n° 2026-12" in t for t in texts(bot, USER)))
    bot.fake.wait_for(lambda: len(bot.fake.messages_to("@veille")) >= 2)  # both routed
    assert alerts_about(workdir, USER, "Proposition de loi sur") == []
    assert not any("Proposition de loi sur" in t for t in texts(bot, USER))

    assert "Types de textes : tous" in choose(bot, "set:kind:all", message_id)
    # The test feed is no parliament: nothing of it reaches the chat any more.
    assert "Sources : Parlement" in choose(bot, "set:family:parlement", message_id)
    feed_server.serve("/feed", rss(("k3", "Arrêté sur la reconnaissance faciale")))
    bot.fake.wait_for(lambda: any("Arrêté sur" in m.text for m in bot.fake.messages_to("@veille")))
    assert alerts_about(workdir, USER, "Arrêté sur") == []
    assert not any("Arrêté sur" in t for t in texts(bot, USER))


def test_kinds_and_families_are_read_from_items_and_sources() -> None:
    def item(title: str, kind: str = "") -> Item:
        return Item("s", "k", title, None, None, kind=kind)

    assert text_kind(item("x", "Projet de loi")) == "loi"
    assert text_kind(item("Arrêté du 3 mars 2026 portant…")) == "arrete"
    assert text_kind(item("Question écrite n° 12")) == "question"
    assert text_kind(item("Bulletin municipal")) == ""

    def source(kind: str, url: str, **extra: str) -> SourceConfig:
        return SourceConfig(id="s", name="S", kind=kind, url=url, interval=60, topics=(), **extra)

    assert source_family(source("senat", "https://www.senat.fr/rss/textes.rss")) == "parlement"
    assert source_family(source("dila", "https://echanges.dila.gouv.fr/OPENDATA/JORF/")) == "jo"
    assert source_family(source("rss", "https://www.cnil.fr/fr/rss.xml")) == "cnil"
    assert source_family(source("scdl", "https://x.fr/d.csv")) == "collectivites"
    prefecture = source("html", "https://www.isere.gouv.fr/Publications/Recueil-des-actes")
    assert source_family(prefecture) == "prefectures"
    assert ChatFilter(frozenset({"decret"})).keeps("decret", "jo")
    assert not ChatFilter(frozenset({"decret"})).keeps("", "jo")
