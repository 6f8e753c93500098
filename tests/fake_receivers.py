"""A local webhook receiver and a fake Mastodon API, in one HTTP server.

The fake Mastodon follows https://docs.joinmastodon.org/methods/statuses/#create:
``POST /api/v1/statuses`` with ``Authorization: Bearer``, form or JSON fields
``status`` and ``visibility``, answers the Status entity (its ``id`` a string),
and an ``Idempotency-Key`` seen before returns the status it created instead of a
new one. A 429 carries ``X-RateLimit-Reset`` as an ISO 8601 timestamp, as
instances answer (https://docs.joinmastodon.org/api/rate-limits/).
"""

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.waiting import wait_until

MASTODON_TOKEN = "mastodon-test-token-123"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receivers:
    """What the server received, and what it answers next."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: list[Received] = field(default_factory=list)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> status
    # path -> statuses to answer before the normal 200 (500, 429, 410...), in order.
    script: dict[str, list[int]] = field(default_factory=dict)
    forever: dict[str, int] = field(default_factory=dict)  # path -> status every time
    delay: float = 0.0
    base_url: str = ""

    def posts(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def wait_for(self, condition: Any, what: str, timeout: float = 30.0) -> None:
        wait_until(condition, what, timeout)

    def answer(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        time.sleep(self.delay)
        with self.lock:
            self.requests.append(Received(path, headers, body))
            scripted = self.script.get(path) or []
            status = scripted.pop(0) if scripted else self.forever.get(path, 200)
            if status == 429:
                reset = datetime.now(UTC) + timedelta(seconds=2)
                return (
                    429,
                    {"X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")},
                    b'{"error":"Too many requests"}',
                )
            if status != 200:
                return status, {}, json.dumps({"error": f"status {status}"}).encode()
            if path == "/api/v1/statuses":
                return self._status(headers, body)
            return 200, {}, b"{}"

    def _status(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if headers.get("authorization") != f"Bearer {MASTODON_TOKEN}":
            return 401, {}, b'{"error":"The access token is invalid"}'
        key = headers.get("idempotency-key") or str(len(self.statuses))
        if key not in self.statuses:
            fields = json.loads(body)
            self.statuses[key] = {
                "id": str(110000000000000000 + len(self.statuses)),
                "content": fields["status"],
                "visibility": fields.get("visibility", "public"),
            }
        return 200, {}, json.dumps(self.statuses[key]).encode()


def verify(secret: str, received: Received) -> bool:
    """What a receiver does: recompute the HMAC-SHA256 of the raw body."""
    expected = "sha256=" + hmac.new(secret.encode(), received.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.headers.get("x-watcher-signature", ""))


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def running_receivers() -> Iterator[Receivers]:
    state = Receivers()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, data = state.answer(self.path, headers, body)
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **extra}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
