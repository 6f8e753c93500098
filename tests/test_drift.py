"""A source that drifts is told, not hidden: polls in sequence through the CLI."""

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.conftest import run, write_config
from tests.fake_telegram import TOKEN, FakeTelegram, running_fake_telegram
from tests.feed_server import FeedServer
from watcher.drift import detect
from watcher.figures import PollFigures, reads_whole_listing
from watcher.sources.base import SourceConfig

MAINTAINER = 4242


def listing(*names: str) -> str:
    """A council's page of documents (the shape ``kind: html`` reads)."""
    links = "".join(f'<li><a href="/docs/{name}">Délibération {name}</a></li>' for name in names)
    return f"<html><head><title>Actes</title></head><body><ul>{links}</ul></body></html>"


def feed(*days_ago: int) -> str:
    """An RSS feed with one item published each of these many days ago."""
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>Texte {n}</title><link>https://example.org/t/{n}</link>"
        f"<guid>t-{n}</guid><pubDate>{format_datetime(now - timedelta(days=n))}</pubDate></item>"
        for n in days_ago
    )
    return f'<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'


def html_source(url: str, **extra: str) -> dict[str, object]:
    return {
        "id": "actes",
        "name": "Actes",
        "kind": "html",
        "url": url,
        "link_pattern": '"*/docs/*"',
        **extra,
    }


def drift_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("drift:")]


def test_a_listing_that_suddenly_gives_no_link_is_flagged_beside_its_last_good_poll(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/actes", listing("a.pdf", "b.pdf", "c.pdf"), content_type="text/html")
    write_config(workdir, [html_source(url)])
    assert run("poll").code == 0
    status = run("status", "--check")
    assert drift_lines(status.out) == [] and status.code == 0, status.out + status.err

    feed_server.serve("/actes", listing(), content_type="text/html")  # the page was redesigned
    run("poll")

    status = run("status")
    [line] = drift_lines(status.out)
    assert line.startswith("drift: actes: ")
    assert "last good poll" in line and "3 item(s)" in line
    check = run("status", "--check")
    assert check.code == 1
    assert "source actes drifts" in check.err


def test_a_listing_empty_from_its_first_poll_is_flagged(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/actes", listing(), content_type="text/html")
    write_config(workdir, [html_source(url)])
    run("poll")
    [line] = drift_lines(run("status").out)
    assert "actes" in line and "no good poll yet" in line


def test_a_feed_that_turns_into_an_html_page_is_flagged_as_unrecognised(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", feed(3, 2, 1))
    write_config(workdir, [{"id": "senat", "name": "Sénat", "url": url}])
    run("poll")
    feed_server.serve(
        "/feed", "<!doctype html><html><body>Maintenance</body></html>", content_type="text/html"
    )
    run("poll")
    status = run("status").out
    [line] = drift_lines(status)
    # The error itself stands once, in the table; the drift line points to it.
    assert "answer not recognised" in line and status.count("HTML page") == 1
    assert "last good poll" in line and "3 item(s)" in line


def test_documents_that_stop_giving_text_are_flagged(
    workdir: Path, feed_server: FeedServer
) -> None:
    for name in ("a.html", "b.html"):
        feed_server.serve(
            f"/docs/{name}",
            "<html><body><main>Le conseil délibère.</main></body></html>",
            content_type="text/html",
        )
    for name in ("c.html", "d.html"):  # what a portal answers instead of the PDF
        feed_server.serve(
            f"/docs/{name}",
            "<html><body><script>go()</script></body></html>",
            content_type="text/html",
        )
    url = feed_server.serve("/actes", listing("a.html", "b.html"), content_type="text/html")
    write_config(workdir, [html_source(url, follow="true", backfill="true")])
    run("poll")
    assert drift_lines(run("status").out) == []

    feed_server.serve(
        "/actes", listing("a.html", "b.html", "c.html", "d.html"), content_type="text/html"
    )
    run("poll")

    [line] = drift_lines(run("status").out)
    assert "none of its 2 new document(s) gave text" in line
    assert "2 with text, 0 document(s) without" in line  # the last good poll


def test_a_newest_item_that_stops_advancing_longer_than_ever_is_flagged(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", feed(12))
    write_config(workdir, [{"id": "jo", "name": "JO", "url": url}])
    for days in ((12, 11), (12, 11, 10)):  # one text a day, then nothing for 10 days
        run("poll")
        assert drift_lines(run("status").out) == []
        feed_server.serve("/feed", feed(*days))
    run("poll")
    [line] = drift_lines(run("status").out)
    assert "newest item is 10 day(s) old, longer than its longest gap so far (1 day(s))" in line


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with running_fake_telegram() as (fake, api_url):
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
        monkeypatch.setenv("TELEGRAM_API_URL", api_url)
        yield fake


def test_maintainers_are_told_once_with_both_polls_figures(
    workdir: Path, feed_server: FeedServer, telegram: FakeTelegram
) -> None:
    url = feed_server.serve("/actes", listing("a.pdf", "b.pdf"), content_type="text/html")
    write_config(workdir, [html_source(url)], extra=f"maintainers: [{MAINTAINER}]\n")
    run("poll")
    assert telegram.messages_to(MAINTAINER) == []

    feed_server.serve("/actes", listing(), content_type="text/html")
    run("poll")
    feed_server.serve("/actes", listing() + " ", content_type="text/html")  # changed, still empty
    run("poll")

    [told] = telegram.messages_to(MAINTAINER)
    assert told.text.startswith("⚠️ Source actes : ")
    assert "Dernier relevé correct" in told.text and "2 élément(s)" in told.text
    assert "watcher sources check --source actes" in told.text


NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def ok(hours_ago: float, items: int = 5, **figures: object) -> PollFigures:
    return PollFigures(
        at=NOW - timedelta(hours=hours_ago), outcome="ok", items=items, whole=True, **figures
    )


def newest(days_ago: float) -> datetime:
    return NOW - timedelta(days=days_ago)


@pytest.mark.parametrize(
    ("history", "problem"),
    [
        ([ok(2), ok(1)], None),
        ([ok(2), ok(1, items=0)], "empty"),
        ([ok(1, items=0)], "empty"),
        ([ok(2), replace(ok(1, items=0), whole=False)], None),  # a cursor kind: nothing new
        ([ok(2, with_text=2), ok(1, without_text=2)], "no_text"),
        ([ok(2, with_text=2), ok(1, without_text=1)], None),  # one scan is no drift
        ([ok(3, without_text=1), ok(1, without_text=1)], "no_text"),
        ([ok(2, with_text=1), ok(1, with_text=1, without_text=3)], None),
        ([ok(2), PollFigures(NOW, "unrecognised", error="HTML")], "unrecognised"),
        ([ok(2), PollFigures(NOW, "unreachable", error="HTTP 503")], None),  # an error, shown
        ([ok(3, newest=newest(5)), ok(2, newest=newest(4)), ok(1, newest=newest(3))], "stalled"),
        ([ok(3, newest=newest(9)), ok(2, newest=newest(5)), ok(1, newest=newest(3))], None),
        ([ok(2, newest=newest(5)), ok(1, newest=newest(4))], None),  # too little history
        (
            [ok(3, newest=newest(1.2)), ok(2, newest=newest(1.1)), ok(1, newest=newest(1.0))],
            None,  # a day of silence is never "stalled"
        ),
    ],
    ids=[
        "healthy",
        "suddenly-empty",
        "empty-from-first-poll",
        "cursor-kind-empty",
        "documents-stop-giving-text",
        "one-scan",
        "two-polls-without-text",
        "some-text",
        "unrecognised",
        "unreachable",
        "stalled",
        "gap-not-exceeded",
        "short-history",
        "stall-floor",
    ],
)
def test_detect(history: list[PollFigures], problem: str | None) -> None:
    found = detect("src", history, NOW)
    assert (found.problem if found else None) == problem


def test_the_last_good_poll_is_the_latest_that_read_items_and_text() -> None:
    good = ok(5, with_text=3)
    found = detect("src", [good, ok(3, items=0), ok(1, items=0)], NOW)
    assert found is not None and found.last_good == good


@pytest.mark.parametrize(
    ("kind", "url", "whole"),
    [
        ("rss", "https://www.senat.fr/rss/textes.rss", True),
        ("senat", "https://www.senat.fr/rss/textes.rss", True),
        ("senat", "https://www.senat.fr/akomantoso/depots.xml", False),  # new entries only
        ("html", "https://edelib.example/actes.html", True),
        ("dila", "https://echanges.dila.gouv.fr/OPENDATA/JORFSIMPLE/", False),
        ("webdelib", "https://edelib.example/webdelibplus/jsp/seances.jsp", False),
    ],
)
def test_which_sources_read_their_whole_listing(kind: str, url: str, whole: bool) -> None:
    source = SourceConfig(id="s", name="S", kind=kind, url=url, interval=900, topics=())
    assert reads_whole_listing(source) is whole
