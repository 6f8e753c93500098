"""Text decoded per field: a stray byte of another encoding spoils neither its field nor its words.

The cp1252 apostrophe in a UTF-8 title is in tests/test_textdecode.py; here the
stray bytes are inside the very words that must match, in one field of an
otherwise UTF-8 feed, and the other fields stay as they were.
"""

from pathlib import Path

from tests.conftest import run, write_config
from tests.feed_server import FeedServer

FEED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<rss version="2.0"><channel><title>Préfecture</title><link>https://p.example/</link>'
    "<description>d</description>"
    "<item><title>Arrêté préfectoral n° 2024-77 — « sécurité » des Jeux</title>"
    "<link>https://p.example/arretes/77</link><guid>77</guid>"
    "<description>Il autorise l’usage de CAMERAS_AUGMENTEES aux abords du stade.</description>"
    "</item></channel></rss>"
)


def test_a_latin1_keyword_in_a_utf8_description_matches_and_reads_right(
    workdir: Path, feed_server: FeedServer
) -> None:
    body = FEED.encode("utf-8").replace(
        b"CAMERAS_AUGMENTEES", "caméras augmentées".encode("cp1252")
    )
    assert b"cam\xe9ras augment\xe9es" in body and "Arrêté".encode() in body
    url = feed_server.serve("/arretes.rss", body)
    write_config(workdir, [{"id": "p", "name": "Préfecture", "url": url, "backfill": "true"}])

    result = run("poll")

    assert result.code == 0, result.err
    assert "Arrêté préfectoral n° 2024-77 — « sécurité » des Jeux" in result.out
    assert "Mots-clés : caméras augmentées" in result.out
    assert "l’usage de «caméras augmentées» aux abords" in result.out
    assert "Ã" not in result.out and "\ufffd" not in result.out
