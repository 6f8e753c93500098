"""What a hostile or broken server sends costs its own source one failed poll, nothing more.

Each case is a source beside a healthy one, through `watcher poll`: the healthy
source alerts, the hostile one is recorded with a one-line error (or read without
the harm), and nothing leaks, hangs or raises a traceback. The fetch layer's own
tests (tests/test_fetch.py) check the caps and redirects request by request.
"""

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run, write_config
from tests.fake_telegram import FakeTelegram, parse_entities
from tests.faults.conftest import FAST, rss, tags
from tests.feed_server import FeedServer, Route

BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "reconnaissance faciale ">\n'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(9))
    + ']>\n<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
    "<description>d</description><item><title>Bombe &j;</title><link>https://example.org/b</link>"
    "<guid>b</guid></item></channel></rss>"
)


def external(url: str) -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY file SYSTEM "file:///etc/passwd">\n'
        f'<!ENTITY web SYSTEM "{url}">\n]>\n'
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        "<description>d</description><item><title>Reconnaissance faciale &file; &web;</title>"
        "<link>https://example.org/x</link><guid>x</guid></item></channel></rss>"
    )


def errors_of(workdir: Path) -> dict[str, str | None]:
    db = sqlite3.connect(workdir / "watcher.db")
    rows = dict(db.execute("SELECT id, last_error FROM sources").fetchall())
    db.close()
    return rows


def poll_beside_a_healthy_source(
    workdir: Path, feed_server: FeedServer, route: Route, extra: str = ""
) -> tuple[str, str]:
    feed_server.routes["/hostile"] = route
    healthy = feed_server.serve("/healthy", rss(1, [1]))
    write_config(
        workdir,
        [
            {"id": "hostile", "name": "H", "url": feed_server.url("/hostile"), "backfill": "true"},
            {"id": "healthy", "name": "OK", "url": healthy, "backfill": "true"},
        ],
        extra=FAST + extra,
    )
    result = run("poll")
    assert result.code == 0, result.err
    assert tags(result.out).count((1, 1)) == 1  # the healthy source alerts, once
    assert "Traceback" not in result.err
    return result.out, result.err


@pytest.mark.parametrize(
    ("route", "error"),
    [
        pytest.param(
            Route(body=b"\0" * 50_000_000, gzip=True),
            "sent more than the 1048576-byte cap",
            id="gzip-bomb",
        ),
        pytest.param(
            Route(body=b"<rss>", announce=1_000_000_000),
            "is 1000000000 bytes, over the 1048576-byte cap",
            id="a-1GB-body-announced",
        ),
        pytest.param(
            Route(status=301, headers={"Location": "/hostile"}),
            "more than 5 redirects",
            id="redirect-loop",
        ),
    ],
)
def test_a_hostile_response_fails_its_source_only(
    workdir: Path, feed_server: FeedServer, route: Route, error: str
) -> None:
    poll_beside_a_healthy_source(workdir, feed_server, route, extra="  max_response_size: 1MB\n")
    errors = errors_of(workdir)
    assert errors["healthy"] is None
    assert error in (errors["hostile"] or ""), errors


def test_an_xml_entity_bomb_is_not_expanded(workdir: Path, feed_server: FeedServer) -> None:
    out, _ = poll_beside_a_healthy_source(workdir, feed_server, Route(body=BOMB.encode()))
    assert out.count("reconnaissance faciale") < 100  # 10^9 repeats were asked for
    assert len(out) < 100_000


def test_external_entities_are_never_resolved(workdir: Path, feed_server: FeedServer) -> None:
    secret = feed_server.serve("/secret", "secret-de-l-intranet", content_type="text/plain")
    out, _ = poll_beside_a_healthy_source(
        workdir, feed_server, Route(body=external(secret).encode())
    )
    assert "root:" not in out and "secret-de-l-intranet" not in out
    assert feed_server.hits("/secret") == []


def test_hostile_html_in_a_title_reaches_telegram_as_text(
    workdir: Path,
    feed_server: FeedServer,
    bot_api: FakeTelegram,
) -> None:
    fake = bot_api
    title = (
        '&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;a href="javascript:x"&gt;'
        "reconnaissance faciale&lt;/a&gt; &amp; &lt;i&gt;"
    )
    feed = (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description><item><title>{title}</title>"
        '<link>https://example.org/a?x="&gt;&lt;b&gt;</link><guid>h</guid></item></channel></rss>'
    )
    url = feed_server.serve("/feed", feed)
    write_config(
        workdir,
        [{"id": "src", "name": "<b>Source</b>", "url": url, "backfill": "true"}],
        extra="channels:\n  - chat_id: -1001\n    topics: [biometrie]\n" + FAST,
    )

    result = run("poll")

    assert result.code == 0, result.err
    (message,) = fake.messages_to(-1001)  # the fake refuses HTML Telegram would refuse
    assert message.parse_mode == "HTML"
    plain, error = parse_entities(message.text)
    assert error is None
    assert "\n<b>Source</b>\n" in plain  # a source's name is shown as written
    # The title's markup is dropped, and what a script would run with it.
    assert "\nreconnaissance faciale &\n" in plain
    assert "alert(1)" not in plain
    assert "<script" not in message.text and "javascript" not in message.text
