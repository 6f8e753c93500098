"""/export and /import through ``watcher run`` and the fake Bot API: a chat's settings
go out as a small file and come back, in another chat, with the caption /import."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feed_server import FeedServer
from tests.test_bot_commands import USER, Bot, running_bot
from tests.test_bot_subscribers import keyboard_of, press

OTHER = 5151


@pytest.fixture
def bot(workdir: Path, feed_server: FeedServer) -> Iterator[Bot]:
    with running_bot(workdir, feed_server) as running:
        yield running


def test_export_then_import_in_another_chat(bot: Bot) -> None:
    bot.say("/start")
    bot.say('/mots ajouter "reconnaissance vocale"')
    bot.say("/reglages")
    message_id, _ = keyboard_of(bot, USER)
    press(bot, USER, "set:kind:decret", message_id)
    press(bot, USER, "set:mode:grouped", message_id)

    before = len(bot.fake.documents)
    bot.fake.push_message(USER, "/export")
    bot.fake.wait_for(lambda: len(bot.fake.documents) > before)
    chat, name, data, caption = bot.fake.documents[-1]
    assert (chat, name) == (str(USER), "watcher-reglages.json")
    assert "/import" in caption
    exported = json.loads(data)
    assert exported["topics"] == ["biometrie"] and exported["kinds"] == ["decret"]
    assert exported["words"] == ["« reconnaissance vocale »"] and exported["mode"] == "grouped"

    bot.say("/start", chat_id=OTHER)
    assert "envoyez ici le fichier exporté" in bot.say("/import", chat_id=OTHER)
    document = bot.fake.add_file("f1", data)
    restored = bot.say(
        "restaurer", chat_id=OTHER, extra={"document": document, "caption": "/import"}
    )
    assert restored.startswith("✅ Réglages restaurés")
    assert "1. « reconnaissance vocale »" in bot.say("/mots", chat_id=OTHER)
    settings = bot.say("/reglages", chat_id=OTHER)
    assert "Types de textes : Décret" in settings and "Mode : les alertes arrivées" in settings

    not_ours = bot.fake.add_file("f2", b'{"hello": 1}')
    refused = bot.say("x", chat_id=OTHER, extra={"document": not_ours, "caption": "/import"})
    assert refused == "Ce fichier n'est pas un export de réglages de watcher (/export)."
