"""No input can stop delivery: impossible dates, bad character references, odd links.

Each feed is read through `watcher poll` beside normal items: the odd item is
kept (its date brought within range, its reference replaced, its link shown as
text), every item is alerted, and nothing raises. Where an input still makes a
poll raise (RAISING below), only its source fails: one line a poll, through
`watcher poll` and `watcher run`, and the source backs off like any failure.
"""

import json
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import python_env, run, write_config
from tests.fake_telegram import FakeTelegram
from tests.faults.conftest import FAST, Watcher, tags
from tests.feed_server import FeedServer, Route, Seen
from tests.test_arcgis import LAYER, Layer, _record
from tests.test_regions_real_shape import DATASET, IDF_FIELDS, RECORD
from tests.waiting import wait_until
from watcher.delivery.render import AlertView, render_html, render_text
from watcher.items import Item

CHANNEL = -1009876543210


def rss_items(*items: tuple[int, str, str, str]) -> bytes:
    """An RSS feed of (number, title words, pubDate, link) items tagged T1x<number>."""
    entries = "".join(
        f"<item><title>Texte T1x{n} {words} reconnaissance faciale</title>"
        f"<link>{link}</link><guid>g{n}</guid><pubDate>{date}</pubDate></item>"
        for n, words, date, link in items
    )
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{entries}</channel></rss>"
    ).encode()


def source_errors(workdir: Path) -> list[str | None]:
    db = sqlite3.connect(workdir / "watcher.db")
    errors = [row[0] for row in db.execute("SELECT last_error FROM sources")]
    db.close()
    return errors


NORMAL = "Mon, 02 Dec 2024 10:00:00 GMT"


def test_items_dated_9999_and_year_1_are_kept_and_alerted_beside_normal_ones(
    workdir: Path, feed_server: FeedServer
) -> None:
    rss = feed_server.serve(
        "/rss",
        rss_items(
            (1, "normal", NORMAL, "https://example.org/1"),
            (2, "lointain", "Fri, 31 Dec 9999 23:59:00 GMT", "https://example.org/2"),
            (3, "antique", "Mon, 01 Jan 0001 00:00:00 +0100", "https://example.org/3"),
        ),
    )
    # Atom's "0001-01-01T00:00:00+01:00" comes out of feedparser as year 0.
    atom = feed_server.serve(
        "/atom",
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        "<entry><title>Texte T2x1 reconnaissance faciale</title><id>a1</id>"
        '<updated>0001-01-01T00:00:00+01:00</updated><link href="https://example.org/a1"/></entry>'
        "<entry><title>Texte T2x2 reconnaissance faciale</title><id>a2</id>"
        '<updated>9999-12-31T23:59:59-01:00</updated><link href="https://example.org/a2"/></entry>'
        "</feed>",
    )
    write_config(
        workdir,
        [
            {"id": "rss", "name": "R", "url": rss, "backfill": "true"},
            {"id": "atom", "name": "A", "url": atom, "backfill": "true"},
        ],
        extra=FAST,
    )

    result = run("poll")

    assert result.code == 0, result.err
    assert sorted(tags(result.out)) == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]
    assert "01/01/2200" in result.out and "01/01/1900" in result.out
    assert "Traceback" not in result.err
    assert source_errors(workdir) == [None, None]


def test_the_same_dates_reach_telegram_grouped_and_alone(
    workdir: Path,
    feed_server: FeedServer,
    bot_api: FakeTelegram,
) -> None:
    fake = bot_api
    url = feed_server.serve(
        "/rss",
        rss_items(
            (1, "normal", NORMAL, "https://example.org/1"),
            (2, "lointain", "Fri, 31 Dec 9999 23:59:00 GMT", "https://example.org/2"),
        ),
    )
    write_config(
        workdir,
        [{"id": "rss", "name": "R", "url": url, "backfill": "true"}],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n    topics: [biometrie]\n" + FAST,
    )

    result = run("poll")

    assert result.code == 0, result.err
    delivered = sorted(t for m in fake.messages_to(CHANNEL) for t in tags(m.text))
    assert delivered == [(1, 1), (1, 2)]


def test_a_feed_with_bad_character_references_is_read_whole(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve(
        "/rss",
        rss_items(
            (1, "caméra &#55357;&#56569; pair", NORMAL, "https://example.org/1"),
            (2, "seul &#55357; et hors &#1114112; et nul &#0;", NORMAL, "https://example.org/2"),
            (3, "sans histoire", NORMAL, "https://example.org/3"),
        ),
    )
    write_config(workdir, [{"id": "rss", "name": "R", "url": url, "backfill": "true"}], extra=FAST)

    result = run("poll")

    assert result.code == 0, result.err
    assert sorted(tags(result.out)) == [(1, 1), (1, 2), (1, 3)]
    assert "caméra 📹 pair" in result.out  # the two references make one emoji
    assert "seul \ufffd et hors \ufffd et nul \ufffd" in result.out
    assert source_errors(workdir) == [None]


def test_links_that_are_not_web_pages_reach_telegram_as_text(
    workdir: Path,
    feed_server: FeedServer,
    bot_api: FakeTelegram,
) -> None:
    fake = bot_api
    url = feed_server.serve(
        "/rss",
        rss_items(
            (1, "script", NORMAL, "javascript:alert(1)"),
            (2, "mention", NORMAL, "tg://user?id=42"),
            (3, "page", NORMAL, "https://example.org/3"),
            (4, "donnée", NORMAL, "data:text/html,x"),
        ),
    )
    write_config(
        workdir,
        [{"id": "rss", "name": "R", "url": url, "backfill": "true"}],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n    topics: [biometrie]\n" + FAST,
    )

    assert run("poll").code == 0
    (message,) = fake.messages_to(CHANNEL)  # a burst: one grouped message
    assert sorted(tags(message.text)) == [(1, 1), (1, 2), (1, 3), (1, 4)]
    assert 'href="https://example.org/3"' in message.text
    for scheme in ("javascript:", "tg://", "data:"):
        assert scheme not in message.text


def test_a_debate_in_2099_is_given_by_its_date_without_a_countdown() -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    item = Item("s", "k", "Proposition de loi", "https://example.org/p")
    for event_at, shown in [
        (datetime(2099, 3, 1, 9, 0, tzinfo=UTC), "prévu le 01/03/2099"),
        (datetime(2026, 12, 17, 9, 0, tzinfo=UTC), "prévu le 17/12/2026, dans 10 jours"),
    ]:
        view = AlertView("S", item, (), {}, event_at=event_at, event_label="Vote", now=now)
        for text in (render_text(view), render_html(view)):
            line = next(line for line in text.splitlines() if "⏰" in line)
            assert line.endswith(shown), line


def test_a_migrated_group_still_listed_under_channels_costs_one_refused_send(
    workdir: Path,
    feed_server: FeedServer,
    bot_api: FakeTelegram,
) -> None:
    fake = bot_api
    old, new = -4001, -1004001
    fake.migrated[old] = new
    url = feed_server.serve("/rss", rss_items(*((n, "", NORMAL, "https://e.org/") for n in (1,))))
    write_config(
        workdir,
        [{"id": "rss", "name": "R", "url": url, "interval": "1s"}],
        extra=f"channels:\n  - chat_id: {old}\n    topics: [biometrie]\n" + FAST,
    )
    assert run("poll").code == 0  # the backlog is seen
    for n in (2, 3):  # two polls, each with a new item routed to the old id
        items = [(m, "", NORMAL, f"https://e.org/{m}") for m in range(1, n + 1)]
        feed_server.serve("/rss", rss_items(*items))
        result = run("poll")
        assert result.code == 0, result.err

    sends_to_old = [c for c in fake.calls_of("sendMessage") if int(c["chat_id"]) == old]
    assert len(sends_to_old) == 1  # the first one learns of the move, the rest go straight
    delivered = sorted(t for m in fake.messages_to(new) for t in tags(m.text))
    assert delivered == [(1, 2), (1, 3)]


def test_a_maintainer_notice_refused_as_html_arrives_as_plain_text(
    workdir: Path,
    feed_server: FeedServer,
    bot_api: FakeTelegram,
) -> None:
    fake = bot_api
    maintainer = 777
    fake.refuse[CHANNEL] = "Bad Request: chat not found"  # a permanent failure: a notice
    fake.reject_html.add(maintainer)  # and the notice's HTML is refused
    url = feed_server.serve("/rss", rss_items((1, "", NORMAL, "https://e.org/1")))
    write_config(
        workdir,
        [{"id": "rss", "name": "R", "url": url, "backfill": "true"}],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n    topics: [biometrie]\n"
        f"maintainers: [{maintainer}]\n" + FAST,
    )

    assert run("poll").code == 0
    (notice,) = fake.messages_to(maintainer)
    assert notice.parse_mode is None
    assert f"{CHANNEL} refuse les messages" in notice.text


# Two records that once made a poll raise, now read like any other:
# - a deliberation dated 9999-12-31 23:00 UTC, the "no end date" sentinel: ArcGIS date
#   fields are epoch milliseconds in UTC (https://doc.arcgis.com/en/data-pipelines/latest/
#   process/output-feature-layer.htm, quoted in telefonicaid/fiware-cygnus#2339) and
#   9999-12-31 sentinels are common in public data (bcgov/mds#729 removes them). In Paris
#   time it is year 10000: the reader raised OverflowError; its date is now clamped;
# - a subject cut in the middle of an emoji, leaving "\ud83d" alone: JSON allows such an
#   escape (RFC 8259 section 8.2), JSON.stringify writes it since ES2019
#   (tc39/proposal-well-formed-stringify), json.loads reads it as a lone surrogate, and
#   SQLite cannot encode it: saving the poll raised UnicodeEncodeError; every item's
#   texts are now scrubbed of unpaired surrogates (watcher/items.py).
ODD_RECORDS = {
    "dated": _record(2, "Vidéoprotection algorithmique", 253402297200000),
    "truncated": _record(2, "Caméras augmentées \ud83d"),
}


def layer(feed_server: FeedServer, name: str, second: dict[str, Any]) -> str:
    """A Normandie-like layer (tests/test_arcgis.py's shape): a normal record and ``second``."""
    feed_server.handle(
        f"/{name}{LAYER}/query", Layer([_record(1, "Caméras augmentées au stade"), second])
    )
    return feed_server.url(f"/{name}{LAYER}")


@pytest.mark.parametrize("name", list(ODD_RECORDS))
def test_an_odd_json_record_is_kept_and_alerted_beside_a_normal_one(
    name: str,
    workdir: Path,
    feed_server: FeedServer,
    bot_api: FakeTelegram,
) -> None:
    fake = bot_api
    url = layer(feed_server, name, ODD_RECORDS[name])
    write_config(
        workdir,
        [
            {
                "id": "normandie",
                "name": "Normandie",
                "kind": "arcgis",
                "url": url,
                "backfill": "true",
            }
        ],
        extra=f"channels:\n  - chat_id: {CHANNEL}\n    topics: [biometrie]\n" + FAST,
    )

    result = run("poll")

    assert result.code == 0, result.err
    assert "Traceback" not in result.err and "retry at" not in result.err
    assert source_errors(workdir) == [None]
    text = "\n".join(m.text for m in fake.messages_to(CHANNEL))
    assert "CP-2024-0001.pdf" in text and "CP-2024-0002.pdf" in text  # both records
    assert "Caméras augmentées au stade" in text
    if name == "dated":
        assert "Vidéoprotection algorithmique" in text
        assert "01/01/2200" in text  # the sentinel at the latest date kept
    else:
        assert "Caméras augmentées \ufffd" in text  # the half emoji replaced


# A poll that still raises what no reader declares goes the generic way: a failed poll,
# said in one line, backed off. The one real input found to get there: a JSON answer
# nested 100,000 levels deep, which json.loads gives up on with RecursionError (not a
# ValueError, so no reader turns it into a ParseError). RFC 8259 section 9 lets a parser
# limit nesting; no public payload of this shape was found, so it is built here by hand,
# as a broken or hostile server could send it.
NESTED = b"[" * 100_000 + b"]" * 100_000
RAISING = {"nested": (NESTED, "RecursionError")}


def layer_of(feed_server: FeedServer, name: str, polls: list[float] | None = None) -> str:
    """A layer whose /query answers RAISING's body; the moments it is queried go to ``polls``."""

    def answer(seen: Seen) -> Route:
        if polls is not None:
            polls.append(time.monotonic())
        return Route(RAISING[name][0], content_type="application/json", etag=False)

    feed_server.handle(f"/{name}{LAYER}/query", answer)
    return feed_server.url(f"/{name}{LAYER}")


@pytest.mark.parametrize("name", list(RAISING))
def test_a_poll_that_raises_fails_its_source_only_in_one_line(
    name: str, workdir: Path, feed_server: FeedServer
) -> None:
    rss = feed_server.serve("/rss", rss_items((1, "normal", NORMAL, "https://example.org/1")))
    write_config(
        workdir,
        [
            {
                "id": "normandie",
                "name": "Normandie",
                "kind": "arcgis",
                "url": layer_of(feed_server, name),
            },
            {"id": "rss", "name": "R", "url": rss, "backfill": "true"},
        ],
        extra=FAST,
    )

    result = run("poll")

    assert result.code == 0, result.err
    assert tags(result.out) == [(1, 1)]  # the other source is read and alerted
    (line,) = [line for line in result.err.splitlines() if "normandie" in line]
    assert f"source normandie: {RAISING[name][1]}: " in line and "(retry at " in line
    assert "Traceback" not in result.err
    (error,) = [e for e in source_errors(workdir) if e is not None]
    assert error.startswith(f"{RAISING[name][1]}: ")


def test_watcher_run_backs_off_polls_that_raise_and_says_each_once(
    workdir: Path, feed_server: FeedServer, watchers: list[Watcher]
) -> None:
    polls: dict[str, list[float]] = {name: [] for name in RAISING}
    write_config(
        workdir,
        [
            {
                "id": name,
                "name": name,
                "kind": "arcgis",
                "interval": "1s",
                "url": layer_of(feed_server, name, polls[name]),
            }
            for name in RAISING
        ],
        extra=FAST,
    )
    watcher = Watcher(workdir, python_env())
    watchers.append(watcher)

    for name in RAISING:  # a backoff from 1 s doubling: polls at about 0, 1, 3 and 7 s
        wait_until(lambda name=name: len(polls[name]) >= 4, f"four polls of {name}")
    assert watcher.stop() == 0

    log = watcher.errors()
    assert "Traceback" not in log
    for name, (_, error) in RAISING.items():
        lines = [line for line in log.splitlines() if f"source {name}:" in line]
        # One line a poll (the last may have been cancelled by the stop), each the same.
        assert len(polls[name]) - 1 <= len(lines) <= len(polls[name])
        assert all(f"source {name}: {error}: " in line and "(retry at " in line for line in lines)
        # Backed off like any failure, 1 s, then 2 s, then 4 s: the first four polls
        # span 7 s (3 s on the interval alone, none in a hot loop); 2 s are left for
        # a loaded machine's delays in starting a poll.
        span = polls[name][3] - polls[name][0]
        assert span > 5.0, polls[name]


def test_every_text_of_an_item_is_scrubbed_of_unpaired_surrogates_whatever_its_kind() -> None:
    half, pair = "\ud83d", "\ud83d\udcf9"  # as json.loads leaves "\ud83d" and "\udcf9" apart
    item = Item(
        "s",
        f"k{half}",
        f"titre {pair} {half}",
        url=f"https://e.org/{half}",
        summary=half,
        body=f"{half}{half}",
        kind=half,
        schedule=half,
        revision=half,
        event=half,
        dossier=half,
        aliases=(f"nor:{half}",),
        extra={f"clé{half}": half},
    )

    assert item.title == "titre 📹 \ufffd"
    assert item.body == "\ufffd\ufffd"
    texts = [item.key, item.url or "", item.summary, item.kind, item.schedule, item.revision]
    texts += [item.event, item.dossier, *item.aliases, *item.extra, *item.extra.values()]
    assert all("\ufffd" in text for text in texts)
    for text in texts:
        text.encode()  # what SQLite needs


def test_an_error_message_with_half_an_emoji_is_saved_as_the_sources_error(
    workdir: Path, feed_server: FeedServer
) -> None:
    # ArcGIS errors come as {"error": {"code", "message", "details"}} (tests/fixtures/
    # arcgis_error.json); a message cut in an emoji, like a subject, keeps "\ud83d" alone.
    answer = {"error": {"code": 400, "message": "Champ inconnu \ud83d", "details": []}}
    body = json.dumps(answer).encode()
    feed_server.handle(f"/cut{LAYER}/query", lambda seen: Route(body, etag=False))
    write_config(
        workdir,
        [{"id": "cut", "name": "Cut", "kind": "arcgis", "url": feed_server.url(f"/cut{LAYER}")}],
        extra=FAST,
    )

    result = run("poll")

    assert "Traceback" not in result.err
    (line,) = [line for line in result.err.splitlines() if "(retry at " in line]
    assert "source cut: " in line and "ArcGIS error 400: Champ inconnu \ufffd" in line
    (error,) = source_errors(workdir)
    assert error is not None and error.endswith("Champ inconnu \ufffd")


def test_a_dataset_record_dated_9999_does_not_blind_its_source_to_later_records(
    workdir: Path, feed_server: FeedServer
) -> None:
    # An Explore v2.1 dataset (tests/test_regions_real_shape.py's shape) whose records
    # endpoint honours the `where` watcher sends, as the portal does.
    records = [
        {**RECORD, "numero": "CP 1", "titre": "Reconnaissance faciale à la gare"},
        {
            **RECORD,
            "numero": "CP 2",
            "titre": "Reconnaissance faciale sans fin",
            "date_decision": "9999-12-31",
        },
    ]

    def answer(seen: Seen) -> Route:
        where = parse_qs(urlsplit(seen.path).query).get("where", [""])[0]
        since = re.search(r"date_decision >= date'([\d-]+)'", where)
        chosen = [r for r in records if not since or str(r["date_decision"]) >= since[1]]
        body = {"total_count": len(chosen), "results": chosen}
        return Route(json.dumps(body).encode(), content_type="application/json", etag=False)

    feed_server.serve(DATASET, json.dumps({"fields": IDF_FIELDS}), content_type="application/json")
    feed_server.handle(f"{DATASET}/records", answer)
    source = {"id": "idf", "name": "IDF", "kind": "opendatasoft", "backfill": "true"}
    source |= {"url": feed_server.url(f"{DATASET}/records"), "fields": "{date: date_decision}"}
    write_config(workdir, [source], extra=FAST)

    first = run("poll")
    later = {"numero": "CP 3", "titre": "Reconnaissance faciale au lycée", "texte": "<p>Vote</p>"}
    records.append({**RECORD, **later, "date_decision": "2026-12-01"})
    second = run("poll")

    assert first.code == second.code == 0, first.err + second.err
    assert (
        "Reconnaissance faciale à la gare" in first.out
        and "Reconnaissance faciale sans fin" in first.out
    )
    assert "01/01/2200" in first.out  # the sentinel kept, at the latest date
    assert "Reconnaissance faciale au lycée" in second.out  # still read after it
