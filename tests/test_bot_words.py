"""A subscriber's own words (/mots), through ``watcher run`` and the fake Bot API: added,
listed, matched French-aware against every item (phrase, or every word), alerted as
"vos mots : …", removed by number or button; limits; in groups only admins."""

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feed_server import FeedServer
from tests.test_bot_commands import USER, Bot, running_bot
from tests.test_bot_subscribers import alerts_about, keyboard_of, press, rss, texts

GROUP, ADMIN, MEMBER = -100444, 701, 702


@pytest.fixture
def bot(workdir: Path, feed_server: FeedServer) -> Iterator[Bot]:
    with running_bot(workdir, feed_server) as running:
        yield running


def test_own_words_alert_instead_of_the_topics(
    bot: Bot, feed_server: FeedServer, workdir: Path
) -> None:
    bot.say("/start")
    message_id, _ = keyboard_of(bot, USER) if bot.say("/sujets") else (0, [])
    press(bot, USER, "unsub:biometrie", message_id)  # only their own words now
    added = bot.say('/mots ajouter "reconnaissance vocale"')
    assert added.startswith("✅ Ajouté : « reconnaissance vocale »")
    assert "Ajouté : vidéoprotection Lyon" in bot.say("/mots ajouter vidéoprotection Lyon")
    assert "déjà la règle" in bot.say("/mots ajouter Vidéoprotection   Lyon".replace("V", "v"))
    listing = bot.say("/mots")
    assert "1. « reconnaissance vocale »\n2. vidéoprotection Lyon" in listing

    feed_server.serve(
        "/feed",
        rss(
            ("v1", "Expérimentation des systèmes de RECONNAISSANCES VOCALES dans les gares"),
            ("v2", "La vidéoprotection étendue à Marseille"),  # Lyon is missing
            ("v3", "Vidéo-protection : Lyon étend son réseau de caméras"),
            ("v4", "Reconnaissance faciale dans les stades"),  # a topic they left
        ),
    )

    def alerts() -> list[str]:
        return [t for t in texts(bot, USER) if t.startswith("🔎 vos mots")]

    bot.fake.wait_for(lambda: len(alerts()) >= 2)
    # The four texts came in one poll, saved with every chat's alerts at once.
    bot.fake.wait_for(lambda: any("stades" in m.text for m in bot.fake.messages_to("@veille")))
    assert len(alerts_about(workdir, USER, "")) == 2
    assert len(alerts()) == 2
    assert any(
        t.startswith("🔎 vos mots : « reconnaissance vocale »\n") and "VOCALES" in t
        for t in alerts()
    )
    assert any(
        t.startswith("🔎 vos mots : vidéoprotection Lyon\n") and "Lyon étend" in t for t in alerts()
    )
    assert not any("Marseille" in t or "stades" in t for t in texts(bot, USER))

    assert bot.say("/mots retirer 1").startswith("Retiré : « reconnaissance vocale »")
    bot.say("/mots")
    message_id, buttons = keyboard_of(bot, USER)
    assert [b[0]["text"] for b in buttons] == ["❌ Retirer n° 1"]
    assert press(bot, USER, buttons[0][0]["callback_data"], message_id).startswith("Retiré")
    assert "pas encore de mots" in bot.say("/mots")


def test_limits_and_bad_rules_are_explained(bot: Bot, workdir: Path) -> None:
    bot.say("/start")
    assert "trop court" in bot.say("/mots ajouter le")
    assert "5 au plus" in bot.say("/mots ajouter un deux trois quatre cinq six")
    assert "Donnez des mots" in bot.say("/mots ajouter")
    for n in range(10):
        assert "Ajouté" in bot.say(f"/mots ajouter sujet{n}")
    assert "le maximum" in bot.say("/mots ajouter onzième")
    assert "numéro d'une règle, de 1 à 10" in bot.say("/mots retirer 12")
    assert "effacées" in bot.say("/stop")  # the words go with every other row of the chat
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM chat_words").fetchone() == (0,)


def test_in_a_group_only_admins_change_the_words(bot: Bot, feed_server: FeedServer) -> None:
    bot.fake.admins[GROUP] = {ADMIN}

    def say(text: str, user: int) -> str:
        return bot.say(text, chat_id=GROUP, user_id=user, chat_type="supergroup")

    say("/start", ADMIN)
    assert say('/mots ajouter "drone"', MEMBER).startswith("Seuls les administrateurs")
    assert say('/mots ajouter "drones de surveillance"', ADMIN).startswith("✅ Ajouté")
    assert "« drones de surveillance »" in say("/mots", MEMBER)  # reading is for everyone
    message = [m for m in bot.fake.messages_to(GROUP) if m.reply_markup][-1]
    data = json.loads(message.reply_markup)["inline_keyboard"][0][0]["callback_data"]
    before = len(bot.fake.calls_of("answerCallbackQuery"))
    bot.fake.push_callback(GROUP, data, message.message_id, user_id=MEMBER, chat_type="supergroup")
    bot.fake.wait_for(lambda: len(bot.fake.calls_of("answerCallbackQuery")) > before)
    assert "administrateurs" in bot.fake.calls_of("answerCallbackQuery")[before]["text"]

    feed_server.serve(
        "/feed", rss(("d1", "Des drones de surveillance au-dessus des manifestations"))
    )
    bot.fake.wait_for(
        lambda: any(
            t.startswith("🔎 vos mots : « drones de surveillance »") for t in texts(bot, GROUP)
        )
    )
