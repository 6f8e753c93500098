"""Regional open data as the services answer: Île-de-France's non-SCDL acts, Normandie's
accented ArcGIS service, and full texts behind the records' document links."""

import json
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.conftest import FIXTURES, run, write_config
from tests.feed_server import FeedServer, Route, Seen
from tests.pdfs import text_pdf
from watcher.sources.xmlutil import PARIS

SHIPPED = Path(__file__).resolve().parents[1] / "feeds.yml"
DATASET = "/api/explore/v2.1/catalog/datasets/actes-administratifs-de-la-region-ile-de-france"

# The dataset's description, in the shape of the Explore v2.1 ``dataset-v2.1`` schema
# (../shared/fixtures/real/opendatasoft/ods_explore_v2.1_openapi.json). Its fields are
# those ../shared/SOURCES.md gives the Île-de-France acts dataset ("date_decision,
# date_controle, date_affichage, a title, a type, HTML text and a PDF URL"); the names of
# the title, type, text and PDF fields were not seen and are written here as a guess.
IDF_FIELDS = [
    {"name": "numero", "label": "Numéro", "type": "text"},
    {"name": "titre", "label": "Titre", "type": "text"},
    {"name": "type_acte", "label": "Type", "type": "text"},
    {"name": "date_decision", "label": "Date de décision", "type": "date"},
    {"name": "date_controle", "label": "Date de contrôle", "type": "date"},
    {"name": "date_affichage", "label": "Date d'affichage", "type": "date"},
    {"name": "texte", "label": "Texte", "type": "text"},
    {"name": "url_pdf", "label": "Document", "type": "text"},
]


def shipped(source_id: str) -> dict[str, object]:
    sources = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["sources"]
    return dict(next(s for s in sources if s["id"] == source_id))


def idf_portal(server: FeedServer, records: list[dict[str, object]]) -> str:
    names = {f["name"] for f in IDF_FIELDS}

    def answer(request: Seen) -> Route:
        query = parse_qs(urlsplit(request.path).query)
        ordered = query["order_by"][0].split()[0]
        if ordered not in names:  # what the real portal did with delib_date
            error = {"error_code": "ODSQLError", "message": f"Unknown field: {ordered}"}
            return Route(json.dumps(error).encode(), status=400, content_type="application/json")
        body = {"total_count": len(records), "results": records}
        return Route(json.dumps(body).encode(), content_type="application/json", etag=False)

    server.serve(
        DATASET,
        json.dumps({"dataset_id": DATASET.rsplit("/", 1)[1], "fields": IDF_FIELDS}),
        content_type="application/json",
    )
    server.handle(f"{DATASET}/records", answer)
    server.serve("/actes/CP2026-412.pdf", text_pdf("Article 1 : reconnaissance faciale"))
    return server.url(f"{DATASET}/records")


RECORD = {
    "numero": "CP 2026-412",
    "titre": "Convention relative à la sécurisation des lycées",
    "type_acte": "Délibération",
    "date_decision": "2026-11-20",
    "date_controle": "2026-11-25",
    "date_affichage": "2026-11-26",
    "texte": "<p>La commission permanente…</p>",
}


def test_the_shipped_ile_de_france_entry_reads_its_non_scdl_dataset(
    feed_server: FeedServer, workdir: Path
) -> None:
    url = idf_portal(feed_server, [{**RECORD, "url_pdf": feed_server.url("/actes/CP2026-412.pdf")}])
    entry = shipped("region-idf")
    write_config(
        workdir, [{**entry, "url": url, "fields": "{date: date_decision}", "backfill": "true"}]
    )

    result = run("poll")

    assert result.code == 0, result.err
    assert "Convention relative à la sécurisation des lycées" in result.out
    assert "«reconnaissance faciale»" in result.out  # read in the PDF the record links
    db = sqlite3.connect(workdir / "watcher.db")
    [(key, published)] = db.execute("SELECT key, published FROM items").fetchall()
    assert key == "CP 2026-412"
    # Dated by its decision (date_decision), in Paris.
    assert datetime.fromisoformat(published).astimezone(PARIS).date().isoformat() == "2026-11-20"


def test_a_mapping_to_a_field_the_dataset_lacks_stops_the_source_with_its_fields(
    feed_server: FeedServer, workdir: Path
) -> None:
    url = idf_portal(feed_server, [RECORD])
    write_config(
        workdir,
        [
            {
                "id": "idf",
                "name": "IDF",
                "kind": "opendatasoft",
                "url": url,
                "fields": "{date: delib_date}",
            }
        ],
    )

    result = run("poll")

    assert (
        "fields.date: 'delib_date' is not a field of this dataset; its fields: numero, titre"
        in result.err
    )
    assert feed_server.hits(f"{DATASET}/records") == []  # checked before the first query


def test_the_shipped_normandie_layer_is_the_accented_service(
    feed_server: FeedServer, workdir: Path
) -> None:
    entry = shipped("region-normandie")
    path = urlsplit(str(entry["url"])).path
    assert "/d%C3%A9lib%C3%A9rations_2021_2028/FeatureServer/0" in path
    feed_server.serve(
        "/pdf/CP-2026-7.pdf", text_pdf("expérimentation de la reconnaissance faciale")
    )
    answer = {
        "objectIdFieldName": "OBJECTID",
        "features": [
            {
                "attributes": {
                    "OBJECTID": 7,
                    "COLL_NOM": "Région Normandie",
                    "COLL_SIRET": "20005376700014",
                    "DELIB_ID": "CP-2026-7",
                    "DELIB_DATE": 1795129200000,
                    "DELIB_OBJET": "Sécurité des gares régionales",
                    "DELIB_URL": feed_server.url("/pdf/CP-2026-7.pdf"),
                }
            }
        ],
        "exceededTransferLimit": False,
    }
    feed_server.serve(f"{path}/query", json.dumps(answer), content_type="application/json")
    url = feed_server.url(path)
    write_config(workdir, [{**entry, "url": url, "backfill": "true"}])

    result = run("poll")

    assert result.code == 0, result.err
    assert "Sécurité des gares régionales" in result.out
    assert "«reconnaissance faciale»" in result.out  # fulltext: true reads DELIB_URL
    [hit] = feed_server.hits(f"{path}/query")
    assert re.search(r"/d%C3%A9lib%C3%A9rations_2021_2028/", hit.path)


def test_validate_refuses_fulltext_where_it_cannot_work(workdir: Path) -> None:
    write_config(
        workdir,
        [
            {
                "id": "an",
                "name": "AN",
                "kind": "assemblee",
                "url": "https://x.example/l",
                "fulltext": "true",
            }
        ],
    )

    result = run("validate")

    assert result.code == 1
    assert result.err.strip() == (
        "watcher: feeds.yml: sources[0].fulltext: "
        "kind assemblee reads each document whole already; remove fulltext"
    )


def test_an_arcgis_mapping_is_checked_against_the_layers_fields(
    feed_server: FeedServer, workdir: Path
) -> None:
    # The layer's description lists its fields, as the query answer does
    # (tests/fixtures/arcgis_query_page.json, shaped like a hosted layer's answer).
    layer = "/arcgis/rest/services/d%C3%A9lib%C3%A9rations_2021_2028/FeatureServer/0"
    described = json.loads((FIXTURES / "arcgis_query_page.json").read_text(encoding="utf-8"))
    feed_server.serve(layer, json.dumps({"fields": described["fields"]}))
    feed_server.serve(f"{layer}/query", json.dumps(described), content_type="application/json")
    source = {
        "id": "normandie",
        "name": "Normandie",
        "kind": "arcgis",
        "url": feed_server.url(layer),
    }
    write_config(workdir, [{**source, "fields": "{title: OBJET}"}])

    result = run("poll")

    assert (
        "fields.title: 'OBJET' is not a field of this dataset; its fields: OBJECTID" in result.err
    )
    assert feed_server.hits(f"{layer}/query") == []

    # With the standard names, the layer is read (a new source: the failed one backs off).
    write_config(workdir, [{**source, "id": "normandie-2", "backfill": "true"}])
    assert run("poll").code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT title FROM items").fetchall() == [
        ("Aide aux lycées pour la rénovation énergétique",)
    ]
