"""Groups and departures: only a group's administrators change its alerts, commands for other
bots are ignored, and /stop leaves no row that names the chat (issue 12, point 7)."""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feed_server import FeedServer
from tests.test_bot_commands import Bot, running_bot
from tests.test_bot_subscribers import GROUP, keyboard_of, press, texts
from tests.test_telegram_delivery import feed_items

MEMBER, ADMIN = 55, 56


@pytest.fixture
def bot(workdir: Path, feed_server: FeedServer) -> Iterator[Bot]:
    with running_bot(workdir, feed_server) as running:
        yield running


def test_group_changes_are_for_its_administrators(bot: Bot) -> None:
    bot.fake.admins[GROUP] = {ADMIN}
    group = {"user_id": MEMBER, "chat_type": "supergroup"}
    refused = bot.say("/pause", chat_id=GROUP, **group)
    assert refused.startswith("Seuls les administrateurs de ce groupe")
    assert bot.say("/stop", chat_id=GROUP, **group).startswith("Seuls les administrateurs")
    assert "Réglages" not in bot.say("/reglages", chat_id=GROUP, **group)
    assert "Sources surveillées" in bot.say("/sources", chat_id=GROUP, **group)  # open to all
    message_id = bot.fake.messages_to(GROUP)[-1].message_id
    answer = press(bot, GROUP, "unsub:biometrie", message_id, **group)
    assert answer.startswith("Seuls les administrateurs")

    admin = {"user_id": ADMIN, "chat_type": "supergroup"}
    assert bot.say("/pause", chat_id=GROUP, **admin).startswith("Alertes en pause")
    assert bot.fake.calls_of("getChatMember")


def test_an_administrator_telegram_cannot_confirm_is_refused_until_it_can(bot: Bot) -> None:
    bot.fake.admins[GROUP] = {ADMIN}
    admin = {"user_id": ADMIN, "chat_type": "supergroup"}
    bot.fake.failing["getChatMember"] = 1  # a 502: who administers the group is unknown
    assert bot.say("/pause", chat_id=GROUP, **admin).startswith("Seuls les administrateurs")
    assert "Alertes en pause" in bot.say("/pause", chat_id=GROUP, **admin)  # asked again
    code, log = bot.stop()
    assert code == 0
    assert f"could not ask Telegram who administers chat {GROUP}: network: Bad Gateway" in log
    assert "Traceback" not in log


def test_commands_for_other_bots_are_ignored(bot: Bot) -> None:
    bot.say("/start")
    group = {"user_id": ADMIN, "chat_type": "supergroup"}
    bot.fake.push_message(GROUP, "/ban@other_bot Camille", **group)  # type: ignore[arg-type]
    bot.fake.push_message(GROUP, "/inconnue", **group)  # type: ignore[arg-type]
    assert "/sujets" in bot.say("/aide@watcher_test_bot", chat_id=GROUP, **group)
    assert not any("inconnue" in t for t in texts(bot, GROUP))
    assert "/sujets" in bot.say("/aide@watcher_test_bot")
    assert bot.say("/ban@watcher_test_bot") == (
        "Commande inconnue. /aide pour la liste des commandes."
    )


def test_stop_erases_every_row_that_names_the_chat(
    bot: Bot, feed_server: FeedServer, workdir: Path
) -> None:
    chat = 987654321  # a number no test text contains
    bot.say("/start", chat_id=chat)
    bot.say("/reglages", chat_id=chat)
    message_id, _ = keyboard_of(bot, chat)
    press(bot, chat, "set:previews", message_id)
    feed_server.serve("/feed", feed_items(1, start=40))
    bot.fake.wait_for(lambda: any("n° 40" in t for t in texts(bot, chat)))
    db = sqlite3.connect(workdir / "watcher.db")
    assert rows_naming(db, chat)  # the check below can see it

    assert "effacées" in bot.say("/stop", chat_id=chat)
    assert rows_naming(db, chat) == []


def rows_naming(db: sqlite3.Connection, chat: int) -> list[str]:
    """Every table.column holding the chat id, as a number or as text."""
    found = []
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for column in [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]:
            hits = db.execute(
                f'SELECT COUNT(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) = ?', [str(chat)]
            ).fetchone()[0]
            if hits:
                found.append(f"{table}.{column}")
    return found
