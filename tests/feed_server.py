"""A local HTTP server on 127.0.0.1 that serves feed files the way real servers do.

Each route answers with a body, a status and headers; it honours ETag /
If-None-Match and Last-Modified / If-Modified-Since with 304, and records every
request so tests can check what watcher sent.
"""

import gzip
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml"
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True
    last_modified: str | None = "Wed, 21 Oct 2015 07:28:00 GMT"
    gzip: bool = False
    cut_after: int | None = None  # announce the whole body, send only this many bytes
    ranges: bool = False  # answer "Range: bytes=N-" with 206
    delay: float = 0.0  # wait this long before answering (a slow server)
    trickle: float | None = None  # send the body one byte every this many seconds
    announce: int | None = None  # the Content-Length to announce instead of the body's own


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FeedServer:
    """Routes by path; ``url(path)`` gives the address to put in feeds.yml."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.routes: dict[str, Route] = {}
        self.handlers: dict[str, Callable[[Seen], Route]] = {}
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    Seen(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                path = self.path.split("?")[0]
                handler = server.handlers.get(path)
                route = handler(server.requests[-1]) if handler else server.routes.get(path)
                if route is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                if route.delay:
                    time.sleep(route.delay)
                etag = '"' + hashlib.sha1(route.body).hexdigest() + '"'
                if route.status == 200 and (
                    (route.etag and self.headers.get("If-None-Match") == etag)
                    or (
                        route.last_modified
                        and not route.etag
                        and self.headers.get("If-Modified-Since") == route.last_modified
                    )
                ):
                    self._send(304, b"", {})
                    return
                headers = {"Content-Type": route.content_type, **route.headers}
                if route.etag:
                    headers["ETag"] = etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                payload = route.body
                if route.gzip:
                    payload = gzip.compress(payload)
                    headers["Content-Encoding"] = "gzip"
                status = route.status
                asked = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
                if route.ranges and asked and status == 200:
                    start = int(asked.group(1))
                    headers["Content-Range"] = f"bytes {start}-{len(payload) - 1}/{len(payload)}"
                    payload, status = payload[start:], 206
                self._send(
                    status,
                    payload,
                    headers,
                    cut_after=route.cut_after,
                    trickle=route.trickle,
                    announce=route.announce,
                )

            def _send(
                self,
                status: int,
                body: bytes,
                headers: dict[str, str],
                cut_after: int | None = None,
                trickle: float | None = None,
                announce: int | None = None,
            ) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body) if announce is None else announce))
                self.end_headers()
                if announce is not None:  # what was announced never comes
                    self.close_connection = True
                    self.wfile.write(body)
                    return
                if trickle is not None:
                    self.close_connection = True
                    for start in range(len(body)):
                        try:
                            self.wfile.write(body[start : start + 1])
                            self.wfile.flush()
                        except OSError:  # the client gave up, as it should
                            return
                        time.sleep(trickle)
                    return
                if cut_after is not None:
                    self.wfile.write(body[:cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        # A client that stops reading (watcher's size cap) is expected, not an error.
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.httpd.server_address[1]}{path}"

    def serve(self, path: str, body: bytes | str, **options: object) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(body=data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def handle(self, path: str, handler: Callable[[Seen], Route]) -> str:
        """Answer ``path`` by calling ``handler`` with each request."""
        self.handlers[path] = handler
        return self.url(path)

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path.split("?")[0] == path]


@contextmanager
def running_feed_server(host: str = "127.0.0.1") -> Iterator[FeedServer]:
    server = FeedServer(host)
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
