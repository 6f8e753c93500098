"""The bot's commands, driven through ``watcher run`` and a fake Bot API server."""

import json
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import PYTHON, python_env, write_config
from tests.fake_telegram import TOKEN, FakeTelegram, Sent, parse_entities, running_fake_telegram
from tests.feed_server import FeedServer
from tests.test_telegram_delivery import feed_items

USER = 4242
MAINTAINER = 777
DRIFT = "⚠️ Source "  # how a drift notice to the maintainers starts


class Bot:
    """A running ``watcher run`` process and the fake Telegram it talks to."""

    def __init__(
        self, fake: FakeTelegram, process: subprocess.Popen[str], log: Path, env: dict[str, str]
    ) -> None:
        self.fake = fake
        self.process = process
        self.log = log
        self.env = env

    def say(self, text: str, chat_id: int = USER, **options: object) -> str:
        """Send a message as a user; return the bot's next reply as the user reads it."""
        before = len(self.replies(chat_id))
        self.fake.push_message(chat_id, text, **options)  # type: ignore[arg-type]
        self.fake.wait_for(lambda: len(self.replies(chat_id)) > before)
        reply = self.replies(chat_id)[before]
        return parse_entities(reply.text)[0] if reply.parse_mode == "HTML" else reply.text

    def replies(self, chat_id: int) -> list[Sent]:
        """Messages to the chat, without the drift notices a maintainer may get meanwhile
        (the test feed starts empty: a feed with no item is a drifting source)."""
        return [m for m in self.fake.messages_to(chat_id) if not m.text.startswith(DRIFT)]

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.process.returncode, self.log.read_text(encoding="utf-8")


def alerts_about(workdir: Path, chat: int | str, title: str) -> list[str]:
    """The states of the stored alerts to ``chat`` about texts whose title holds ``title``.

    A poll saves its items with every chat's alerts in one transaction: once one chat
    got an item's alert, a chat without a row here will never get that item."""
    db = sqlite3.connect(workdir / "watcher.db")
    try:
        rows = db.execute(
            "SELECT a.status FROM alerts a JOIN items i ON i.id = a.item_id "
            "WHERE a.destination = ? AND i.title LIKE ?",
            [str(chat), f"%{title}%"],
        )
        return [status for (status,) in rows]
    finally:
        db.close()


@pytest.fixture
def bot(workdir: Path, feed_server: FeedServer) -> Iterator[Bot]:
    with running_bot(workdir, feed_server) as running:
        yield running


@contextmanager
def running_bot(
    workdir: Path, feed_server: FeedServer, sources: list[dict[str, object]] | None = None
) -> Iterator[Bot]:
    """``watcher run`` with a token, on a feed served at /feed (or ``sources``), until the end."""
    url = feed_server.serve("/feed", feed_items(0))
    write_config(
        workdir,
        sources or [{"id": "src", "name": "Source test", "url": url, "interval": "1s"}],
        extra=f"maintainers: [{MAINTAINER}]\nchannels:\n  - chat_id: '@veille'\n",
    )
    with running_fake_telegram() as (fake, api_url):
        env = python_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api_url)
        log = workdir / "watcher.log"  # a file: an unread pipe would fill up and block the bot
        with log.open("w") as log_file:
            process = subprocess.Popen(
                [PYTHON, "-m", "watcher", "-v", "run"],
                cwd=workdir,
                env=env,
                stdout=log_file,
                stderr=log_file,
                text=True,
            )
        running = Bot(fake, process, log, env)
        try:
            fake.wait_for(lambda: fake.calls_of("getUpdates") and fake.calls_of("setMyCommands"))
            fake.wait_for(lambda: sources or feed_server.hits("/feed"))
            yield running
        finally:
            if process.poll() is None:
                _, err = running.stop()
                print(
                    "\n".join(line for line in err.splitlines() if " DEBUG " not in line)[-6000:]
                )  # shown on failure


def test_start_topics_button_then_a_new_item_arrives(
    bot: Bot, feed_server: FeedServer, workdir: Path
) -> None:
    welcome = bot.say("/start")
    assert "Bienvenue" in welcome and "Vous êtes abonné(e) à : Surveillance biométrique" in welcome

    bot.say("/sujets")
    (topics_message,) = [m for m in bot.fake.messages_to(USER) if m.reply_markup]
    keyboard = json.loads(topics_message.reply_markup)["inline_keyboard"]
    assert keyboard[0][0]["callback_data"] == "unsub:biometrie"

    bot.fake.push_callback(USER, "unsub:biometrie", topics_message.message_id)
    bot.fake.wait_for(lambda: bot.fake.calls_of("answerCallbackQuery"))
    assert "Désabonné" in bot.fake.calls_of("answerCallbackQuery")[0]["text"]
    bot.fake.wait_for(lambda: bot.fake.calls_of("editMessageReplyMarkup"))  # sent after the answer
    edited = bot.fake.calls_of("editMessageReplyMarkup")[0]
    assert "sub:biometrie" in edited["reply_markup"] and "unsub:" not in edited["reply_markup"]
    bot.fake.push_callback(USER, "sub:biometrie", topics_message.message_id)
    bot.fake.wait_for(lambda: len(bot.fake.calls_of("answerCallbackQuery")) == 2)
    assert "Abonné" in bot.fake.calls_of("answerCallbackQuery")[1]["text"]

    replies = len(bot.fake.messages_to(USER))
    feed_server.serve("/feed", feed_items(1, start=7))
    bot.fake.wait_for(lambda: len(bot.fake.messages_to(USER)) > replies)
    alert = bot.fake.messages_to(USER)[-1].text
    assert "Expérimentation n° 7 de reconnaissance faciale" in alert
    bot.fake.wait_for(lambda: bot.fake.messages_to("@veille"))  # the channel too

    code, err = bot.stop()
    assert code == 0
    assert TOKEN not in err  # the token never reaches the logs


def test_command_menu_is_registered_in_french(bot: Bot) -> None:
    commands = {c["command"] for c in bot.fake.commands}
    assert {
        "start",
        "sujets",
        "sources",
        "abonnements",
        "recent",
        "chercher",
        "pause",
        "reprendre",
        "digest",
        "reglages",
        "stop",
        "aide",
    } <= commands


def test_subscriber_commands(bot: Bot, feed_server: FeedServer, workdir: Path) -> None:
    bot.say("/start")
    assert "Source test" in bot.say("/sources")
    assert "Mode : alertes immédiates" in bot.say("/abonnements")
    assert bot.say("/recent").startswith("Aucune alerte pour l'instant.")
    assert bot.say("/recent beaucoup").startswith("Usage : /recent [n]")
    assert bot.say("/chercher").startswith("Usage : /chercher <mots>")
    assert "pause" in bot.say("/pause")
    assert "(en pause : /reprendre)" in bot.say("/abonnements")

    feed_server.serve("/feed", feed_items(1, start=3))
    bot.fake.wait_for(lambda: bot.fake.messages_to("@veille"))  # polled, routed, alerted
    assert alerts_about(workdir, USER, "n° 3") == []  # a paused subscriber gets nothing
    assert not any("n° 3" in m.text for m in bot.fake.messages_to(USER))

    assert "réactivées" in bot.say("/reprendre")
    assert "n° 3" in bot.say("/recent 2")
    assert "n° 3" in bot.say("/chercher faciale")
    assert bot.say("/chercher ornithologie").startswith("Aucun résultat")
    assert "résumé quotidien" in bot.say("/digest")
    assert "Mode : résumé quotidien" in bot.say("/abonnements")
    assert "dès sa publication" in bot.say("/digest")
    assert "/sujets" in bot.say("/aide")
    assert bot.say("/inconnue") == "Commande inconnue. /aide pour la liste des commandes."
    assert "désabonné(e) et vos données sont effacées" in bot.say("/stop")
    # No command but /start subscribes a chat that said /stop; each says how.
    assert bot.say("/abonnements").startswith("Ce chat s'est désabonné (/stop)")
    assert "Vous êtes abonné(e) à : Surveillance biométrique" in bot.say("/start")


def test_maintainer_commands_are_refused_to_others(bot: Bot) -> None:
    for command in ("/statut", "/tester vsa", "/recharger", "/stats"):
        assert bot.say(command) == "Désolé, cette commande est réservée aux mainteneurs de watcher."


def test_maintainer_commands(bot: Bot, workdir: Path) -> None:
    status = bot.say("/statut", chat_id=MAINTAINER)
    assert "src" in status and "File d'envoi" in status
    tested = bot.say("/tester Les caméras augmentées du métro", chat_id=MAINTAINER)
    assert "caméra(s) augmentée" in tested and "«caméras augmentées»" in tested
    assert bot.say("/tester budget", chat_id=MAINTAINER) == "Aucune correspondance."
    assert "Abonnés" in bot.say("/stats", chat_id=MAINTAINER)

    config = workdir / "feeds.yml"
    good = config.read_text()
    config.write_text(good.replace("interval: 1s", "interval: 5 min"))
    broken = bot.say("/recharger", chat_id=MAINTAINER)
    assert broken.startswith("❌ Configuration inchangée")
    assert "feeds.yml: sources[src].interval:" in broken
    assert "caméra" in bot.say("/tester caméras augmentées", chat_id=MAINTAINER)  # still running

    config.write_text(
        good.replace("- reconnaissance faciale", "- reconnaissance faciale\n      - drone")
    )
    assert bot.say("/recharger", chat_id=MAINTAINER).startswith("✅ Configuration rechargée")
    assert "drone" in bot.say("/tester un drone", chat_id=MAINTAINER)


def test_blocking_the_bot_deactivates_and_start_reactivates(
    bot: Bot, feed_server: FeedServer, workdir: Path
) -> None:
    bot.say("/start")
    bot.fake.blocked.add(USER)
    feed_server.serve("/feed", feed_items(1, start=5))
    db = sqlite3.connect(workdir / "watcher.db")
    bot.fake.wait_for(  # Telegram's 403 read: the chat is gone
        lambda: (
            db.execute("SELECT active FROM subscribers WHERE chat_id = ?", [USER]).fetchone()
            == (0,)
        )
    )
    bot.fake.blocked.discard(USER)
    assert "Bienvenue" in bot.say("/start")
    feed_server.serve("/feed", feed_items(1, start=6))
    bot.fake.wait_for(lambda: any("n° 6" in m.text for m in bot.fake.messages_to(USER)))


def test_my_chat_member_blocked_deactivates_the_subscriber(bot: Bot, workdir: Path) -> None:
    bot.say("/start")
    bot.fake.push_blocked(USER)
    db = sqlite3.connect(workdir / "watcher.db")
    bot.fake.wait_for(
        lambda: (
            db.execute("SELECT active FROM subscribers WHERE chat_id = ?", [USER]).fetchone()
            == (0,)
        )
    )


def test_a_second_bot_on_the_same_token_stops_and_the_first_keeps_running(
    bot: Bot, workdir: Path
) -> None:
    bot.fake.conflict = True  # the fake answers getUpdates with 409, as Telegram does
    second = subprocess.run(
        [PYTHON, "-m", "watcher", "--db", "second.db", "run"],
        cwd=workdir,
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 1
    assert second.stderr.strip().splitlines()[-1] == (
        "watcher: another process is already polling Telegram with this bot token "
        "(409 Conflict): run one watcher per token"
    )
    bot.fake.wait_for(  # the first one meets the 409s too, and must not stop
        lambda: "this one keeps running and retries" in bot.log.read_text(encoding="utf-8")
    )
    assert bot.process.poll() is None
    bot.fake.conflict = False
    assert "/sujets" in bot.say("/aide")
