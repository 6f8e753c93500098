"""The Sénat as it really publishes: coming sittings, and report annexes."""

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import REAL, needs_real, run, write_config
from tests.feed_server import FeedServer
from watcher.sources.xmlutil import PARIS

MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"


def _french(day: datetime) -> str:
    return f"{day.day} {MONTHS.split()[day.month - 1]} {day.year}"


@needs_real
def test_the_coming_sittings_page_gives_dossiers_their_sitting_day(
    feed_server: FeedServer, workdir: Path
) -> None:
    # The recorded page (fixtures/real/senat/textes-recents.html, June 2019), with one
    # day moved 8 days ahead of today and that day's text renamed to carry the words.
    coming = datetime.now(PARIS) + timedelta(days=8)
    page = (
        (REAL / "senat" / "textes-recents.html")
        .read_bytes()
        .replace(b"<li>20 juin 2019<", f"<li>{_french(coming)}<".encode("latin-1"))
        .replace(
            "relative à la nomination du directeur général".encode("latin-1"),
            "relative à la reconnaissance faciale".encode("latin-1"),
        )
    )
    feed_server.serve("/dossiers-legislatifs/textes-recents.html", page, content_type="text/html")
    url = feed_server.url("/dossiers-legislatifs/textes-recents.html")
    site = feed_server.url("")
    write_config(
        workdir,
        [{"id": "senat-agenda", "name": "Sénat", "kind": "senat", "url": url, "site": site}],
    )
    assert run("poll").code == 0  # the backlog: noted
    db = sqlite3.connect(workdir / "watcher.db")
    rows = {
        key: (dossier, datetime.fromisoformat(at).astimezone(PARIS).date(), event)
        for key, dossier, at, event in db.execute("SELECT key, dossier, event_at, event FROM items")
    }
    assert len(rows) == 16  # every dossier of the box, once, not the 12 months' list
    # Days written "18 et 19 juin 2019" and "4, 5 et 6 juin 2019" are read whole.
    assert rows["seance:pjl18-404"][1].isoformat() == "2019-06-11"  # all past: the latest
    assert rows["seance:ppl18-043"] == (
        "senat:ppl18-043",
        coming.date(),
        "Examen en séance publique",
    )
    assert rows["seance:ppl18-229"][2] == "Examen en séance publique (éventuellement)"

    # With backfill, the matched text is alerted with its sitting to come.
    for leftover in ("watcher.db", "watcher.db-wal", "watcher.db-shm"):
        (workdir / leftover).unlink(missing_ok=True)  # a fresh database, its journal too
    write_config(
        workdir,
        [
            {
                "id": "senat-agenda",
                "name": "Sénat",
                "kind": "senat",
                "url": url,
                "site": site,
                "backfill": "true",
            }
        ],
    )
    result = run("poll")
    assert result.code == 0, result.err
    assert f"⏰ Examen en séance publique prévu le {coming:%d/%m/%Y}, dans 8 jours" in result.out
    assert f"{site}/dossier-legislatif/ppl18-043.html" in result.out


@needs_real
def test_a_report_annex_is_its_own_text_in_its_reports_dossier(
    feed_server: FeedServer, workdir: Path
) -> None:
    # The recorded rapports.rss lists /rap/l18-147-3-1/, a volume of report l18-147.
    feed_server.serve(
        "/rss/rapports.rss",
        (REAL / "senat" / "senat_rss_rapports_2018-12-28_rss2.xml").read_bytes(),
    )
    url = feed_server.url("/rss/rapports.rss")
    write_config(
        workdir, [{"id": "s", "name": "Sénat", "kind": "senat", "url": url, "backfill": "true"}]
    )

    assert run("poll").code == 0

    db = sqlite3.connect(workdir / "watcher.db")
    rows = dict(db.execute("SELECT key, dossier FROM items WHERE key LIKE 'l18-%'"))
    assert rows["l18-147-3-1"] == "senat:l18-147"
    assert "l18-147" not in rows
    assert rows["l18-212"] == ""
