"""Telegram's one gate (``delivery.telegram``): the Bot API's errors are classified in
that module only, every Bot API call of the package passes through it, and what a
person sees when Telegram answers an edit that changes nothing."""

import ast
import asyncio
import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import telegram
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.error import Conflict as TelegramConflict

from tests.feed_server import FeedServer
from tests.test_bot_commands import USER, Bot, running_bot
from tests.test_bot_subscribers import keyboard_of, press
from watcher.delivery.outcome import ChatGone, ChatMoved, Outcome, Refused, Sent, Transient
from watcher.delivery.outcome import RetryAfter as Wait
from watcher.delivery.telegram import Conflict, answer, classify
from watcher.errors import DeliveryError

PACKAGE = Path(__file__).resolve().parents[1] / "watcher"
GATE = PACKAGE / "delivery" / "telegram.py"
GATE_FUNCTIONS = {"answer", "attempt", "ask"}
# Names too common to tell apart: ``shutdown`` closes watcher's own HTTP clients (Bot's
# makes no call), ``close`` a coroutine never run (watcher never logs a bot out).
NOT_API_CALLS = {"shutdown", "close"}
API_METHODS = {
    name
    for cls in (
        telegram.Bot,
        telegram.Message,
        telegram.CallbackQuery,
        telegram.Chat,
        telegram.User,
        telegram.File,
    )
    for name, member in inspect.getmembers(cls)
    if inspect.iscoroutinefunction(member) and not name.startswith("_")
} - NOT_API_CALLS


def package_modules() -> Iterator[Path]:
    return (path for path in sorted(PACKAGE.rglob("*.py")) if path != GATE)


def uses_telegram(source: str) -> bool:
    """Whether a module imports python-telegram-bot (only those hold its objects)."""
    return any(
        (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "telegram")
        or (
            isinstance(node, ast.Import)
            and any(a.name.split(".")[0] == "telegram" for a in node.names)
        )
        for node in ast.walk(ast.parse(source))
    )


def imports_telegram_error(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("telegram.error"):
            return True
        if isinstance(node, ast.Import) and any(
            a.name.startswith("telegram.error") for a in node.names
        ):
            return True
    return False


def calls_outside_the_gate(source: str) -> list[str]:
    """Bot API calls not made as the body of a lambda handed to the gate's functions."""
    tree = ast.parse(source)
    through_gate: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in GATE_FUNCTIONS:
            for argument in node.args:
                if isinstance(argument, ast.Lambda) and isinstance(argument.body, ast.Call):
                    through_gate.add(id(argument.body))
    return [
        f"line {node.lineno}: {ast.unparse(node.func)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in API_METHODS
        and id(node) not in through_gate
    ]


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def test_only_the_gate_imports_telegram_errors() -> None:
    importing = [
        str(path.relative_to(PACKAGE.parent))
        for path in package_modules()
        if imports_telegram_error(path.read_text(encoding="utf-8"))
    ]
    assert importing == []
    assert imports_telegram_error(GATE.read_text(encoding="utf-8"))


def test_every_bot_api_call_goes_through_the_gate() -> None:
    found = {
        str(path.relative_to(PACKAGE.parent)): calls
        for path in package_modules()
        if uses_telegram(source := path.read_text(encoding="utf-8"))
        and (calls := calls_outside_the_gate(source))
    }
    assert found == {}


def test_the_checks_find_a_call_or_an_import_that_bypasses_the_gate() -> None:
    bypassing = (
        "from telegram.error import BadRequest\n"
        "async def f(query, bot):\n"
        "    await query.answer('ok')\n"
        "    await answer(lambda: bot.send_message(1, 'x'), 'reply')\n"
        "    await bot.get_chat_member(1, 2)\n"
    )
    assert imports_telegram_error(bypassing)
    assert calls_outside_the_gate(bypassing) == [
        "line 3: query.answer",
        "line 5: bot.get_chat_member",
    ]


@pytest.fixture(autouse=True)
def durations_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """As ``watcher`` runs python-telegram-bot (``cli.py`` opts in to its timedeltas)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


ERRORS: dict[str, tuple[Callable[[], TelegramError], Outcome]] = {
    "429": (lambda: RetryAfter(dt.timedelta(seconds=7)), Wait(7.0)),
    "blocked": (
        lambda: Forbidden("Forbidden: bot was blocked by the user"),
        ChatGone("Forbidden: bot was blocked by the user"),
    ),
    "chat-not-found": (
        lambda: BadRequest("Bad Request: chat not found"),
        ChatGone("Chat not found"),
    ),
    "too-long": (
        lambda: BadRequest("Bad Request: message is too long"),
        Refused("Message is too long"),
    ),
    "migrated": (lambda: ChatMigrated(-1009), ChatMoved("-1009")),
    "timeout": (TimedOut, Transient("network: Timed out")),
    "502": (lambda: NetworkError("Bad Gateway"), Transient("network: Bad Gateway")),
    "409": (
        lambda: TelegramConflict("Conflict: terminated by other getUpdates request"),
        Conflict("telegram: Conflict: terminated by other getUpdates request"),
    ),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_each_bot_api_error_is_classified_once(
    case: tuple[Callable[[], TelegramError], Outcome],
) -> None:
    error, outcome = case
    assert classify(error()) == outcome
    assert type(classify(error())) is type(outcome)


def test_a_rejected_token_stops_everything() -> None:
    with pytest.raises(DeliveryError, match="check the token from @BotFather"):
        classify(InvalidToken())


def test_a_reply_waits_out_one_429_and_an_unchanged_edit_is_done() -> None:
    answers: list[Exception | None] = [RetryAfter(dt.timedelta(0)), None]

    async def call() -> None:
        if error := answers.pop(0):
            raise error

    assert asyncio.run(answer(call, "reply")) == Sent()
    assert answers == []

    async def unchanged() -> None:
        raise BadRequest("Bad Request: message is not modified: specified new message content")

    assert asyncio.run(answer(unchanged, "redraw")) == Sent()


@pytest.fixture
def bot(workdir: Path, feed_server: FeedServer) -> Iterator[Bot]:
    with running_bot(workdir, feed_server) as running:
        yield running


def test_a_press_that_changes_nothing_is_answered_without_an_error(bot: Bot) -> None:
    bot.say("/start")
    assert "Types de textes : tous" in bot.say("/reglages")
    message_id, _ = keyboard_of(bot, USER)
    edits = len(bot.fake.calls_of("editMessageText"))
    assert press(bot, USER, "set:kind:all", message_id) == "Réglage enregistré."
    bot.fake.wait_for(lambda: len(bot.fake.calls_of("editMessageText")) > edits)
    assert "Mode : alertes immédiates" in bot.say("/abonnements")  # handled after the press
    assert message_id not in bot.fake.shown  # Telegram refused the edit: nothing changed
    code, log = bot.stop()
    assert code == 0
    assert not any("erreur est survenue" in m.text for m in bot.fake.messages_to(USER))
    assert "not answered" not in log and "Traceback" not in log
