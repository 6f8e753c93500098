"""The Sénat (feeds and Akoma Ntoso texts), the Assemblée nationale, and full texts."""

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import FIXTURES, REAL, needs_real, run, write_config
from tests.feed_server import FeedServer
from watcher.sources.senat_akn import parse_akn
from watcher.sources.xmlutil import PARIS

AKN_VSA = """<?xml version="1.0" encoding="UTF-8"?>
<akomaNtoso xmlns="http://docs.oasis-open.org/legaldocml/ns/akn/3.0">
  <bill name="ppl">
    <meta><identification source="#senat"><FRBRWork>
      <FRBRalias name="intitule-court" value="Reconnaissance biométrique dans l'espace public (PPL)"/>
      <FRBRalias name="signet-dossier-legislatif-senat" value="ppl25-170"/>
      <FRBRalias name="url-senat" value="https://www.senat.fr/dossier-legislatif/ppl25-170.html"/>
      <FRBRdate name="#presentation" date="2025-12-01"/>
    </FRBRWork></identification>
    <workflow source="#senat">
      <step date="2025-12-01" outcome="déposé au Sénat" by="#senat"/>
      <step date="2026-01-14" outcome="inscrit à l'ordre du jour de la séance publique" by="#senat"/>
    </workflow></meta>
    <preface><docTitle>Proposition de loi relative à la sécurité dans les transports</docTitle></preface>
    <body><article eId="art_1"><num>Article 1er</num><content><p>À titre expérimental, les exploitants peuvent recourir
      à un traitement de <i>reconnaissance faciale</i> en temps réel.</p></content></article></body>
  </bill>
</akomaNtoso>
"""


def depots(*signets: str) -> str:
    entries = "".join(
        f"<text><url>{{base}}/akomantoso/{s}.akn.xml</url><lastModified>Tue Dec 02 11:56:58 CET 2025</lastModified>"
        f"<lastModifiedDateTime>2025-12-02T11:56:58</lastModifiedDateTime></text>"
        for s in signets
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><texts xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{entries}</texts>'


def depots_source(
    feed_server: FeedServer, source_id: str, name: str, **extra: object
) -> dict[str, object]:
    """A ``kind: senat`` source reading the Akoma Ntoso index the test serves."""
    url = feed_server.url("/akomantoso/depots.xml")
    return {"id": source_id, "name": name, "kind": "senat", "url": url, **extra}


def test_akoma_ntoso_index_leads_to_full_texts(feed_server: FeedServer, workdir: Path) -> None:
    base = feed_server.url("")
    feed_server.serve(
        "/akomantoso/depots.xml",
        depots("ppl25-100").replace("{base}", base),
        content_type="application/xml",
    )
    write_config(workdir, [depots_source(feed_server, "senat-depots", "Sénat — textes déposés")])
    assert run("poll").out == ""  # backlog: seen, not downloaded
    assert feed_server.hits("/akomantoso/ppl25-100.akn.xml") == []

    feed_server.serve(
        "/akomantoso/depots.xml",
        depots("ppl25-100", "ppl25-170").replace("{base}", base),
        content_type="application/xml",
    )
    feed_server.serve("/akomantoso/ppl25-170.akn.xml", AKN_VSA, content_type="application/xml")
    result = run("poll")

    assert result.code == 0, result.err
    assert "Proposition de loi relative à la sécurité dans les transports" in result.out
    assert "Sénat — textes déposés · proposition de loi · 02/12/2025" in result.out
    assert "Mots-clés : reconnaissance faciale, biométrique" in result.out
    assert (
        "Calendrier : déposé au Sénat le 01/12/2025 ; inscrit à l'ordre du jour de la séance publique le 14/01/2026"
        in result.out
    )
    assert "https://www.senat.fr/leg/ppl25-170.html" in result.out  # the text's own page


def test_malformed_akoma_ntoso_text_is_kept_from_the_index(
    feed_server: FeedServer, workdir: Path
) -> None:
    base = feed_server.url("")
    feed_server.serve(
        "/akomantoso/depots.xml",
        depots("pjl25-300").replace("{base}", base),
        content_type="application/xml",
    )
    feed_server.serve(
        "/akomantoso/pjl25-300.akn.xml",
        "<akomaNtoso><bill>unclosed",
        content_type="application/xml",
    )
    write_config(workdir, [depots_source(feed_server, "s", "Sénat", backfill="true")])
    result = run("poll")
    assert result.code == 0
    assert "malformed XML" in result.err
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT key, title, kind FROM items").fetchall() == [
        ("pjl25-300", "Projet de loi pjl25-300", "projet de loi")
    ]


def test_senat_feed_items_are_keyed_by_signet(feed_server: FeedServer, workdir: Path) -> None:
    url = feed_server.serve(
        "/dosleg.xml",
        (FIXTURES / "senat_dosleg_atom03.xml").read_bytes(),
        content_type="application/xml",
    )
    write_config(workdir, [{"id": "dosleg", "name": "Dossier", "kind": "senat", "url": url}])
    assert run("poll").code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    assert sorted(db.execute("SELECT key, kind FROM items").fetchall()) == [
        ("l22-663", "Rapport"),
        ("ppl21-543", "Proposition de loi"),
    ]


@needs_real
def test_real_akoma_ntoso_text(feed_server: FeedServer, workdir: Path) -> None:
    base = feed_server.url("")
    feed_server.serve(
        "/akomantoso/depots.xml",
        depots("tas24-021").replace("{base}", base),
        content_type="application/xml",
    )
    feed_server.serve(
        "/akomantoso/tas24-021.akn.xml",
        (REAL / "senat" / "akomantoso_tas24-021.akn.xml").read_bytes(),
    )
    source = depots_source(feed_server, "s", "Sénat", backfill="true", site=base)
    write_config(workdir, [source])
    assert run("poll").code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    title, url, kind, schedule = db.execute(
        "SELECT title, url, kind, schedule FROM items"
    ).fetchone()
    assert title.startswith(
        "Proposition de loi tendant à renforcer les moyens de surveillance des individus condamnés"
    )
    # An adopted text is a "texte adopté" whatever its <bill name="ppl"> says, and its
    # link is its own page on the configured site, not a dossier named after its signet.
    assert kind == "texte adopté"
    assert url == f"{base}/leg/tas24-021.html"
    assert schedule.endswith("adopté par le Sénat le 05/11/2024")
    # Its full text is read (and dropped from the store, since it matches nothing).
    document = parse_akn(
        (REAL / "senat" / "akomantoso_tas24-021.akn.xml").read_bytes(),
        "s",
        "tas24-021",
        around=datetime(2026, 11, 30, tzinfo=PARIS),
    )
    assert len(document.body) > 20_000 and "Article 1er" in document.body
    assert document.dossier == "senat:ppl23-756"
    assert document.aliases == ("senat:tas24-021", "an:DLR5L17N50351")
    assert (document.event, document.event_at) == (
        "Adopté par le Sénat",
        datetime(2024, 11, 5, tzinfo=PARIS),
    )


# -- Assemblée nationale open data ----------------------------------------------------

REUNION = {
    "reunion": {
        "uid": "RUANR5L17S2026IDC450123",
        "timeStampDebut": "2026-01-20T09:30:00.000+01:00",
        "lieu": {"libelleLong": "Salle 6242"},
        "ODJ": {
            "resumeODJ": {
                "item": "Audition sur l'usage de la reconnaissance faciale dans les transports"
            }
        },
    }
}
DOCUMENT = {
    "document": {
        "uid": "PIONANR5L17B0999",
        "titres": {"titrePrincipal": "Proposition de loi relative au logement étudiant"},
        "denominationStructurelle": "Proposition de loi",
        "cycleDeVie": {"chrono": {"dateDepot": "2026-01-19T00:00:00.000+01:00"}},
    }
}


AN_LISTS = "/dyn/opendata/list-publication"


def publish_today(feed_server: FeedServer, documents: dict[str, tuple[bytes | str, int]]) -> str:
    """Today's AN publication list (named by Paris date) and its documents; the list's URL base."""
    today = datetime.now(PARIS).date().isoformat()
    lines = [f"2026-01-19T18:00:0{i};{feed_server.url(path)}" for i, path in enumerate(documents)]
    feed_server.serve(
        f"{AN_LISTS}/publication_{today}", "\n".join(lines), content_type="text/plain"
    )
    for path, (body, status) in documents.items():
        feed_server.serve(path, body, status=status, content_type="application/json")
    return feed_server.url(AN_LISTS)


def assemblee_source(url: str, **extra: object) -> dict[str, object]:
    return {
        "id": "an",
        "name": "Assemblée nationale",
        "kind": "assemblee",
        "url": url,
        "days": 1,
        **extra,
    }


def test_assemblee_publication_list_and_documents(feed_server: FeedServer, workdir: Path) -> None:
    url = publish_today(feed_server, {})
    write_config(workdir, [assemblee_source(url)])
    assert run("poll").code == 0  # an empty day

    publish_today(
        feed_server,
        {
            "/dyn/opendata/RUANR5L17S2026IDC450123.json": (json.dumps(REUNION), 200),
            "/dyn/opendata/PIONANR5L17B0999.json": (json.dumps(DOCUMENT), 200),
        },
    )
    today = datetime.now(PARIS).date().isoformat()
    listing = feed_server.routes[f"{AN_LISTS}/publication_{today}"]
    listing.body += b"\ngarbage line without url"

    result = run("poll")

    assert result.code == 0, result.err
    assert "Assemblée nationale · ordre du jour · 20/01/2026" in result.out
    assert (
        "Ordre du jour : Audition sur l'usage de la reconnaissance faciale dans les transports"
        in result.out
    )
    assert "Calendrier : réunion du 20/01/2026 à 09:30" in result.out
    assert "logement étudiant" not in result.out
    db = sqlite3.connect(workdir / "watcher.db")
    assert dict(db.execute("SELECT key, kind FROM items").fetchall()) == {
        "RUANR5L17S2026IDC450123": "ordre du jour",
        "PIONANR5L17B0999": "proposition de loi",
    }


def test_assemblee_429_keeps_the_rest_for_later(feed_server: FeedServer, workdir: Path) -> None:
    url = publish_today(feed_server, {"/dyn/opendata/X1.json": ("slow down", 429)})
    write_config(workdir, [assemblee_source(url, backfill="true")])
    result = run("poll")
    assert result.code == 0
    assert "rate limited" in result.err
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0  # retried at the next poll


@needs_real
def test_real_assemblee_dossier(feed_server: FeedServer, workdir: Path) -> None:
    dossier = (REAL / "assemblee" / "opendata_dossier-DLR5L15N36460.json").read_bytes()
    url = publish_today(feed_server, {"/dyn/opendata/DLR5L15N36460.json": (dossier, 200)})
    write_config(workdir, [assemblee_source(url, backfill="true")])
    assert run("poll").code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT title, kind FROM items").fetchone() == (
        "Transports : nouveau pacte ferroviaire",
        "projet de loi ordinaire",
    )


# -- full texts for feeds -----------------------------------------------------------


def test_fulltext_reads_the_page_and_records_unreadable_documents(
    feed_server: FeedServer, workdir: Path
) -> None:
    feed = (
        '<rss version="2.0"><channel><title>CNIL</title><link>https://c.example</link><description>d</description>'
        f"<item><title>Nouvelle recommandation</title><link>{feed_server.url('/page')}</link><guid>1</guid></item>"
        f"<item><title>Décision gone</title><link>{feed_server.url('/gone')}</link><guid>2</guid></item>"
        "</channel></rss>"
    )
    feed_server.serve("/feed", feed)
    feed_server.serve(
        "/page",
        "<html><nav>menu reconnaissance faciale</nav><main><p>Les caméras augmentées aux caisses "
        "automatiques…</p></main><script>var x = 'biométrique';</script></html>",
        content_type="text/html",
    )
    write_config(
        workdir,
        [
            {
                "id": "cnil",
                "name": "CNIL",
                "url": feed_server.url("/feed"),
                "fulltext": "true",
                "backfill": "true",
            }
        ],
    )

    result = run("poll")

    assert result.code == 0
    assert "Nouvelle recommandation" in result.out
    assert "Mots-clés : caméras augmentées" in result.out  # not the menu's or the script's words
    assert "full text of" in result.err and "HTTP 404" in result.err
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 2


def test_senat_links_are_shown_in_their_canonical_spelling(
    feed_server: FeedServer, workdir: Path
) -> None:
    body = (
        (FIXTURES / "senat_textes_rss2.xml")
        .read_bytes()
        .replace(b"/leg/pjl22-220.html", b"/dossierleg/pjl22-220.html")
    )
    url = feed_server.serve("/textes.rss", body)
    write_config(
        workdir, [{"id": "s", "name": "Sénat", "kind": "senat", "url": url, "backfill": "true"}]
    )
    result = run("poll")
    assert "https://www.senat.fr/dossier-legislatif/pjl22-220.html" in result.out


def test_full_texts_are_kept_for_matched_items_only(feed_server: FeedServer, workdir: Path) -> None:
    base = feed_server.url("")
    feed_server.serve(
        "/akomantoso/depots.xml", depots("ppl25-170", "ppl25-171").replace("{base}", base)
    )
    feed_server.serve("/akomantoso/ppl25-170.akn.xml", AKN_VSA)
    feed_server.serve(
        "/akomantoso/ppl25-171.akn.xml",
        AKN_VSA.replace("reconnaissance faciale", "tarification sociale")
        .replace("biométrique", "sociale")
        .replace("ppl25-170", "ppl25-171"),
    )
    write_config(workdir, [depots_source(feed_server, "s", "Sénat", backfill="true")])
    assert run("poll").code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    bodies = dict(db.execute("SELECT key, length(body) FROM items").fetchall())
    assert bodies["ppl25-170"] > 50 and bodies["ppl25-171"] == 0


# -- Assemblée: the XML documents the lists give, and lists longer than a poll ----------

SITTING_XML = """<?xml version="1.0" encoding="UTF-8"?>
<reunion xmlns="http://schemas.assemblee-nationale.fr/referentiel"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <uid>RUANR5L17S2026IDS29999</uid>
  <timeStampDebut>2026-12-15T15:00:00.000+01:00</timeStampDebut>
  <lieu><code>AN</code><libelleLong>Salle des séances</libelleLong></lieu>
  <cycleDeVie><etat>Confirmé</etat></cycleDeVie>
  <identifiants><numSeanceJO xsi:nil="true"/></identifiants>
  <ODJ>
    <resumeODJ><item>Discussion de la proposition de loi relative à la sûreté dans les transports</item></resumeODJ>
    <pointsODJ>
      <pointODJ xsi:type="podjSeanceConfPres_type">
        <objet>Discussion de la proposition de loi relative à la sûreté dans les transports</objet>
        <dossiersLegislatifsRefs><dossierRef>DLR5L17N51234</dossierRef></dossiersLegislatifsRefs>
      </pointODJ>
      <!--more-->
    </pointsODJ>
  </ODJ>
</reunion>
"""
COMPLETED_POINT = """<pointODJ xsi:type="podjSeanceConfPres_type">
        <objet>Article 3 : expérimentation de caméras augmentées et de la reconnaissance faciale</objet>
      </pointODJ>"""


def publish_xml(feed_server: FeedServer, day: str, documents: dict[str, tuple[str, str]]) -> None:
    """A publication list of ``.xml`` documents: path -> (timestamp, XML)."""
    lines = [f"{stamp};{feed_server.url(path)}" for path, (stamp, _) in documents.items()]
    feed_server.serve(f"{AN_LISTS}/publication_{day}", "\n".join(lines), content_type="text/plain")
    for path, (_, body) in documents.items():
        feed_server.serve(path, body, content_type="application/xml")


def test_assemblee_reads_the_xml_documents_the_lists_give(
    feed_server: FeedServer, workdir: Path
) -> None:
    today = datetime.now(PARIS).date().isoformat()
    publish_xml(feed_server, today, {})
    write_config(workdir, [assemblee_source(feed_server.url(AN_LISTS))])
    assert run("poll").code == 0  # an empty day: nothing of a backlog

    completed = SITTING_XML.replace("<!--more-->", COMPLETED_POINT)
    path = "/dyn/opendata/RUANR5L17S2026IDS29999.xml"
    publish_xml(feed_server, today, {path: ("2026-12-01T18:00:00.000+01:00", completed)})
    result = run("poll")

    assert result.code == 0, result.err
    assert "Assemblée nationale · ordre du jour · 15/12/2026" in result.out
    assert "Calendrier : réunion du 15/12/2026 à 15:00" in result.out
    assert "caméras augmentées" in result.out
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT key, kind, dossier, event FROM items").fetchall() == [
        ("RUANR5L17S2026IDS29999", "ordre du jour", "", "Séance publique"),
        # The point naming a dossier gives that dossier the sitting's date.
        (
            "RUANR5L17S2026IDS29999PT1:DLR5L17N51234",
            "ordre du jour",
            "an:DLR5L17N51234",
            "Examen en séance publique",
        ),
    ]
    assert run("poll").out == ""  # listed again unchanged: not read again, nothing alerted
    assert len(feed_server.hits(path)) == 1


def test_assemblee_carries_what_max_documents_left_to_the_next_poll(
    feed_server: FeedServer, workdir: Path
) -> None:
    today = datetime.now(PARIS).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    publish_xml(feed_server, today.isoformat(), {})
    documents = {
        f"/dyn/opendata/PIONANR5L17B{n}.xml": (
            f"2026-12-01T18:00:0{n}.000+01:00",
            f"<document><uid>PIONANR5L17B{n}</uid><titres><titrePrincipal>Proposition de loi "
            f"n° {n} relative à la reconnaissance faciale</titrePrincipal></titres></document>",
        )
        for n in range(5)
    }
    publish_xml(feed_server, yesterday, documents)
    config = {**assemblee_source(feed_server.url(AN_LISTS), backfill="true"), "days": 2}
    write_config(workdir, [{**config, "max_documents": 2}])

    first = run("poll")
    assert "document limit (2) reached: 3 document(s) left for the next poll" in first.err
    # Even once yesterday is out of the window of days read, its rest is read.
    write_config(workdir, [{**config, "days": 1, "max_documents": 2}])
    second = run("poll")
    assert "1 document(s) left for the next poll" in second.err
    third = run("poll")
    assert "left for the next poll" not in third.err

    alerts = first.out + second.out + third.out
    for n in range(5):
        assert alerts.count(f"/PIONANR5L17B{n}.xml\n") == 1, alerts
    assert all(len(feed_server.hits(path)) == 1 for path in documents)
    fourth = run("poll")  # nothing carried any more: yesterday's list is not read again
    assert fourth.out == ""
    assert len(feed_server.hits(f"{AN_LISTS}/publication_{yesterday}")) == 3


TEXTES_WITH_SITTING = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Sénat - derniers textes</title><link>{site}</link>
<description>Les derniers textes déposés au Sénat</description>
<item>
<title>Proposition de loi relative à la reconnaissance faciale dans les stades</title>
<pubDate>Tue,01 Dec 2026 17:05:00 GMT</pubDate>
<description>Examen en séance publique le mardi 15 décembre 2026</description>
<link>{site}/leg/ppl26-140.html</link><guid>{site}/leg/ppl26-140.html</guid>
<category>Proposition de loi</category>
</item>
<item>
<title>Rapport sur la biométrique des titres d'identité</title>
<pubDate>Tue,01 Dec 2026 17:06:00 GMT</pubDate>
<description>Rapport n° 212 fait au nom de la commission des lois (18 novembre 2026)</description>
<link>{site}/rap/l26-212/l26-212.html</link><guid>{site}/rap/l26-212/l26-212.html</guid>
</item>
</channel></rss>
"""


def test_senat_feed_item_announcing_its_sitting_says_when(
    feed_server: FeedServer, workdir: Path
) -> None:
    site = feed_server.url("")
    url = feed_server.serve("/rss/textes.rss", TEXTES_WITH_SITTING.replace("{site}", site))
    source = {"id": "s", "name": "Sénat", "kind": "senat", "url": url, "site": site}
    write_config(workdir, [{**source, "backfill": "true"}])

    result = run("poll")

    assert result.code == 0, result.err
    sitting, report = result.out.split("\n\n")[:2]
    assert "reconnaissance faciale dans les stades" in sitting
    assert "15/12/2026" in sitting
    assert "18/11/2026" not in report  # a report's own date is no sitting
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT key, schedule FROM items ORDER BY key").fetchall() == [
        ("l26-212", ""),
        ("ppl26-140", "Examen en séance publique le 15/12/2026"),
    ]


def test_assemblee_sitting_republished_with_its_agenda_completed_alerts_once(
    feed_server: FeedServer, workdir: Path
) -> None:
    today = datetime.now(PARIS).date().isoformat()
    path = "/dyn/opendata/RUANR5L17S2026IDS29999.xml"
    publish_xml(feed_server, today, {path: ("2026-12-01T18:00:00.000+01:00", SITTING_XML)})
    write_config(workdir, [assemblee_source(feed_server.url(AN_LISTS), backfill="true")])
    assert run("poll").out == ""  # the agenda does not match yet

    completed = SITTING_XML.replace("<!--more-->", COMPLETED_POINT)
    publish_xml(feed_server, today, {path: ("2026-12-03T09:12:00.000+01:00", completed)})
    result = run("poll")

    assert len(feed_server.hits(path)) == 2
    assert "caméras augmentées" in result.out and "15/12/2026" in result.out
    assert run("poll").out == ""  # unchanged since: nothing more
