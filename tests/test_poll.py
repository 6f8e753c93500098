"""``watcher poll`` and ``watcher status`` against a local feed server."""

import json
import sqlite3
from pathlib import Path

from tests.conftest import REAL, fixture_bytes, needs_real, run, write_config
from tests.feed_server import FeedServer


def senat_source(
    server: FeedServer, name: str = "senat_textes_rss2.xml", **extra: object
) -> dict[str, object]:
    url = server.serve("/rss/textes.rss", fixture_bytes(name))
    return {"id": "senat-textes", "name": "Sénat — textes", "kind": "rss", "url": url, **extra}


def test_first_poll_marks_backlog_as_seen_then_new_items_alert_once(
    workdir: Path, feed_server: FeedServer
) -> None:
    write_config(workdir, [senat_source(feed_server)])

    first = run("poll")
    assert first.code == 0, first.err
    assert first.out == ""  # the backlog (including a matching bill) is not alerted

    feed_server.serve("/rss/textes.rss", fixture_bytes("senat_textes_rss2_later.xml"))
    second = run("poll")
    assert second.code == 0, second.err
    assert second.out.count("Proposition de loi visant à interdire la reconnaissance faciale") == 1
    assert "Mots-clés : reconnaissance faciale" in second.out
    assert "«reconnaissance faciale»" in second.out
    assert "https://www.senat.fr/leg/ppl24-170.html" not in second.out  # links are shown as given
    assert "http://www.senat.fr/leg/ppl24-170.html" in second.out
    assert "Jeux Olympiques" not in second.out  # seen at the first poll

    third = run("poll")
    assert third.code == 0
    assert third.out == ""


def test_backfill_alerts_matching_backlog_but_not_other_senses(
    workdir: Path, feed_server: FeedServer
) -> None:
    write_config(workdir, [senat_source(feed_server, backfill="true")])

    result = run("poll")

    assert result.code == 0, result.err
    assert "Projet de loi relatif aux jeux Olympiques et Paralympiques de 2024" in result.out
    assert "Mots-clés : vidéoprotection … algorithmiques" in result.out  # as the text spells them
    assert "catastrophe naturelle" not in result.out  # "reconnaissance" in another sense


def test_unchanged_feed_is_asked_conditionally_and_304_is_not_an_error(
    workdir: Path, feed_server: FeedServer
) -> None:
    write_config(workdir, [senat_source(feed_server)])
    run("poll")

    result = run("poll")

    assert result.code == 0
    requests = feed_server.hits("/rss/textes.rss")
    assert len(requests) == 2
    assert "if-none-match" not in requests[0].headers
    assert requests[1].headers["if-none-match"].startswith('"')
    assert requests[1].headers["if-modified-since"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert requests[1].headers["user-agent"].startswith("watcher/")
    status = run("status")
    assert "senat-textes" in status.out
    assert "never" not in status.out


def test_sender_without_validators_falls_back_to_if_modified_since(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", fixture_bytes("senat_textes_rss2.xml"), etag=False)
    write_config(workdir, [{"id": "plain", "name": "Plain", "url": url}])
    run("poll")
    run("poll")
    second = feed_server.hits("/feed")[1]
    assert "if-none-match" not in second.headers
    assert second.headers["if-modified-since"] == "Wed, 21 Oct 2015 07:28:00 GMT"


def test_senat_atom03_iso8859_15_parses_with_accents_and_paris_dates(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve(
        "/dosleg.xml", fixture_bytes("senat_dosleg_atom03.xml"), content_type="application/xml"
    )
    write_config(workdir, [{"id": "dosleg", "name": "Dossier", "url": url, "backfill": "true"}])

    result = run("poll")

    assert result.code == 0, result.err
    assert "Texte n° 543 déposé au Sénat" in result.out
    # 2022-04-11T22:00:00Z is midnight of 12 April in Paris, the day the Sénat means.
    assert "Dossier · Proposition de loi · 12/04/2022" in result.out
    assert "la reconnaissance «biométrique» dans l'espace public" in result.out
    assert "œuvres" not in result.out


def test_senat_rss_date_without_space_after_comma(workdir: Path, feed_server: FeedServer) -> None:
    write_config(workdir, [senat_source(feed_server, backfill="true")])
    result = run("poll")
    assert "Sénat — textes · Projet de loi · 22/12/2022" in result.out


def test_feed_declaring_latin9_but_sending_utf8_is_decoded_right(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/region.rss", fixture_bytes("lying_encoding_rss.xml"))
    write_config(workdir, [{"id": "region", "name": "Région", "url": url, "backfill": "true"}])
    result = run("poll")
    assert "Expérimentation de caméras augmentées dans les lycées" in result.out
    assert "Ã" not in result.out


def test_gzip_bodies_are_decompressed(workdir: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/gz", fixture_bytes("senat_textes_rss2.xml"), gzip=True)
    write_config(workdir, [{"id": "gz", "name": "GZ", "url": url, "backfill": "true"}])
    result = run("poll")
    assert "jeux Olympiques" in result.out


def test_broken_sources_are_recorded_while_a_good_one_still_alerts(
    workdir: Path, feed_server: FeedServer
) -> None:
    good = senat_source(feed_server, backfill="true")
    sources = [
        {"id": "missing", "name": "Missing", "url": feed_server.url("/nothing-here")},
        {
            "id": "html",
            "name": "HTML",
            "url": feed_server.serve(
                "/page", fixture_bytes("not_a_feed.html"), content_type="text/html"
            ),
        },
        {
            "id": "garbage",
            "name": "Garbage",
            "url": feed_server.serve("/garbage", b"\x00\x01{not xml at all"),
        },
        {"id": "down", "name": "Down", "url": "http://127.0.0.1:9/feed"},
        {
            "id": "huge",
            "name": "Huge",
            "url": feed_server.serve("/huge", b"<rss>" + b" " * 3_000_000 + b"</rss>"),
        },
        good,
    ]
    write_config(workdir, sources, extra="settings:\n  max_response_size: 1MB\n")

    result = run("poll")

    assert result.code == 0
    assert "jeux Olympiques" in result.out
    assert "source missing: HTTP 404" in result.err
    assert "source html: the URL returned an HTML page, not an RSS or Atom feed" in result.err
    assert "source garbage: not a readable RSS/Atom feed" in result.err
    assert "source down: cannot reach" in result.err
    assert "source huge:" in result.err and "cap" in result.err
    assert "Traceback" not in result.err
    status = run("status")
    for source_id in ("missing", "html", "garbage", "down", "huge"):
        line = next(line for line in status.out.splitlines() if line.startswith(source_id))
        assert "(1x, at" in line
    good_line = next(line for line in status.out.splitlines() if line.startswith("senat-textes"))
    assert good_line.split()[-2:] == ["2", "1"]  # 2 items seen, 1 alert sent


def test_failing_source_backs_off_instead_of_being_hammered(
    workdir: Path, feed_server: FeedServer
) -> None:
    write_config(workdir, [{"id": "missing", "name": "Missing", "url": feed_server.url("/gone")}])
    run("poll")
    second = run("poll")
    assert len(feed_server.hits("/gone")) == 1
    assert "not due before" in second.err


def test_item_identity_survives_link_spelling_changes(
    workdir: Path, feed_server: FeedServer
) -> None:
    write_config(workdir, [senat_source(feed_server)])
    run("poll")
    https = fixture_bytes("senat_textes_rss2.xml").replace(
        b"http://www.senat.fr", b"https://WWW.senat.fr"
    )
    feed_server.serve("/rss/textes.rss", https.replace(b".html</guid>", b".html/</guid>"))
    result = run("poll")
    assert result.out == ""
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 2


def test_item_match_and_alert_are_stored_together(workdir: Path, feed_server: FeedServer) -> None:
    write_config(workdir, [senat_source(feed_server, backfill="true")])
    run("poll")
    db = sqlite3.connect(workdir / "watcher.db")
    ((keywords, excerpt),) = db.execute("SELECT keywords, excerpt FROM matches").fetchall()
    assert json.loads(keywords) == ["vidéoprotection ~ algorithmique"]
    assert "vidéoprotection" in excerpt
    assert db.execute("SELECT destination, status FROM alerts").fetchall() == [("console", "sent")]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@needs_real
def test_real_senat_rss2_and_atom03_give_the_same_items(
    workdir: Path, feed_server: FeedServer
) -> None:
    rss_url = feed_server.serve(
        "/rapports.rss", (REAL / "senat" / "senat_rss_rapports_2018-12-28_rss2.xml").read_bytes()
    )
    atom_url = feed_server.serve(
        "/rapports.xml", (REAL / "senat" / "senat_atom03_rapports_2018-12-28.xml").read_bytes()
    )
    write_config(
        workdir,
        [
            {"id": "rss", "name": "RSS", "url": rss_url},
            {"id": "atom", "name": "Atom", "url": atom_url},
        ],
    )
    assert run("poll").code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    # The same reports through both feeds are one text each: stored once, the other
    # feed's sighting (its key and date) kept beside it.
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 26
    rows = {
        source: sorted(
            db.execute(
                """SELECT key, title, published FROM items WHERE source_id = ?
                   UNION SELECT item_links.key, items.title, item_links.published
                   FROM item_links JOIN items ON items.id = item_links.item_id
                   WHERE item_links.source_id = ?""",
                [source, source],
            ).fetchall()
        )
        for source in ("rss", "atom")
    }
    assert len(rows["rss"]) == 26
    assert rows["rss"] == rows["atom"]
    titles = [title for _, title, _ in rows["rss"]]
    assert (
        "Recueil des notes de synthèse de juillet à octobre 2018 - Étude de législation comparée n° 286"
        in titles
    )
    published = dict((key, date) for key, _, date in rows["rss"])
    assert (
        published["https://www.senat.fr/notice-rapport/2018/lc286-notice.html"]
        == "2018-12-28T10:17:29.000+00:00"
    )


@needs_real
def test_real_senat_dossier_feed_in_iso8859_15(workdir: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve(
        "/dosleg.xml", (REAL / "senat" / "dosleg_rss_pjl18-404_atom03_iso8859-15.xml").read_bytes()
    )
    write_config(workdir, [{"id": "dosleg", "name": "Dossier", "url": url}])
    assert run("poll").code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    titles = [t for (t,) in db.execute("SELECT title FROM items")]
    assert len(titles) > 10
    assert all("Ã" not in t and "\ufffd" not in t for t in titles)


def test_many_sources_polled_concurrently_are_all_stored(
    workdir: Path, feed_server: FeedServer
) -> None:
    sources = []
    for index in range(20):
        body = fixture_bytes("senat_textes_rss2.xml").replace(
            b"pjl22-220", f"pjl22-{index}".encode()
        )
        sources.append(
            {
                "id": f"s{index:02d}",
                "name": f"S{index}",
                "url": feed_server.serve(f"/f{index}", body),
                "backfill": "true",
            }
        )
    write_config(workdir, sources, extra="settings:\n  concurrency: 8\n")

    result = run("poll")

    assert result.code == 0, result.err
    assert result.out.count("Projet de loi relatif aux jeux Olympiques") == 20
    assert "locked" not in result.err
    db = sqlite3.connect(workdir / "watcher.db")
    # Each feed's own bill, and the one report all twenty publish: one text, seen 20 times.
    assert db.execute("SELECT COUNT(DISTINCT source_id), COUNT(*) FROM items").fetchone() == (
        20,
        21,
    )
    assert db.execute("SELECT COUNT(*) FROM item_links").fetchone()[0] == 19
    assert db.execute("SELECT COUNT(*) FROM alerts WHERE status = 'sent'").fetchone()[0] == 20


def test_text_inside_script_and_style_elements_is_not_read(
    workdir: Path, feed_server: FeedServer
) -> None:
    # feedparser no longer sanitizes (watcher strips markup itself): what its
    # sanitizer dropped, the contents of scripts and styles, must stay dropped.
    hidden = (
        "<item><title>Séance du conseil</title><guid>g1</guid>"
        "<description>&lt;p&gt;Ordre du jour&lt;script&gt;var t = 'reconnaissance faciale';"
        "&lt;/script&gt;&lt;STYLE type='text/css'&gt;.biométrique {}&lt;/STYLE&gt;&lt;/p&gt;"
        "</description></item>"
    )
    shown = (
        "<item><title>Délibération</title><guid>g2</guid>"
        "<description>&lt;p&gt;Caméras à &lt;b&gt;reconnaissance faciale&lt;/b&gt;&lt;/p&gt;"
        "</description></item>"
    )
    body = f'<rss version="2.0"><channel><title>C</title>{hidden}{shown}</channel></rss>'
    url = feed_server.serve("/rss", body.encode())
    write_config(workdir, [{"id": "c", "name": "C", "url": url, "backfill": "true"}])

    result = run("poll")

    assert result.code == 0, result.err
    assert "Délibération" in result.out
    assert "Séance du conseil" not in result.out
    db = sqlite3.connect(workdir / "watcher.db")
    summaries = [row[0] for row in db.execute("SELECT summary FROM items ORDER BY key")]
    assert summaries == ["Ordre du jour", "Caméras à reconnaissance faciale"]
