"""Subscribers through ``watcher run`` and the fake Bot API: no dead ends, search,
/reglages, announcements, groups, and /stop forgetting the chat everywhere."""

import json
import signal
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.fake_telegram import parse_entities
from tests.feed_server import FeedServer
from tests.test_bot_commands import MAINTAINER, USER, Bot, alerts_about, running_bot
from tests.test_telegram_delivery import feed_items

GROUP = -100777


@pytest.fixture
def bot(workdir: Path, feed_server: FeedServer) -> Iterator[Bot]:
    with running_bot(workdir, feed_server) as running:
        yield running


def rss(*entries: tuple[str, str]) -> bytes:
    """A feed of (guid, title) entries."""
    items = "".join(
        f"<item><title>{title}</title><link>https://example.org/{guid}</link>"
        f"<guid>{guid}</guid><pubDate>Tue, 12 Apr 2022 22:30:00 GMT</pubDate></item>"
        for guid, title in entries
    )
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


def texts(bot: Bot, chat_id: int) -> list[str]:
    return [
        parse_entities(m.text)[0] if m.parse_mode == "HTML" else m.text
        for m in bot.fake.messages_to(chat_id)
    ]


def stored(workdir: Path, title: str) -> int:
    """How many stored texts have ``title`` in their title."""
    db = sqlite3.connect(workdir / "watcher.db")
    try:
        row = db.execute("SELECT COUNT(*) FROM items WHERE title LIKE ?", [f"%{title}%"])
        return int(row.fetchone()[0])
    finally:
        db.close()


def keyboard_of(bot: Bot, chat_id: int) -> tuple[int, list[list[dict[str, str]]]]:
    """The last message with buttons sent to a chat: its id and its buttons."""
    message = [m for m in bot.fake.messages_to(chat_id) if m.reply_markup][-1]
    return message.message_id, json.loads(message.reply_markup)["inline_keyboard"]


def press(bot: Bot, chat_id: int, data: str, message_id: int, **options: object) -> str:
    """Press a button; return what the bot answered to the press."""
    before = len(bot.fake.calls_of("answerCallbackQuery"))
    bot.fake.push_callback(chat_id, data, message_id, **options)  # type: ignore[arg-type]
    bot.fake.wait_for(lambda: len(bot.fake.calls_of("answerCallbackQuery")) > before)
    return str(bot.fake.calls_of("answerCallbackQuery")[before].get("text", ""))


def test_topics_before_start_registers_the_chat_and_alerts_arrive(
    bot: Bot, feed_server: FeedServer
) -> None:
    first = bot.say("/sujets")
    assert first.startswith("👋 Bienvenue ! Vous êtes abonné(e) à : Surveillance biométrique")
    _, buttons = keyboard_of(bot, USER)
    assert buttons[0][0]["callback_data"] == "unsub:biometrie"  # subscribed, not empty

    assert "Bienvenue" in bot.say("/start")
    assert "Vous êtes abonné(e) à : Surveillance biométrique" in texts(bot, USER)[-1]
    feed_server.serve("/feed", feed_items(1, start=3))
    bot.fake.wait_for(lambda: any("n° 3" in t for t in texts(bot, USER)))


def test_stop_then_topics_then_start_is_not_a_dead_end(bot: Bot, feed_server: FeedServer) -> None:
    bot.say("/start")
    assert "effacées" in bot.say("/stop")
    assert "/start pour vous réabonner" in bot.say("/sujets")  # says how, does not subscribe
    assert "Vous êtes abonné(e) à : Surveillance biométrique" in bot.say("/start")
    feed_server.serve("/feed", feed_items(1, start=4))
    bot.fake.wait_for(lambda: any("n° 4" in t for t in texts(bot, USER)))


def test_start_with_no_topic_offers_the_topic_buttons(bot: Bot) -> None:
    bot.say("/start")
    message_id, _ = keyboard_of(bot, USER) if bot.say("/sujets") else (0, [])
    assert "Désabonné" in press(bot, USER, "unsub:biometrie", message_id)
    answer = bot.say("/start")
    assert "aucun sujet" in answer and "touchez un sujet" in answer
    _, buttons = keyboard_of(bot, USER)
    assert buttons[0][0]["callback_data"] == "sub:biometrie"


def test_search_folds_accents_and_case_and_covers_every_stored_item(
    bot: Bot, feed_server: FeedServer
) -> None:
    bot.say("/start")
    feed_server.serve(
        "/feed",
        rss(
            ("a", "Expérimentation des caméras augmentées à Marseille"),
            ("b", "Budget des caméras de la ville"),  # matches no topic: stored all the same
            ("c", "Ornithologie urbaine"),
        ),
    )
    bot.fake.wait_for(lambda: any("Marseille" in t for t in texts(bot, USER)))
    found = bot.say("/chercher CAMERAS augmentees")
    assert "Expérimentation des caméras augmentées à Marseille" in found
    assert "13/04/2022 · Source test · Surveillance biométrique" in found  # Paris date
    assert "Mots trouvés : caméras augmentées" in found
    assert "Budget" not in found

    every = bot.say("/chercher camera")
    assert "Budget des caméras de la ville" in every and "Marseille" in every
    assert "les plus récents d'abord" in every
    assert "les plus pertinents d'abord" in bot.say("/chercher camera tri:pertinence")
    nothing = bot.say("/chercher zoologie")
    assert nothing.startswith("Aucun résultat pour « zoologie »")
    assert "accents" in bot.say("/chercher")  # says what it searches

    recent = bot.say("/recent 99")
    assert "Dernières alertes (20 au plus)" in recent
    assert "13/04/2022" in recent and "Mots trouvés : caméras augmentées" in recent


def test_search_pages_with_a_more_button(bot: Bot, feed_server: FeedServer, workdir: Path) -> None:
    bot.say("/start")
    feed_server.serve("/feed", rss(*((f"p{i}", f"Vidéoprotection numéro {i}") for i in range(7))))
    bot.fake.wait_for(lambda: stored(workdir, "Vidéoprotection numéro") == 7)  # none alerts
    assert "numéro 6" in bot.say("/chercher videoprotection")
    first = texts(bot, USER)[-1]
    assert "1 à 5)" in first and first.count("• ") == 5
    message_id, buttons = keyboard_of(bot, USER)
    assert buttons == [[{"text": "Plus ▸", "callback_data": "plus:1:5"}]]
    before = len(texts(bot, USER))
    press(bot, USER, "plus:1:5", message_id)
    bot.fake.wait_for(lambda: len(texts(bot, USER)) > before)
    second = texts(bot, USER)[-1]
    assert "6 à 7)" in second and second.count("• ") == 2
    shown = first + second
    assert all(f"numéro {i}\n" in shown for i in range(7))  # every one, once


def test_settings_buttons_change_how_alerts_come(
    bot: Bot, feed_server: FeedServer, workdir: Path
) -> None:
    bot.say("/start")
    menu = bot.say("/reglages")
    assert "Mode : chaque alerte dès sa publication" in menu
    message_id, _ = keyboard_of(bot, USER)
    assert press(bot, USER, "set:mode:grouped", message_id) == "Réglage enregistré."
    assert "Mode : alertes groupées" in bot.say("/abonnements")

    before = len(texts(bot, USER))
    feed_server.serve("/feed", feed_items(2, start=10))
    bot.fake.wait_for(lambda: any("n° 11" in t for t in texts(bot, USER)[before:]))
    (grouped,) = texts(bot, USER)[before:]
    assert grouped.startswith("📚 2 nouvelles alertes") and "n° 10" in grouped

    press(bot, USER, "set:silent", message_id)
    press(bot, USER, "set:mode:digest", message_id)
    assert "Mode : résumé quotidien" in bot.say("/abonnements")
    db = sqlite3.connect(workdir / "watcher.db")
    now = datetime.now(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    if now >= "08:00":  # today's (empty) digest is done: what comes next waits for tomorrow
        bot.fake.wait_for(
            lambda: (
                db.execute(
                    "SELECT last_digest FROM subscribers WHERE chat_id = ?", [USER]
                ).fetchone()[0]
                is not None
            )
        )
    before = len(texts(bot, USER))
    feed_server.serve("/feed", feed_items(5, start=20))
    bot.fake.wait_for(lambda: any("n° 24" in m.text for m in bot.fake.messages_to("@veille")))
    assert alerts_about(workdir, USER, "n° 2") == ["pending"] * 5  # held for the digest
    assert not any("n° 2" in t for t in texts(bot, USER)[before:])

    past = [h for h in ("07:00", "08:00", "12:00", "18:00", "21:00") if h <= now]
    if past:  # an hour already past today: what waits comes as today's digest
        press(bot, USER, f"set:hour:{past[-1]}", message_id)
        bot.fake.wait_for(lambda: any("sélection du jour" in t for t in texts(bot, USER)))
        (digest,) = [t for t in texts(bot, USER) if "sélection du jour" in t]
        assert digest.startswith("🗞 Votre sélection du jour — 5 alertes")
        assert [t for t in texts(bot, USER)[before:] if "n° 2" in t] == [digest]  # none alone
        sent = [m for m in bot.fake.calls_of("sendMessage") if "sélection" in m.get("text", "")]
        assert sent[-1].get("disable_notification") in ("true", "True", True)


def test_a_topic_added_by_reload_is_announced_once(bot: Bot, workdir: Path) -> None:
    bot.say("/start")
    config = workdir / "feeds.yml"
    config.write_text(
        config.read_text().replace(
            "sources:",
            "  drones:\n    label: Drones\n    keywords:\n      - drone\nsources:",
            1,
        )
    )
    answer = bot.say("/recharger", chat_id=MAINTAINER)
    assert "Nouveau(x) sujet(s) annoncé(s) aux abonnés : Drones" in answer
    bot.fake.wait_for(lambda: any("Nouveau sujet surveillé" in t for t in texts(bot, USER)))
    _, buttons = keyboard_of(bot, USER)
    assert buttons == [[{"text": "➕ Drones", "callback_data": "sub:drones"}]]

    bot.say("/recharger", chat_id=MAINTAINER)  # answered: nothing new was queued
    db = sqlite3.connect(workdir / "watcher.db")
    queued = db.execute("SELECT COUNT(*) FROM notices WHERE destination = ?", [str(USER)])
    assert queued.fetchone() == (1,)  # the bot's messages that are not replies come from there
    assert sum("Nouveau sujet surveillé" in t for t in texts(bot, USER)) == 1


def test_a_topic_added_by_sighup_is_announced_like_recharger(bot: Bot, workdir: Path) -> None:
    bot.say("/start")
    config = workdir / "feeds.yml"
    config.write_text(
        config.read_text().replace(
            "sources:",
            "  drones:\n    label: Drones\n    keywords:\n      - drone\nsources:",
            1,
        )
    )
    bot.process.send_signal(signal.SIGHUP)
    bot.fake.wait_for(lambda: any("Nouveau sujet surveillé" in t for t in texts(bot, USER)))
    _, buttons = keyboard_of(bot, USER)
    assert buttons == [[{"text": "➕ Drones", "callback_data": "sub:drones"}]]


def test_reload_errors_are_explained_in_french(bot: Bot, workdir: Path) -> None:
    config = workdir / "feeds.yml"
    config.write_text(config.read_text().replace("interval: 1s", "interval: 5 min"))
    broken = bot.say("/recharger", chat_id=MAINTAINER)
    assert broken.startswith("❌ Configuration inchangée : feeds.yml contient une erreur")
    assert "feeds.yml: sources[src].interval:" in broken
    assert broken.endswith("Corrigez le fichier puis renvoyez /recharger.")
    stats = bot.say("/stats", chat_id=MAINTAINER)
    assert "Abonnés : 0 actifs sur 0" in stats and "Alertes : " in stats


def test_pause_sums_up_what_it_kept_back(bot: Bot, feed_server: FeedServer, workdir: Path) -> None:
    bot.say("/start")
    bot.say("/pause")
    feed_server.serve("/feed", feed_items(3, start=30))
    bot.fake.wait_for(lambda: len(bot.fake.messages_to("@veille")) >= 1)  # routed
    assert alerts_about(workdir, USER, "n° 3") == []
    assert not any("n° 3" in t for t in texts(bot, USER))
    assert bot.say("/reprendre") == "Alertes réactivées. 3 alertes pendant la pause : /recent 3"
    assert "n° 32" in bot.say("/recent 3")


def test_territories_keep_only_alerts_from_the_chosen_councils(
    workdir: Path, feed_server: FeedServer
) -> None:
    sources = [
        {
            "id": f"council-{n}",
            "name": f"Conseil {name}",
            "url": feed_server.serve(f"/{n}", rss()),
            "interval": "1s",
            "territory": name,
        }
        for n, name in enumerate(("Bretagne", "Occitanie"))
    ]
    sources.append(
        {
            "id": "jo",
            "name": "Journal officiel",
            "url": feed_server.serve("/jo", rss()),
            "interval": "1s",
        }
    )
    with running_bot(workdir, feed_server, sources) as bot:
        bot.fake.wait_for(lambda: feed_server.hits("/1") and feed_server.hits("/jo"))
        bot.say("/start")
        assert "Conseil Bretagne <i>" not in bot.say("/sources")  # the HTML is parsed
        assert "(flux RSS, Bretagne, toutes les 1s)" in texts(bot, USER)[-1]
        menu = bot.say("/reglages")
        assert "Territoires : tous" in menu
        message_id, buttons = keyboard_of(bot, USER)
        rows = [[b["text"] for b in row] for row in buttons]
        at = rows.index(["✅ Tous les territoires"])
        assert rows[at : at + 2] == [
            ["✅ Tous les territoires"],
            ["Bretagne", "Occitanie"],
        ]
        press(bot, USER, "set:where:0", message_id)  # answered once the routing is renewed
        assert "Territoires : Bretagne" in bot.say("/abonnements")

        feed_server.serve("/0", rss(("b1", "Reconnaissance faciale en Bretagne")))
        feed_server.serve("/1", rss(("o1", "Reconnaissance faciale en Occitanie")))
        feed_server.serve("/jo", rss(("j1", "Décret sur la reconnaissance faciale")))
        bot.fake.wait_for(
            lambda: any("Occitanie" in m.text for m in bot.fake.messages_to("@veille"))
        )
        bot.fake.wait_for(lambda: any("Décret" in t for t in texts(bot, USER)))
        bot.fake.wait_for(lambda: any("en Bretagne" in t for t in texts(bot, USER)))
        assert alerts_about(workdir, USER, "en Occitanie") == []
        assert not any("en Occitanie" in t for t in texts(bot, USER))
