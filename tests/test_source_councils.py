"""Council sources: HTML listings (WebDélib+), SCDL CSV, Opendatasoft datasets."""

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import FIXTURES, REAL, needs_real, run, write_config
from tests.feed_server import FeedServer, Route, Seen
from tests.pdfs import scanned_pdf, text_pdf

# -- html: a listing page with no feed -------------------------------------------------


@pytest.fixture
def portal(feed_server: FeedServer) -> FeedServer:
    feed_server.serve(
        "/webdelibplus/jsp/seances.jsp",
        fixture := (FIXTURES / "webdelib_seances.html").read_bytes(),
        content_type="text/html",
    )
    del fixture
    feed_server.serve(
        "/webdelibplus/jsp/seance_agenda.jsp",
        "<html><body><main><h1>Ordre du jour</h1><p>Point 12 : expérimentation de la vidéoprotection "
        "intelligente dans les gares et les lycées.</p></main></body></html>",
        content_type="text/html",
    )
    feed_server.serve(
        "/webdelibplus/files/actes/CP-2024-02-1203.pdf",
        text_pdf("La Région déploie des caméras augmentées", "dans les gares régionales."),
        content_type="application/pdf",
    )
    feed_server.serve(
        "/webdelibplus/files/actes/CP-2024-02-1204.pdf",
        text_pdf("Aide aux clubs sportifs."),
        content_type="application/pdf",
    )
    feed_server.serve(
        "/webdelibplus/files/actes/CP-2024-02-1205.pdf",
        scanned_pdf(),
        content_type="application/pdf",
    )
    return feed_server


def test_listing_links_are_items_and_agendas_warn_before_the_vote(
    portal: FeedServer, workdir: Path
) -> None:
    write_config(
        workdir,
        [
            {
                "id": "aura",
                "name": "Région Auvergne-Rhône-Alpes",
                "kind": "html",
                "url": portal.url("/webdelibplus/jsp/seances.jsp"),
                "link_selector": "'table.seances a'",
                "follow": "true",
                "backfill": "true",
            }
        ],
    )

    result = run("poll")

    assert result.code == 0, result.err
    # The agenda, published before the sitting, alerts with its date.
    assert "Ordre du jour du 21/03/2024" in result.out
    assert "Région Auvergne-Rhône-Alpes · ordre du jour · 21/03/2024" in result.out
    assert "Calendrier : séance du 21/03/2024" in result.out
    # The deliberation's PDF says what its title does not.
    assert "Délibération CP-2024-02-1203 : sécurisation des gares régionales" in result.out
    assert "«caméras augmentées»" in result.out
    assert "clubs sportifs" not in result.out
    # A scanned PDF is recorded, and the item is still kept and matched on its title.
    assert "no text in" in result.err and "CP-2024-02-1205.pdf" in result.err
    db = sqlite3.connect(workdir / "watcher.db")
    assert (
        db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 4
    )  # menu and footer links left out
    assert "Accueil" not in {t for (t,) in db.execute("SELECT title FROM items")}


def test_listing_links_by_url_pattern(portal: FeedServer, workdir: Path) -> None:
    write_config(
        workdir,
        [
            {
                "id": "aura",
                "name": "AURA",
                "kind": "html",
                "url": portal.url("/webdelibplus/jsp/seances.jsp"),
                "link_pattern": "'*/files/actes/*.pdf'",
            }
        ],
    )
    assert run("poll").code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    assert sorted(k for (k,) in db.execute("SELECT kind FROM items")) == ["délibération"] * 3


def test_html_source_needs_a_selector_or_a_pattern(workdir: Path) -> None:
    write_config(
        workdir, [{"id": "aura", "name": "AURA", "kind": "html", "url": "https://x.example/"}]
    )
    result = run("validate")
    assert (
        result.err.strip()
        == "watcher: feeds.yml: sources[aura]: kind html needs link_selector or link_pattern to choose its links"
    )


def test_bad_css_selector_is_a_config_error(workdir: Path) -> None:
    write_config(
        workdir,
        [
            {
                "id": "aura",
                "name": "AURA",
                "kind": "html",
                "url": "https://x.example/",
                "link_selector": "'a[href'",
            }
        ],
    )
    result = run("validate")
    assert result.code == 1
    assert result.err.startswith(
        "watcher: feeds.yml: sources[aura].link_selector: 'a[href' is not a CSS selector"
    )


# -- scdl: deliberation CSVs, as they really are -------------------------------------

STANDARD = (
    "COLL_NOM;COLL_SIRET;DELIB_ID;DELIB_DATE;DELIB_MATIERE_CODE;DELIB_MATIERE_NOM;DELIB_OBJET;DELIB_URL\r\n"
    "Commune de Nice;21060088900016;2024-031;2024-03-21;6.1;Police municipale;"
    "Expérimentation de caméras augmentées sur la promenade;https://nice.example/d/2024-031.pdf\r\n"
    "Commune de Nice;21060088900016;2024-032;2024-03-21;7.1;Finances;Budget supplémentaire;\r\n"
)

CSV_LAYOUTS = [
    pytest.param(STANDARD.encode("cp1252"), id="upper-semicolon-cp1252"),
    pytest.param(
        b"\xef\xbb\xbf"
        + STANDARD.lower()
        .replace(";", ",")
        .replace(
            "expérimentation de caméras augmentées sur la promenade",
            '"expérimentation de caméras augmentées, promenade"',
        )
        .encode(),
        id="lower-comma-utf8-bom",
    ),
    pytest.param(
        ("sep=\t\r\n" + STANDARD.replace(";", "\t")).encode("utf-8"), id="excel-sep-line-tabs"
    ),
    pytest.param(
        STANDARD.replace("DELIB_URL", "DELIB_URL;EXTRA_COLUMN")
        .replace(".pdf\r\n", ".pdf;x\r\n")
        .encode("cp1252"),
        id="extra-column",
    ),
]


@pytest.mark.parametrize("body", CSV_LAYOUTS)
def test_scdl_csv_layouts(body: bytes, feed_server: FeedServer, workdir: Path) -> None:
    url = feed_server.serve("/delibs.csv", body, content_type="text/csv")
    write_config(
        workdir,
        [{"id": "nice", "name": "Ville de Nice", "kind": "scdl", "url": url, "backfill": "true"}],
    )

    result = run("poll")

    assert result.code == 0, result.err
    assert "Ville de Nice · délibération · 21/03/2024" in result.out
    assert "caméras augmentées" in result.out.lower()
    assert "Budget" not in result.out
    db = sqlite3.connect(workdir / "watcher.db")
    keys = sorted(k for (k,) in db.execute("SELECT key FROM items"))
    assert keys == ["21060088900016:2024-031", "21060088900016:2024-032"]


def test_scdl_foreign_layout_says_how_to_map_it(feed_server: FeedServer, workdir: Path) -> None:
    url = feed_server.serve(
        "/delibs.csv",
        "numero;date;intitule\n12;2024-03-21;Caméras augmentées\n",
        content_type="text/csv",
    )
    write_config(workdir, [{"id": "nice", "name": "Nice", "kind": "scdl", "url": url}])
    result = run("poll")
    assert (
        "the CSV has no DELIB_OBJET column (found: DATE, INTITULE, NUMERO); map yours with fields:"
        in result.err
    )

    write_config(
        workdir,
        [
            {
                "id": "nice",
                "name": "Nice",
                "kind": "scdl",
                "url": url,
                "backfill": "true",
                "fields": "{title: intitule, id: numero, date: date}",
            }
        ],
    )
    sqlite3.connect(workdir / "watcher.db").execute("DELETE FROM sources").connection.commit()
    result = run("poll")
    assert "Caméras augmentées" in result.out


# -- opendatasoft: Explore v2.1 records and exports -----------------------------------

RECORDS = [
    {
        "coll_nom": "REGION ILE-DE-FRANCE",
        "coll_siret": "23750007900312",
        "delib_id": "CP2024-101",
        "delib_date": "2024-03-20",
        "delib_objet": "Vidéoprotection intelligente dans les lycées : convention d'expérimentation",
        "delib_url": None,
    },
    {
        "coll_nom": "REGION ILE-DE-FRANCE",
        "coll_siret": "23750007900312",
        "delib_id": "CP2024-100",
        "delib_date": "2024-03-19",
        "delib_objet": "Aide à la rénovation énergétique",
        "delib_url": None,
    },
]


def records_api(served: list[dict[str, object]]) -> Callable[[Seen], Route]:
    """The Explore v2.1 ``records`` endpoint over ``served``: its order, paging and date filter."""

    def records(request: Seen) -> Route:
        query = parse_qs(urlsplit(request.path).query)
        assert query["order_by"] == ["delib_date desc"]
        assert int(query["offset"][0]) + int(query["limit"][0]) <= 10_000
        rows = sorted(served, key=lambda r: str(r["delib_date"]), reverse=True)
        if "where" in query:
            cursor = re.fullmatch(r"delib_date >= date'(.+)'", query["where"][0])
            assert cursor is not None
            since = cursor.group(1)
            rows = [r for r in rows if str(r["delib_date"]) >= since]
        start, limit = int(query["offset"][0]), int(query["limit"][0])
        return Route(
            json.dumps({"total_count": len(rows), "results": rows[start : start + limit]}).encode(),
            content_type="application/json",
            etag=False,
        )

    return records


def test_opendatasoft_records_incremental(feed_server: FeedServer, workdir: Path) -> None:
    served: list[dict[str, object]] = [RECORDS[1]]
    url = feed_server.handle(
        "/api/explore/v2.1/catalog/datasets/delibs/records", records_api(served)
    )
    write_config(
        workdir, [{"id": "idf", "name": "Île-de-France", "kind": "opendatasoft", "url": url}]
    )
    assert run("poll").out == ""  # first poll: seen
    served.append(RECORDS[0])

    result = run("poll")

    assert result.code == 0, result.err
    assert "Vidéoprotection intelligente dans les lycées" in result.out
    assert "Île-de-France · délibération · 20/03/2024" in result.out
    assert run("poll").out == ""  # read again within the margin, alerted once


def test_opendatasoft_deliberation_published_a_week_after_its_vote_is_caught(
    feed_server: FeedServer, workdir: Path
) -> None:
    served: list[dict[str, object]] = [RECORDS[1]]
    url = feed_server.handle(
        "/api/explore/v2.1/catalog/datasets/delibs/records", records_api(served)
    )
    write_config(
        workdir, [{"id": "idf", "name": "Île-de-France", "kind": "opendatasoft", "url": url}]
    )
    assert run("poll").out == ""  # the newest vote seen is of 19/03/2024
    # Voted on 12/03, transmitted to the prefecture and published a week later.
    late = {**RECORDS[0], "delib_id": "CP2024-090", "delib_date": "2024-03-12"}
    late["pref_date"] = "2024-03-20 00:00:00"
    served.append(late)

    result = run("poll")

    assert result.code == 0, result.err
    assert "Vidéoprotection intelligente dans les lycées" in result.out
    assert "Île-de-France · délibération · 12/03/2024" in result.out


def test_opendatasoft_error_answer(feed_server: FeedServer, workdir: Path) -> None:
    url = feed_server.serve(
        "/records",
        json.dumps({"error_code": "ODSQLError", "message": "Unknown field: delib_date"}),
        status=400,
    )
    write_config(workdir, [{"id": "idf", "name": "IDF", "kind": "opendatasoft", "url": url}])
    assert "HTTP 400" in run("poll").err


@needs_real
def test_real_rennes_export(feed_server: FeedServer, workdir: Path) -> None:
    body = (
        REAL / "regions" / "ods_export_json_scdl_deliberations_rennes-metropole_extract.json"
    ).read_bytes()
    url = feed_server.serve("/exports/json", body, content_type="application/json")
    write_config(
        workdir,
        [
            {
                "id": "rennes",
                "name": "Rennes Métropole",
                "kind": "opendatasoft",
                "url": url,
                "mode": "export",
            }
        ],
    )
    assert run("poll").code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    rows = dict(db.execute("SELECT key, title FROM items").fetchall())
    assert len(rows) == 8
    # The export glues the number to the subject; watcher takes it off.
    assert rows["24350013900189:C23_205"].startswith("Action foncière  Rennes".replace("  ", " "))


def test_first_poll_does_not_download_the_backlogs_documents(
    portal: FeedServer, workdir: Path
) -> None:
    write_config(
        workdir,
        [
            {
                "id": "aura",
                "name": "AURA",
                "kind": "html",
                "url": portal.url("/webdelibplus/jsp/seances.jsp"),
                "link_selector": "'table.seances a'",
                "follow": "true",
            }
        ],
    )
    assert run("poll").out == ""
    assert not any(r.path.endswith(".pdf") for r in portal.requests)
