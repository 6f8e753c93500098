"""Small surprises, through ``watcher run`` and the fake Bot API: /stop is kept until
/start (in a group, an administrator's), /id and forwarded channel posts give the
ids feeds.yml wants, plain text gets help, each search pages through itself."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feed_server import FeedServer
from tests.test_bot_commands import USER, Bot, running_bot
from tests.test_bot_subscribers import alerts_about, keyboard_of, press, rss, texts
from tests.test_telegram_delivery import feed_items

GROUP = -100888
ADMIN, MEMBER = 501, 502


@pytest.fixture
def bot(workdir: Path, feed_server: FeedServer) -> Iterator[Bot]:
    with running_bot(workdir, feed_server) as running:
        yield running


def test_after_stop_only_start_subscribes_again(
    bot: Bot, feed_server: FeedServer, workdir: Path
) -> None:
    bot.say("/start")
    assert "effacées" in bot.say("/stop")
    for command in ("/recent", "/sujets", "/chercher camera", "/abonnements"):
        assert bot.say(command).startswith("Ce chat s'est désabonné (/stop)"), command
    assert "/start pour vous réabonner" in bot.say("/aide")
    feed_server.serve("/feed", feed_items(1, start=40))
    bot.fake.wait_for(lambda: bot.fake.messages_to("@veille"))  # polled, routed, alerted
    assert alerts_about(workdir, USER, "n° 40") == []
    assert not any("n° 40" in t for t in texts(bot, USER))

    assert "Vous êtes abonné(e) à : Surveillance biométrique" in bot.say("/start")
    feed_server.serve("/feed", feed_items(1, start=41))
    bot.fake.wait_for(lambda: any("n° 41" in t for t in texts(bot, USER)))


def test_in_a_group_after_the_admins_stop_only_an_admins_start_counts(
    bot: Bot, feed_server: FeedServer, workdir: Path
) -> None:
    bot.fake.admins[GROUP] = {ADMIN}

    def say(text: str, user: int) -> str:
        return bot.say(text, chat_id=GROUP, user_id=user, chat_type="supergroup")

    assert "Bienvenue" in say("/start", MEMBER)
    assert say("/stop", MEMBER).startswith("Seuls les administrateurs")
    assert "effacées" in say("/stop", ADMIN)
    assert say("/start", MEMBER).startswith("Seuls les administrateurs")
    assert say("/recent", MEMBER).startswith("Ce chat s'est désabonné")
    feed_server.serve("/feed", feed_items(1, start=50))
    bot.fake.wait_for(lambda: bot.fake.messages_to("@veille"))  # polled, routed, alerted
    assert alerts_about(workdir, GROUP, "n° 50") == []
    assert not any("n° 50" in t for t in texts(bot, GROUP))

    assert "Vous êtes abonné(e) à" in say("/start", ADMIN)
    feed_server.serve("/feed", feed_items(1, start=51))
    bot.fake.wait_for(lambda: any("n° 51" in t for t in texts(bot, GROUP)))


def test_id_tells_each_chat_its_numeric_id(bot: Bot) -> None:
    mine = bot.say("/id")
    assert f"Votre identifiant Telegram : {USER}" in mine
    assert f"maintainers: [{USER}]" in mine
    group = bot.say("/id", chat_id=GROUP, user_id=MEMBER, chat_type="group")
    assert f"Identifiant de ce chat : {GROUP}" in group
    assert f"- chat_id: {GROUP}" in group and f"Votre identifiant Telegram : {MEMBER}" in group
    channel = {"type": "channel", "chat": {"id": -1001234, "type": "channel", "title": "V"}}
    forwarded = bot.say(
        "Un texte du canal",
        extra={"forward_origin": {**channel, "message_id": 9, "date": int(time.time())}},
    )
    assert forwarded.startswith("Identifiant du canal V : -1001234")


def test_plain_text_gets_a_short_help_in_private_only(bot: Bot) -> None:
    answer = bot.say("bonjour")
    assert answer.startswith("Je comprends les commandes qui commencent par /")
    assert "/chercher reconnaissance faciale" in answer
    before = len(bot.fake.calls_of("sendMessage"))
    bot.fake.push_message(GROUP, "bonjour à tous", user_id=MEMBER, chat_type="group")
    bot.say("/id")  # handled after the group's message
    assert len(bot.fake.calls_of("sendMessage")) == before + 1


def test_more_pages_through_its_own_search(bot: Bot, feed_server: FeedServer) -> None:
    bot.say("/start")
    feed_server.serve(
        "/feed",
        rss(
            *((f"v{i}", f"Vidéoprotection numéro {i}") for i in range(7)),
            *((f"d{i}", f"Drone municipal numéro {i}") for i in range(7)),
        ),
    )
    bot.fake.wait_for(lambda: "numéro 6" in bot.say("/chercher videoprotection"))
    first_search, buttons = keyboard_of(bot, USER)
    first_more = buttons[0][0]["callback_data"]
    bot.fake.wait_for(lambda: "Drone" in bot.say("/chercher drone"))
    before = len(texts(bot, USER))
    press(bot, USER, first_more, first_search)  # the older list's "Plus"
    bot.fake.wait_for(lambda: len(texts(bot, USER)) > before)
    page = texts(bot, USER)[-1]
    assert "« videoprotection »" in page and "6 à 7)" in page and "Drone" not in page


def test_the_search_hint_gives_a_prefix_that_works(bot: Bot, feed_server: FeedServer) -> None:
    bot.say("/start")
    feed_server.serve("/feed", rss(("b", "Identification biométrique des voyageurs")))
    bot.fake.wait_for(lambda: "Identification" in bot.say("/chercher voyageurs"))
    hint = bot.say("/chercher biométrie identifiant")
    assert "/chercher biométri*" in hint
    assert "Identification biométrique des voyageurs" in bot.say("/chercher biométri* identif*")
