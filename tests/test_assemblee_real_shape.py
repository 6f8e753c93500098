"""The Assemblée's reunion documents as they are published, and busy days.

No reunion document is recorded in ../shared/fixtures/real. The shape below follows
public readers of the AN's agenda (found through the code index, which did not name
their repositories): a Python parser of Agenda_XV.json reads ``r["timeStampDebut"]``
(capital S) and ``ODJ/pointsODJ/pointODJ``; TypeScript types of
data.assemblee-nationale.fr's Agenda.json give ``timeStampDebut``,
``identifiants.DateSeance`` ("YYYY-MM-DD+TZ") and
``pointODJ.dossiersLegislatifsRefs.dossierRef``. UIDs: ``RUANR5L15S2018IDC428849``
in the recorded dossier (fixtures/real/assemblee), ``AMANR5L15PO744107B0806P0D1N26``
in betagouv/zam's tests.
"""

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import run, write_config
from tests.feed_server import FeedServer
from watcher.sources.xmlutil import PARIS

AN_LISTS = "/dyn/opendata/list-publication"
SITTING = (datetime.now(PARIS) + timedelta(days=8)).replace(hour=15, minute=0, second=0)


def point(uid: str, number: int, objet: str, dossier: str) -> str:
    return f"""<pointODJ xsi:type="podjSeanceConfPres_type">
        <uid>{uid}PT{number}</uid>
        <objet>{objet}</objet>
        <typePointODJ>Discussion</typePointODJ>
        <dossiersLegislatifsRefs><dossierRef>{dossier}</dossierRef></dossiersLegislatifsRefs>
      </pointODJ>"""


def reunion(
    uid: str, start: str, objet: str, dossier: str = "DLR5L17N51234", more: str = ""
) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<reunion xmlns="http://schemas.assemblee-nationale.fr/referentiel"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <uid>{uid}</uid>
  {start}
  <cycleDeVie><etat>Confirmé</etat><chrono><creation>2026-11-30T10:00:00.000+01:00</creation></chrono></cycleDeVie>
  <organeReuniRef>PO838901</organeReuniRef>
  <ODJ>
    <pointsODJ>
      <pointODJ xsi:type="podjSeanceConfPres_type">
        <uid>{uid}PT42</uid>
        <objet>{objet}</objet>
        <typePointODJ>Discussion</typePointODJ>
        <dossiersLegislatifsRefs><dossierRef>{dossier}</dossierRef></dossiersLegislatifsRefs>
      </pointODJ>{more}
    </pointsODJ>
  </ODJ>
  <identifiants><DateSeance>{SITTING:%Y-%m-%d}+01:00</DateSeance></identifiants>
</reunion>
"""


def publish(server: FeedServer, documents: dict[str, tuple[str, str]]) -> str:
    """Today's list, ``timestamp;URL`` lines to ``.xml`` documents (regardscitoyens' scripts)."""
    today = datetime.now(PARIS).date().isoformat()
    lines = [f"{stamp};{server.url(path)}" for path, (stamp, _) in documents.items()]
    server.serve(f"{AN_LISTS}/publication_{today}", "\n".join(lines), content_type="text/plain")
    for path, (_, body) in documents.items():
        server.serve(path, body, content_type="application/xml")
    return server.url(AN_LISTS)


def _config(workdir: Path, url: str, **extra: object) -> None:
    source = {"id": "an", "name": "Assemblée nationale", "kind": "assemblee", "url": url}
    write_config(workdir, [{**source, "days": 1, **extra}])


OBJET = "Discussion de la proposition de loi relative à la reconnaissance faciale"


def test_the_sitting_is_read_from_timestampdebut_not_the_lists_time(
    feed_server: FeedServer, workdir: Path
) -> None:
    _config(workdir, publish(feed_server, {}))
    assert run("poll").code == 0
    start = f"<timeStampDebut>{SITTING:%Y-%m-%dT%H:%M:%S}.000+01:00</timeStampDebut>"
    publish(
        feed_server,
        {
            "/dyn/opendata/RUANR5L17S2026IDS30001.xml": (
                "2026-12-07T08:15:00.000+01:00",
                reunion("RUANR5L17S2026IDS30001", start, OBJET),
            )
        },
    )

    result = run("poll")

    assert result.code == 0, result.err
    day = SITTING.strftime("%d/%m/%Y")
    assert f"⏰ Examen en séance publique prévu le {day}, dans 8 jours" in result.out
    assert "08:15" not in result.out and "07/12/2026" not in result.out
    db = sqlite3.connect(workdir / "watcher.db")
    [(dossier, event_at)] = db.execute(
        "SELECT dossier, event_at FROM items WHERE dossier != ''"
    ).fetchall()
    assert dossier == "an:DLR5L17N51234"
    assert datetime.fromisoformat(event_at).astimezone(PARIS).date() == SITTING.date()


def test_a_sitting_with_only_dateseance_is_dated_by_it(
    feed_server: FeedServer, workdir: Path
) -> None:
    _config(workdir, publish(feed_server, {}), backfill="true")
    publish(
        feed_server,
        {
            "/dyn/opendata/RUANR5L17S2026IDS30002.xml": (
                "2026-12-07T08:15:00.000+01:00",
                reunion("RUANR5L17S2026IDS30002", "", OBJET),
            )
        },
    )

    result = run("poll")

    assert result.code == 0, result.err
    assert f"réunion du {SITTING:%d/%m/%Y}" in result.out
    assert "08:15" not in result.out


def test_on_a_busy_day_the_agenda_is_read_before_the_amendments(
    feed_server: FeedServer, workdir: Path
) -> None:
    _config(workdir, publish(feed_server, {}), max_documents=3)
    assert run("poll").code == 0
    amendments = {
        f"/dyn/opendata/AMANR5L17PO838901B0999P0D1N{n:06}.xml": (
            f"2026-12-07T0{n % 10}:00:00.000+01:00",
            f"<amendement><uid>AMANR5L17PO838901B0999P0D1N{n:06}</uid></amendement>",
        )
        for n in range(1, 9)
    }
    start = f"<timeStampDebut>{SITTING:%Y-%m-%dT%H:%M:%S}.000+01:00</timeStampDebut>"
    late_agenda = {
        "/dyn/opendata/RUANR5L17S2026IDS30003.xml": (
            "2026-12-07T23:50:00.000+01:00",
            reunion("RUANR5L17S2026IDS30003", start, OBJET),
        )
    }
    publish(feed_server, {**amendments, **late_agenda})  # listed last, after the amendments

    result = run("poll")

    assert result.code == 0, result.err
    assert OBJET in result.out
    assert len(feed_server.hits("/dyn/opendata/RUANR5L17S2026IDS30003.xml")) == 1
    assert "document limit (3) reached: 6 document(s) left for the next poll" in result.err


def test_a_point_added_to_a_republished_sitting_is_its_own_item(
    feed_server: FeedServer, workdir: Path
) -> None:
    uid = "RUANR5L17S2026IDS30004"
    path = f"/dyn/opendata/{uid}.xml"
    start = f"<timeStampDebut>{SITTING:%Y-%m-%dT%H:%M:%S}.000+01:00</timeStampDebut>"
    first = reunion(uid, start, "Discussion du projet de loi de finances")
    _config(workdir, publish(feed_server, {path: ("2026-12-07T08:00:00.000+01:00", first)}))
    assert run("poll").code == 0  # the backlog: the sitting and its first point

    # The sitting's agenda is completed and republished under the same UID.
    second = reunion(
        uid,
        start,
        "Discussion du projet de loi de finances",
        more=point(uid, 43, OBJET, "DLR5L17N59999"),
    )
    publish(feed_server, {path: ("2026-12-07T18:00:00.000+01:00", second)})
    result = run("poll")

    assert result.code == 0, result.err
    assert OBJET in result.out
    db = sqlite3.connect(workdir / "watcher.db")
    rows = dict(db.execute("SELECT key, dossier FROM items").fetchall())
    assert rows == {
        uid: "",
        f"{uid}PT42:DLR5L17N51234": "an:DLR5L17N51234",
        f"{uid}PT43:DLR5L17N59999": "an:DLR5L17N59999",
    }
