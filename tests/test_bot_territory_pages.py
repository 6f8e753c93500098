"""/reglages with more territories than Telegram's keyboard holds: pages of 40, ◀ ▶."""

import json
from pathlib import Path

from tests.feed_server import FeedServer
from tests.test_bot_commands import USER, running_bot
from tests.test_bot_subscribers import keyboard_of, press, rss


def test_territories_come_in_pages_and_each_can_be_chosen(
    workdir: Path, feed_server: FeedServer
) -> None:
    # 45 territories, like the shipped file's 120 (regions, cities, départements) in small.
    names = [f"Département {n:02d}" for n in range(1, 46)]
    sources: list[dict[str, object]] = [
        {
            "id": f"pref-{n}",
            "name": f"Préfecture {n}",
            "url": feed_server.serve(f"/{n}", rss()),
            "interval": "1h",
            "territory": f"'{name}'",
        }
        for n, name in enumerate(names)
    ]
    with running_bot(workdir, feed_server, sources) as bot:
        bot.say("/start")
        bot.say("/reglages")
        message_id, buttons = keyboard_of(bot, USER)
        shown = [b["text"] for row in buttons for b in row if b["text"].startswith("Dép")]
        assert shown == names[:40]
        assert page_turners(buttons) == ["Territoires ▶"]

        press(bot, USER, "set:wpage:1", message_id)
        bot.fake.wait_for(lambda: bot.fake.calls_of("editMessageText"))
        markup = bot.fake.calls_of("editMessageText")[-1]["reply_markup"]
        second = (json.loads(markup) if isinstance(markup, str) else markup)["inline_keyboard"]
        assert [b["text"] for row in second for b in row if b["text"].startswith("Dép")] == (
            names[40:]
        )
        assert page_turners(second) == ["◀ Territoires"]

        assert press(bot, USER, "set:where:42", message_id) == "Réglage enregistré."
        assert "Territoires : Département 43" in bot.say("/abonnements")


def page_turners(rows: list[list[dict[str, str]]]) -> list[str]:
    """The buttons that turn the territories' pages, wherever their row stands."""
    return [b["text"] for row in rows for b in row if b["callback_data"].startswith("set:wpage:")]
