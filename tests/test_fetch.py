"""The shared fetcher against local servers: time limits, cancellation, per-host slots, caps,
conditional GET, redirects and the private-address guard."""

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.feed_server import FeedServer, Route
from watcher.errors import FetchError
from watcher.fetch import Fetcher, parse_retry_after, standalone_session
from watcher.netguard import GuardedTransport, is_private_address, is_private_host

# Called with the request's head once it has arrived.
Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A TCP server on its own loop and thread whose handler controls every byte sent."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.host = host
        self.received = threading.Event()  # a request arrived
        self.closed_by_client = threading.Event()  # a handler returned at end of input
        self.loop = asyncio.new_event_loop()
        self.tasks: set[asyncio.Task[Any]] = set()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._serve, self.host, 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()
        server.close()
        for task in self.tasks:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*self.tasks, return_exceptions=True))
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.received.set()
            await self.handler(head, reader, writer)
            if reader.at_eof():
                self.closed_by_client.set()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self.tasks.discard(task)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


@contextmanager
def raw_server(handler: Handler, host: str = "127.0.0.1") -> Iterator[RawServer]:
    server = RawServer(handler, host)
    try:
        yield server
    finally:
        server.stop()


async def trickle(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Headers at once, then one byte of a 1000-byte body every half second."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(1000):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(0.5)


async def hang(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer nothing until the client gives up."""
    await reader.read()  # b"" once the client closes the connection


def run_async(main: Callable[[Fetcher], Awaitable[Any]], **options: Any) -> Any:
    """Run ``main`` with a fresh Fetcher on a fresh loop, closing the fetcher after."""

    async def wrapper() -> Any:
        fetcher = Fetcher(**options)
        try:
            return await main(fetcher)
        finally:
            await fetcher.aclose()

    return asyncio.run(wrapper())


# --- time limits and cancellation -----------------------------------------------------------


def test_a_trickling_server_fails_at_the_total_limit_while_a_healthy_one_answers(
    feed_server: FeedServer,
) -> None:
    healthy = feed_server.serve("/ok.xml", b"<ok/>")

    async def main(fetcher: Fetcher) -> tuple[float, int]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        slow = asyncio.create_task(fetcher.fetch("GET", trickling.url("/feed.xml")))
        answered = 0
        while not slow.done():
            response = await fetcher.fetch("GET", healthy)
            assert response is not None and response.body == b"<ok/>"
            answered += 1
            await asyncio.sleep(0.1)
        with pytest.raises(
            FetchError, match=r"^timed out after 2s fetching http://127\.0\.0\.1:\d+/feed\.xml$"
        ):
            await slow
        return loop.time() - started, answered

    with raw_server(trickle) as trickling:
        elapsed, answered = run_async(main, timeout=2.0, allow_private=True)

    # Each byte comes well within a per-read timeout: only a total limit ends this
    # 1000-byte body before its 500 seconds.
    assert 1.5 < elapsed < 15
    assert answered >= 3


def test_a_request_ends_at_its_session_deadline_before_the_fetcher_timeout() -> None:
    async def main(fetcher: Fetcher) -> float:
        loop = asyncio.get_running_loop()
        session = fetcher.session(loop, deadline=loop.time() + 1.0, allow_private=True)
        started = loop.time()
        with pytest.raises(FetchError, match=r"^timed out after [\d.]+s fetching"):
            await asyncio.to_thread(session.get, trickling.url("/feed.xml"))
        with pytest.raises(FetchError, match="deadline passed before fetching"):
            await asyncio.to_thread(session.get, trickling.url("/again.xml"))
        return loop.time() - started

    with raw_server(trickle) as trickling:
        elapsed = run_async(main, timeout=60.0, allow_private=True)
    assert elapsed < 15


def test_cancelling_a_session_frees_its_reader_thread_from_a_hung_server() -> None:
    async def main(fetcher: Fetcher) -> None:
        loop = asyncio.get_running_loop()
        session = fetcher.session(loop, deadline=None, allow_private=True)
        reader = asyncio.create_task(asyncio.to_thread(session.get, server.url("/feed.xml")))
        assert await asyncio.to_thread(server.received.wait, 10)

        assert not session.cancelled
        session.cancel("poll of senat stopped: watcher is shutting down")
        assert session.cancelled

        with pytest.raises(FetchError, match=r"^poll of senat stopped: watcher is shutting down$"):
            await asyncio.wait_for(reader, 10)
        # The request itself was ended on the loop, not left hanging behind the reader.
        assert await asyncio.to_thread(server.closed_by_client.wait, 10)
        with pytest.raises(FetchError, match=r"^poll of senat stopped"):
            await asyncio.to_thread(session.get, server.url("/other.xml"))

    with raw_server(hang) as server:
        run_async(main, timeout=120.0, allow_private=True)


def test_a_session_called_on_its_own_loop_says_so_instead_of_deadlocking(
    feed_server: FeedServer,
) -> None:
    url = feed_server.serve("/ok.xml", b"<ok/>")

    async def main(fetcher: Fetcher) -> None:
        session = fetcher.session(asyncio.get_running_loop(), deadline=None, allow_private=True)
        with pytest.raises(RuntimeError, match="worker thread"):
            session.get(url)

    run_async(main)
    assert feed_server.hits("/ok.xml") == []


def test_a_closed_fetcher_raises_fetch_errors(feed_server: FeedServer) -> None:
    url = feed_server.serve("/ok.xml", b"<ok/>")

    async def main(fetcher: Fetcher) -> None:
        await fetcher.aclose()
        with pytest.raises(FetchError, match="the fetcher is closed"):
            await fetcher.fetch("GET", url)

    run_async(main, allow_private=True)
    with standalone_session(timeout=5, max_bytes=1000) as session:
        pass
    with pytest.raises(FetchError, match="closed"):
        session.get(url)


# --- per-host slots -------------------------------------------------------------------------


def test_at_most_per_host_requests_are_in_flight_per_host() -> None:
    in_flight: dict[str, int] = {}
    most: dict[str, int] = {}

    async def handler(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        found = re.search(rb"(?im)^host: ([^:\r]+)", head)
        assert found is not None
        host = found.group(1).decode()
        in_flight[host] = in_flight.get(host, 0) + 1
        most[host] = max(most.get(host, 0), in_flight[host])
        try:
            await asyncio.sleep(0.3)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        finally:
            in_flight[host] -= 1

    async def main(fetcher: Fetcher) -> None:
        # Two names for one server: each name is a host with its own slots.
        urls = [
            f"http://{host}:{server.port}/{i}"
            for i in range(8)
            for host in ("127.0.0.1", "localhost")
        ]
        responses = await asyncio.gather(*(fetcher.fetch("GET", url) for url in urls))
        assert all(r is not None and r.body == b"ok" for r in responses)

    with raw_server(handler) as server:
        run_async(main, per_host=3, allow_private=True)
    assert most == {"127.0.0.1": 3, "localhost": 3}


# --- what every request keeps: conditional GET, caps, redirects, statuses -------------------


def test_conditional_get_sends_validators_and_304_is_none(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.xml", b"<rss/>")
    with standalone_session(timeout=5, max_bytes=1000) as session:
        first = session.get(url)
        assert first is not None and first.body == b"<rss/>" and first.etag
        assert session.get(url, etag=first.etag, last_modified=first.last_modified) is None
    asked = feed_server.hits("/feed.xml")
    assert "if-none-match" not in asked[0].headers
    assert asked[1].headers["if-none-match"] == first.etag
    assert asked[1].headers["if-modified-since"] == first.last_modified
    assert asked[1].headers["user-agent"].startswith("watcher/")


@pytest.mark.parametrize(
    ("route", "message"),
    [
        pytest.param(
            Route(body=b"x" * 5000), r"is 5000 bytes, over the 1000-byte cap", id="content-length"
        ),
        pytest.param(
            Route(body=b"\0" * 200_000, gzip=True),
            r"sent more than the 1000-byte cap",
            id="gzip-bomb",
        ),
    ],
)
def test_bodies_over_the_cap_are_refused(
    feed_server: FeedServer, route: Route, message: str
) -> None:
    feed_server.routes["/big"] = route
    with (
        standalone_session(timeout=5, max_bytes=1000) as session,
        pytest.raises(FetchError, match=message),
    ):
        session.get(feed_server.url("/big"))


def test_a_body_without_length_is_cut_at_the_cap() -> None:
    async def endless(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        for _ in range(10_000):
            writer.write(b"x" * 1000)
            await writer.drain()

    with raw_server(endless) as server, standalone_session(timeout=5, max_bytes=50_000) as session:
        with pytest.raises(FetchError, match="sent more than the 50000-byte cap"):
            session.get(server.url("/stream"))
        # A cap given to one request overrides the fetcher's.
        with pytest.raises(FetchError, match="sent more than the 2000-byte cap"):
            session.request("GET", server.url("/stream"), max_bytes=2000)


def test_redirects_are_followed_five_times_at_most(feed_server: FeedServer) -> None:
    final = feed_server.serve("/final.xml", b"<rss/>")
    for hop in range(3):
        target = f"/hop{hop + 1}" if hop < 2 else "/final.xml"
        feed_server.routes[f"/hop{hop}"] = Route(status=302, headers={"Location": target})
    feed_server.routes["/loop"] = Route(status=301, headers={"Location": "/loop"})
    with standalone_session(timeout=5, max_bytes=1000) as session:
        response = session.get(feed_server.url("/hop0"))
        assert response is not None and response.url == final and response.body == b"<rss/>"
        with pytest.raises(FetchError, match=r"more than 5 redirects from http://.*/loop$"):
            session.get(feed_server.url("/loop"))
    assert len(feed_server.hits("/loop")) == 6


def test_http_errors_carry_status_and_retry_after(feed_server: FeedServer) -> None:
    feed_server.routes["/busy"] = Route(status=429, headers={"Retry-After": "120"})
    with standalone_session(timeout=5, max_bytes=1000) as session:
        with pytest.raises(FetchError, match=r"^HTTP 429 Too Many Requests from http://") as caught:
            session.get(feed_server.url("/busy"))
        assert caught.value.status == 429 and caught.value.retry_after == 120.0
        with pytest.raises(FetchError, match=r"^HTTP 404 Not Found"):
            session.get(feed_server.url("/missing"))


def test_retry_after_as_a_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now=1445412480.0) == 120.0
    assert parse_retry_after("soon") is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        pytest.param("ftp://example.org/feed", "invalid URL ftp://example.org/feed", id="scheme"),
        pytest.param("http://[::1/feed", r"invalid URL http://\[::1/feed", id="bracket"),
    ],
)
def test_bad_urls_are_fetch_errors(url: str, message: str) -> None:
    with (
        standalone_session(timeout=5, max_bytes=1000) as session,
        pytest.raises(FetchError, match=message),
    ):
        session.get(url)


def test_a_closed_port_is_a_fetch_error() -> None:
    with raw_server(trickle) as server:
        url = server.url("/feed.xml")
    with (
        standalone_session(timeout=5, max_bytes=1000) as session,
        pytest.raises(FetchError, match=r"^cannot reach http://127\.0\.0\.1:\d+/feed\.xml: "),
    ):
        session.get(url)


def test_a_download_resumes_its_partial_file(feed_server: FeedServer, tmp_path: Path) -> None:
    body = bytes(range(256)) * 40
    url = feed_server.serve("/archive.tar.gz", body, ranges=True)
    destination = tmp_path / "archive.tar.gz"
    (tmp_path / "archive.tar.gz.part").write_bytes(body[:1000])
    with standalone_session(timeout=5, max_bytes=100_000) as session:
        assert session.download(url, destination) == destination
    assert destination.read_bytes() == body
    assert feed_server.hits("/archive.tar.gz")[0].headers["range"] == "bytes=1000-"
    assert not (tmp_path / "archive.tar.gz.part").exists()


# --- private addresses ----------------------------------------------------------------------

REFUSED = (
    r"^refused to fetch {url}: it resolves to a private address \({address}\); "
    r"set settings\.allow_private_addresses to allow it$"
)


def test_private_addresses_are_refused_unless_allowed(feed_server: FeedServer) -> None:
    url = feed_server.serve("/admin", b"secret")

    async def main(fetcher: Fetcher) -> None:
        with pytest.raises(
            FetchError, match=REFUSED.format(url=re.escape(url), address=r"127\.0\.0\.1")
        ):
            await fetcher.fetch("GET", url)
        allowed = await fetcher.fetch("GET", url, allow_private=True)
        assert allowed is not None and allowed.body == b"secret"
        # The connection kept open for the allowed request is not lent to a refused one.
        with pytest.raises(FetchError, match="refused to fetch"):
            await fetcher.fetch("GET", url)

    run_async(main)
    assert len(feed_server.hits("/admin")) == 1


def test_the_check_is_on_the_resolved_address_not_the_name(feed_server: FeedServer) -> None:
    feed_server.serve("/admin", b"secret")
    url = feed_server.url("/admin").replace("127.0.0.1", "localhost")

    async def main(fetcher: Fetcher) -> None:
        with pytest.raises(
            FetchError, match=REFUSED.format(url=re.escape(url), address=r"127\.0\.0\.1|::1")
        ):
            await fetcher.fetch("GET", url)
        with pytest.raises(FetchError, match="refused to fetch"):
            await fetcher.download(url, Path("never-written"))

    run_async(main)
    assert feed_server.hits("/admin") == []
    assert not Path("never-written").exists() and not Path("never-written.part").exists()


def test_a_redirect_to_a_private_address_is_refused() -> None:
    async def secret(
        head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret")
        await writer.drain()

    with raw_server(secret, host="127.0.0.2") as inside:

        async def redirect(
            head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            location = inside.url("/admin").encode()
            writer.write(
                b"HTTP/1.1 302 Found\r\nLocation: "
                + location
                + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()

        with raw_server(redirect) as outside:
            # Loopback stands in for the Internet: only 127.0.0.2 counts as private here.
            transport = GuardedTransport(private=lambda address: address == "127.0.0.2")

            async def main(fetcher: Fetcher) -> None:
                with pytest.raises(
                    FetchError,
                    match=rf"^refused to fetch {re.escape(outside.url('/doc'))}: it redirects to "
                    r"127\.0\.0\.2, which resolves to a private address \(127\.0\.0\.2\)",
                ):
                    await fetcher.fetch("GET", outside.url("/doc"))

            run_async(main, transport=transport)
            assert outside.received.is_set()
            assert not inside.received.is_set()


@pytest.mark.parametrize(
    ("address", "private"),
    [
        pytest.param("127.0.0.1", True, id="loopback"),
        pytest.param("10.1.2.3", True, id="10/8"),
        pytest.param("172.16.0.1", True, id="172.16/12"),
        pytest.param("172.31.255.255", True, id="172.16/12-end"),
        pytest.param("192.168.1.1", True, id="192.168/16"),
        pytest.param("169.254.169.254", True, id="metadata"),
        pytest.param("100.64.0.1", True, id="cgnat"),
        pytest.param("0.0.0.0", True, id="unspecified"),
        pytest.param("0.1.2.3", True, id="this-network"),
        pytest.param("224.0.0.1", True, id="multicast"),
        pytest.param("::1", True, id="v6-loopback"),
        pytest.param("::", True, id="v6-unspecified"),
        pytest.param("fd00::1", True, id="unique-local"),
        pytest.param("fe80::1", True, id="v6-link-local"),
        pytest.param("ff02::1", True, id="v6-multicast"),
        pytest.param("::ffff:127.0.0.1", True, id="v4-mapped-loopback"),
        pytest.param("::ffff:169.254.169.254", True, id="v4-mapped-metadata"),
        pytest.param("64:ff9b::a00:1", True, id="nat64-of-10.0.0.1"),
        pytest.param("2002:c0a8:101::1", True, id="6to4-of-192.168.1.1"),
        pytest.param("172.32.0.1", False, id="beside-172.16/12"),
        pytest.param("100.128.0.1", False, id="beside-cgnat"),
        pytest.param("160.92.168.33", False, id="public-v4"),
        pytest.param("2001:4860:4860::8888", False, id="public-v6"),
        pytest.param("::ffff:160.92.168.33", False, id="v4-mapped-public"),
    ],
)
def test_private_addresses(address: str, private: bool) -> None:
    assert is_private_address(address) is private


@pytest.mark.parametrize(
    ("url", "private"),
    [
        pytest.param("http://localhost:8080/feed", True, id="localhost"),
        pytest.param("http://127.0.0.1/feed", True, id="loopback"),
        pytest.param("https://[::1]:8443/feed", True, id="v6-loopback"),
        pytest.param("http://169.254.169.254/latest/meta-data/", True, id="metadata"),
        pytest.param("https://160.92.168.33/feed", False, id="public"),
        pytest.param("not a url", False, id="no-host"),
    ],
)
def test_is_private_host(url: str, private: bool) -> None:
    assert asyncio.run(is_private_host(url)) is private
