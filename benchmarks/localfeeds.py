"""Many RSS feeds served from loopback addresses, slow on purpose, watched from the server side.

An asyncio HTTP/1.1 server (keep-alive, ETag / If-None-Match) in a thread of the
benchmark's own process, listening on 127.0.0.1, 127.0.0.2... so that sources
are spread over several hosts as they are in real life and ``settings.per_host``
limits something realistic. Every answer waits ``delay`` seconds first. The
server records when each request arrived and how many were in flight per host
at most: what a benchmark prints, seen from where it matters.
"""

import asyncio
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

WORDS = [
    "le",
    "conseil",
    "municipal",
    "délibère",
    "sur",
    "le",
    "budget",
    "primitif",
    "des",
    "travaux",
    "de",
    "voirie",
    "et",
    "la",
    "rénovation",
    "énergétique",
    "des",
    "écoles",
    "ainsi",
    "que",
    "les",
    "subventions",
    "aux",
    "associations",
    "sportives",
    "culturelles",
    "et",
    "la",
    "convention",
    "avec",
    "la",
    "métropole",
    "pour",
    "les",
    "transports",
]


def feed(feed_no: int, first: int, count: int, *, matching: frozenset[int] = frozenset()) -> bytes:
    """An RSS 2.0 feed of ``count`` items numbered from ``first``, newest first, like real ones.

    Items whose number is in ``matching`` speak of facial recognition; the others
    of ordinary council business (most items match nothing).
    """
    entries = []
    for n in range(first + count - 1, first - 1, -1):
        words = " ".join(WORDS[(n + k) % len(WORDS)] for k in range(40))
        topic = "reconnaissance faciale dans les gares " if n in matching else ""
        entries.append(
            f"<item><title>Délibération n° {n} du conseil {feed_no} : {topic}{words[:60]}</title>"
            f"<link>https://example.org/conseil-{feed_no}/deliberations/{n}</link>"
            f'<guid isPermaLink="false">c{feed_no}-d{n}</guid>'
            f"<pubDate>Mon, {1 + n % 28:02d} Dec 2025 {n % 24:02d}:{n % 60:02d}:00 GMT</pubDate>"
            f'<description>&lt;p&gt;Le {topic}{words} &lt;a href="/docs/{n}.pdf"&gt;'
            f"document&lt;/a&gt;.&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Conseil {feed_no}</title><link>https://example.org/conseil-{feed_no}</link>"
        f"<description>Délibérations</description>{''.join(entries)}</channel></rss>"
    ).encode()


@dataclass
class Hit:
    at: float  # time.monotonic() when the request arrived
    host: str
    path: str
    status: int = 0


@dataclass
class FeedFarm:
    """Routes by path (the same on every address); counts what it sees per host."""

    delay: float = 0.2
    bodies: dict[str, bytes] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight: dict[str, int] = field(default_factory=dict)
    max_in_flight_total: int = 0

    def reset_counts(self) -> None:
        self.hits.clear()
        self.max_in_flight.clear()
        self.max_in_flight_total = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                hit = Hit(time.monotonic(), host, path)
                self.hits.append(hit)
                self.in_flight[host] = self.in_flight.get(host, 0) + 1
                self.max_in_flight[host] = max(
                    self.max_in_flight.get(host, 0), self.in_flight[host]
                )
                self.max_in_flight_total = max(
                    self.max_in_flight_total, sum(self.in_flight.values())
                )
                try:
                    await asyncio.sleep(self.delay)
                    body = self.bodies.get(path)
                    if body is None:
                        status, body, extra = 404, b"not found", ""
                    else:
                        etag = '"' + hashlib.md5(body).hexdigest() + '"'
                        if headers.get("if-none-match") == etag:
                            status, body, extra = 304, b"", f"ETag: {etag}\r\n"
                        else:
                            status, extra = (
                                200,
                                f"ETag: {etag}\r\nContent-Type: application/rss+xml\r\n",
                            )
                    hit.status = status
                    reason = {200: "OK", 304: "Not Modified", 404: "Not Found"}[status]
                    head = f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n{extra}"
                    writer.write(head.encode() + b"\r\n" + body)
                    await writer.drain()
                finally:
                    self.in_flight[host] -= 1
        except ConnectionError:
            pass
        finally:
            writer.close()


@contextmanager
def serving(hosts: int = 4, delay: float = 0.2) -> Iterator[tuple[FeedFarm, list[str]]]:
    """The farm and its base URLs (``http://127.0.0.N:port``), served until the block ends."""
    farm = FeedFarm(delay=delay)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    bases: list[str] = []
    servers: list[asyncio.base_events.Server] = []

    async def start() -> None:
        port = 0
        for n in range(1, hosts + 1):
            server = await asyncio.start_server(farm._handle, f"127.0.0.{n}", port, backlog=1024)
            port = server.sockets[0].getsockname()[1]  # the same port on every address
            servers.append(server)
            bases.append(f"http://127.0.0.{n}:{port}")
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield farm, bases
    finally:
        for server in servers:
            loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
