"""A fake Telegram Bot API server on 127.0.0.1, reached by python-telegram-bot via base_url.

It answers the methods watcher uses with the real status codes and error
descriptions, and reproduces what matters: 429 with ``retry_after`` when the
limits are exceeded (1 msg/s per private chat, 20/min per group or channel,
30/s overall), 403 for blocked chats, 400 with ``migrate_to_chat_id`` for a
migrated group, 400 for malformed HTML or text over 4096 characters. It records
every accepted message and every breach of a retry_after it asked for.
"""

import json
import re
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import default
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.waiting import wait_until

TOKEN = "123456:TEST-token_abcdefghijklmnop"
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
}
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "watcher", "username": "watcher_test_bot"}


@dataclass
class Sent:
    chat_id: int | str
    text: str
    parse_mode: str | None
    reply_markup: Any
    at: float
    message_id: int


class _EntityParser(HTMLParser):
    """Telegram's HTML rules: allowed tags only, properly closed; returns the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.error:
            return
        if tag not in ALLOWED_TAGS:
            self.error = f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.error:
            return
        if not self.stack or self.stack[-1] != tag:
            self.error = f'Can\'t find end tag corresponding to start tag "{tag}"'
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_entities(text: str) -> tuple[str, str | None]:
    parser = _EntityParser()
    raw = re.sub(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", "&amp;", text)
    if re.search(r"<a href=[^\"']", text):
        return "", "Can't parse entities: unclosed start tag"
    parser.feed(raw)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
    return "".join(parser.text), parser.error


class FakeTelegram:
    """State and knobs of the fake Bot API."""

    def __init__(self, *, enforce_limits: bool = True, send_delay: float = 0.0) -> None:
        self.enforce_limits = enforce_limits
        self.send_delay = send_delay
        self.lock = threading.Lock()
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 1
        self.next_message_id = 1
        self.sent: list[Sent] = []
        self.shown: dict[int, tuple[str, Any]] = {}  # message id -> (text, buttons) once edited
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.blocked: set[int] = set()
        self.migrated: dict[int, int] = {}
        self.reject_html: set[int] = set()
        self.force_429: dict[int | str, int] = {}  # chat -> how many sends to refuse first
        # An outage: the next ``outage`` sendMessage calls answer 502, or ("reset") drop
        # the connection without an answer, as a proxy or a dead link would.
        self.outage = 0
        self.outage_mode = "502"
        self.refuse: dict[int | str, str] = {}  # chat -> a 400 description for every send
        self.failing: dict[str, int] = {}  # method -> how many of its next calls answer 502
        # The Bot API unreachable: while True, every call's connection is dropped unanswered.
        self.down = False
        # Telegram's own rule for two pollers: a getUpdates arriving while another is
        # pending ends the pending one with 409 ("terminated by other getUpdates request").
        self.exclusive_polling = False
        self._polls_started = 0
        self.retry_after_until: dict[str, float] = {}
        self.breaches: list[str] = []
        self.rate_limited = 0
        self.private_times: dict[str, deque[float]] = defaultdict(deque)
        self.group_times: dict[str, deque[float]] = defaultdict(deque)
        self.global_times: deque[float] = deque()
        self.commands: list[dict[str, str]] = []
        self.conflict = False  # answer getUpdates with 409, as when another bot polls
        self.confirmed_offset = 0
        # Groups' administrators (chat -> user ids), for getChatMember/getChatAdministrators.
        self.admins: dict[int, set[int]] = {}
        # Files: what sendDocument uploaded (chat, file name, bytes, caption), and what
        # users' documents hold (file_id -> bytes), served by getFile and /file/bot...
        self.documents: list[tuple[str, str, bytes, str]] = []
        self.files: dict[str, bytes] = {}

    # -- what tests use -------------------------------------------------------

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        extra: dict[str, Any] | None = None,
    ) -> None:
        """A message from a user; ``extra`` adds Message fields (a ``forward_origin``...)."""
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": "Camille"}
        message: dict[str, Any] = {
            "message_id": self._message_id(),
            "date": int(time.time()),
            "chat": {
                "id": chat_id,
                "type": chat_type,
                **({"first_name": "Camille"} if chat_type == "private" else {"title": "Veille"}),
            },
            "from": user,
            "text": text,
            **(extra or {}),
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self._push({"message": message})

    def push_blocked(self, chat_id: int) -> None:
        """The user blocked the bot: Telegram sends a my_chat_member update."""
        self._push(
            {
                "my_chat_member": {
                    "chat": {"id": chat_id, "type": "private", "first_name": "Camille"},
                    "from": {"id": chat_id, "is_bot": False, "first_name": "Camille"},
                    "date": int(time.time()),
                    "old_chat_member": {"user": BOT_USER, "status": "member"},
                    "new_chat_member": {"user": BOT_USER, "status": "kicked", "until_date": 0},
                }
            }
        )

    def push_callback(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        username: str | None = None,
    ) -> str:
        """A press on a button; ``username``: the chat's public @name (a channel's)."""
        query_id = f"cb{self.next_update_id}"
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if username:
            chat["username"] = username
        chat.update({"first_name": "Camille"} if chat_type == "private" else {"title": "Veille"})
        # As Telegram does, the pressed message comes with its buttons (when the bot sent it).
        with self.lock:
            sent = next((m for m in self.sent if m.message_id == message_id), None)
        markup = json.loads(sent.reply_markup) if sent is not None and sent.reply_markup else None
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": {"id": user_id or chat_id, "is_bot": False, "first_name": "Camille"},
                    "chat_instance": "ci",
                    "data": data,
                    "message": {
                        "message_id": message_id,
                        "date": int(time.time()),
                        "chat": chat,
                        "from": BOT_USER,
                        "text": "Sujets",
                        **({"reply_markup": markup} if markup else {}),
                    },
                }
            }
        )
        return query_id

    def messages_to(self, chat_id: int | str) -> list[Sent]:
        with self.lock:
            return [m for m in self.sent if str(m.chat_id) == str(chat_id)]

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [params for name, params in self.calls if name == method]

    def wait_for(self, condition: Any, timeout: float = 20.0) -> None:
        wait_until(condition, "the fake Telegram server to see what was expected", timeout)

    # -- internals ------------------------------------------------------------

    def _message_id(self) -> int:
        self.next_message_id += 1
        return self.next_message_id

    def _push(self, payload: dict[str, Any]) -> None:
        with self.lock:
            payload["update_id"] = self.next_update_id
            self.next_update_id += 1
            self.updates.append(payload)

    def handle(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if token != TOKEN:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        with self.lock:
            self.calls.append((method, params))
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if method in ("deleteWebhook", "setMyCommands", "answerCallbackQuery", "close", "logOut"):
            if method == "setMyCommands":
                self.commands = json.loads(params.get("commands", "[]"))
            return 200, {"ok": True, "result": True}
        if method == "getMyCommands":
            return 200, {"ok": True, "result": self.commands}
        if method == "getUpdates":
            if self.conflict:
                return 409, {
                    "ok": False,
                    "error_code": 409,
                    "description": "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                }
            updates = self._get_updates(params)
            if updates is None:
                return 409, {
                    "ok": False,
                    "error_code": 409,
                    "description": "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                }
            return 200, {"ok": True, "result": updates}
        if method == "sendMessage":
            return self._send_message(params)
        if method == "sendDocument":
            return self._send_document(params)
        if method == "getFile":
            file_id = params.get("file_id", "")
            if file_id not in self.files:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: invalid file_id",
                }
            result = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
            result |= {"file_size": len(self.files[file_id]), "file_path": f"documents/{file_id}"}
            return 200, {"ok": True, "result": result}
        if method in ("getChatMember", "getChatAdministrators"):
            return self._chat_members(method, params)
        if method in ("editMessageText", "editMessageReplyMarkup"):
            return self._edit(params)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _edit(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """An edit of a message; one that would change nothing is refused, with
        Telegram's words (quoted in daniel-hauser/moneyman#133)."""
        message_id = int(params.get("message_id", 0) or 0)
        with self.lock:
            sent = next((m for m in self.sent if m.message_id == message_id), None)
            shown = self.shown.get(message_id) or (
                (sent.text, sent.reply_markup) if sent is not None else None
            )
            text = str(params.get("text", shown[0] if shown else "Sujets"))
            edited = (text, params.get("reply_markup"))
            if shown == edited:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message is not modified: specified new message "
                    "content and reply markup are exactly the same as a current content and "
                    "reply markup of the message",
                }
            self.shown[message_id] = edited
        return 200, {
            "ok": True,
            "result": self._message_json(params.get("chat_id", 0), text, params),
        }

    def _send_document(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A file sent by the bot (multipart upload): kept, and counted as a message."""
        upload = params.get("document")
        name, data = upload if isinstance(upload, tuple) else ("document", b"")
        chat: int | str = params.get("chat_id", "")
        chat = int(chat) if re.fullmatch(r"-?\d+", str(chat)) else chat
        caption = str(params.get("caption", ""))
        with self.lock:
            self.documents.append((str(chat), name, data, caption))
            message = self._message_json(chat, caption, params)
            self.sent.append(
                Sent(
                    chat,
                    caption,
                    params.get("parse_mode"),
                    None,
                    time.monotonic(),
                    message["message_id"],
                )
            )
        return 200, {"ok": True, "result": message}

    def add_file(self, file_id: str, data: bytes) -> dict[str, Any]:
        """A document a user sends: its Document object for ``push_message(extra=...)``."""
        self.files[file_id] = data
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_name": "watcher-reglages.json",
            "mime_type": "application/json",
            "file_size": len(data),
        }

    def _chat_members(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Who administers a group: ``admins`` says; everyone else is a plain member."""
        chat = int(params.get("chat_id", 0))
        admins = self.admins.get(chat, set())

        def member(user_id: int) -> dict[str, Any]:
            user = {"id": user_id, "is_bot": False, "first_name": "Camille"}
            if user_id in admins:
                return {
                    "status": "administrator",
                    "user": user,
                    **dict.fromkeys(
                        (
                            "can_be_edited",
                            "is_anonymous",
                            "can_manage_chat",
                            "can_delete_messages",
                            "can_manage_video_chats",
                            "can_restrict_members",
                            "can_promote_members",
                            "can_change_info",
                            "can_invite_users",
                            "can_post_stories",
                            "can_edit_stories",
                            "can_delete_stories",
                        ),
                        False,
                    ),
                }
            return {"status": "member", "user": user}

        if method == "getChatAdministrators":
            return 200, {"ok": True, "result": [member(u) for u in sorted(admins)]}
        return 200, {"ok": True, "result": member(int(params.get("user_id", 0)))}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The updates from ``offset`` on; None when a newer getUpdates ended this one."""
        offset = int(params.get("offset", 0) or 0)
        timeout = min(float(params.get("timeout", 0) or 0), 0.5)
        deadline = time.monotonic() + timeout
        with self.lock:
            self._polls_started += 1
            mine = self._polls_started
        while True:
            with self.lock:
                if self.exclusive_polling and self._polls_started != mine:
                    return None
                self.confirmed_offset = max(self.confirmed_offset, offset)
                pending = [u for u in self.updates if u["update_id"] >= offset]
            if pending or time.monotonic() >= deadline:
                return pending
            time.sleep(0.02)

    def take_outage(self, method: str) -> str | None:
        """The failure this call meets while an outage lasts (None: answer normally)."""
        with self.lock:
            if self.down:
                return "reset"
            if self.failing.get(method, 0) > 0:
                self.failing[method] -= 1
                return "502"
            if method != "sendMessage" or self.outage <= 0:
                return None
            self.outage -= 1
            return self.outage_mode

    def _send_message(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        raw_chat = params.get("chat_id", "")
        chat: int | str = int(raw_chat) if str(raw_chat).lstrip("-").isdigit() else str(raw_chat)
        if chat in self.refuse:
            return 400, {"ok": False, "error_code": 400, "description": self.refuse[chat]}
        text = str(params.get("text", ""))
        parse_mode = params.get("parse_mode")
        now = time.monotonic()
        if self.send_delay:
            time.sleep(self.send_delay)
        with self.lock:
            key = str(chat)
            if key in self.retry_after_until and now < self.retry_after_until[key] - 0.05:
                self.breaches.append(
                    f"chat {key} sent {self.retry_after_until[key] - now:.2f}s early"
                )
            if chat in self.blocked:
                return 403, {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                }
            if isinstance(chat, int) and chat in self.migrated:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: group chat was upgraded to a supergroup chat",
                    "parameters": {"migrate_to_chat_id": self.migrated[chat]},
                }
            if self.force_429.get(chat, 0) > 0:
                self.force_429[chat] -= 1
                return self._too_many(key, 2, now)
            plain = text
            if parse_mode == "HTML":
                if isinstance(chat, int) and chat in self.reject_html:
                    return 400, {
                        "ok": False,
                        "error_code": 400,
                        "description": 'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0',
                    }
                plain, error = parse_entities(text)
                if error:
                    return 400, {
                        "ok": False,
                        "error_code": 400,
                        "description": f"Bad Request: can't parse entities: {error}",
                    }
            if not plain.strip():
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message text is empty",
                }
            if len(plain) > 4096:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message is too long",
                }
            if self.enforce_limits:
                wait = self._limit_wait(key, chat, now)
                if wait > 0:
                    return self._too_many(key, wait, now)
            message = self._message_json(chat, text, params)
            self.sent.append(
                Sent(chat, text, parse_mode, params.get("reply_markup"), now, message["message_id"])
            )
            return 200, {"ok": True, "result": message}

    def _limit_wait(self, key: str, chat: int | str, now: float) -> float:
        """Seconds before this send would be within the limits (0: send it)."""
        window_global = self.global_times
        while window_global and now - window_global[0] >= 1.0:
            window_global.popleft()
        if len(window_global) >= 30:
            return 1.0 - (now - window_global[0])
        if isinstance(chat, str) or chat < 0:
            times = self.group_times[key]
            while times and now - times[0] >= 60.0:
                times.popleft()
            if len(times) >= 20:
                return 60.0 - (now - times[0])
        else:
            times = self.private_times[key]
            # About 1/s, with the short bursts Telegram tolerates: 3 within any 3 s.
            while times and now - times[0] >= 3.0:
                times.popleft()
            if len(times) >= 3:
                return 3.0 - (now - times[0])
        times.append(now)
        window_global.append(now)
        return 0.0

    def _too_many(self, key: str, wait: float, now: float) -> tuple[int, dict[str, Any]]:
        retry_after = max(1, int(wait + 0.999))
        self.retry_after_until[key] = now + retry_after
        self.rate_limited += 1
        return 429, {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }

    def _message_json(self, chat: int | str, text: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = chat if isinstance(chat, int) else -1001
        message = {
            "message_id": self._message_id(),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "channel", "title": "x"},
            "from": BOT_USER,
            "text": text,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = json.loads(params["reply_markup"])
        return message


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("multipart/form-data"):  # an upload: files as (name, bytes)
        parsed = BytesParser(policy=default).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        fields: dict[str, Any] = {}
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            fields[str(name)] = (filename, content) if filename else content.decode()
        return fields
    if content_type.startswith("application/json"):
        data = json.loads(body)
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many concurrent connections, as Telegram takes them
    daemon_threads = True


@contextmanager
def running_fake_telegram(**options: Any) -> Iterator[tuple[FakeTelegram, str]]:
    """Start the fake server; yields it and the TELEGRAM_API_URL to give watcher."""
    fake = FakeTelegram(**options)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            download = re.match(r"^/file/bot([^/]+)/documents/(.+)$", self.path)
            if download is not None:  # a file's content, as getFile's file_path names it
                content = fake.files.get(download.group(2))
                self.send_response(200 if content is not None else 404)
                self.send_header("Content-Length", str(len(content or b"")))
                self.end_headers()
                self.wfile.write(content or b"")
                return
            match = re.match(r"^/bot([^/]+)/(\w+)$", self.path)
            if match is None:
                status, payload = 404, {"ok": False, "error_code": 404, "description": "Not Found"}
            else:
                failure = fake.take_outage(match.group(2))
                if failure == "reset":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                params = _parse_body(self.headers.get("Content-Type", ""), body)
                status, payload = (
                    (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"})
                    if failure
                    else fake.handle(match.group(1), match.group(2), params)
                )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST

    httpd = _Server(("127.0.0.1", 0), Handler)
    httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{httpd.server_address[1]}/bot"
    finally:
        httpd.shutdown()
        httpd.server_close()
