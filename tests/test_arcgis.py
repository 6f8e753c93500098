"""ArcGIS feature layers holding SCDL deliberations (Normandie)."""

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import FIXTURES, run, write_config
from tests.feed_server import FeedServer, Route, Seen
from watcher.sources.arcgis import first_records
from watcher.sources.scdl import DEFAULT_FIELDS

LAYER = "/arcgis/rest/services/deliberations_2021_2028/FeatureServer/0"
PAGE = json.loads((FIXTURES / "arcgis_query_page.json").read_text(encoding="utf-8"))
MAX_RECORDS = 1000  # a hosted layer's maxRecordCount


def _record(number: int, subject: str, millis: int = 1711321200000) -> dict[str, Any]:
    record = copy.deepcopy(PAGE["features"][0])
    record["attributes"].update(
        OBJECTID=number,
        DELIB_ID=f"CP-2024-{number:04d}",
        DELIB_OBJET=subject,
        DELIB_DATE=millis,
        DELIB_URL=f"https://www.normandie.fr/sites/default/files/deliberations/CP-2024-{number:04d}.pdf",
    )
    return dict(record)


class Layer:
    """A FeatureServer layer answering /query like ArcGIS Online: at most 1,000 per answer."""

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records
        self.queries: list[dict[str, str]] = []

    def __call__(self, request: Seen) -> Route:
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        self.queries.append(query)
        offset = int(query.get("resultOffset", 0))
        count = min(int(query.get("resultRecordCount", MAX_RECORDS)), MAX_RECORDS)
        chosen = self.records[offset : offset + count]
        answer = {k: v for k, v in PAGE.items() if k != "features"}
        answer["features"] = chosen
        answer["exceededTransferLimit"] = offset + len(chosen) < len(self.records)
        return Route(json.dumps(answer).encode(), content_type="application/json", etag=False)


def _config(workdir: Path, url: str, **extra: str) -> None:
    write_config(
        workdir,
        [
            {
                "id": "normandie",
                "name": "Région Normandie",
                "kind": "arcgis",
                "url": url,
                "territory": "Normandie",
                **extra,
            }
        ],
    )


def test_a_layer_of_1500_records_is_read_in_pages(feed_server: FeedServer, workdir: Path) -> None:
    records = [_record(n, f"Subvention n° {n} à une association") for n in range(1, 1501)]
    layer = Layer(records)
    url = feed_server.handle(f"{LAYER}/query", layer)
    _config(workdir, feed_server.url(LAYER))

    assert run("poll").code == 0  # first poll: every record noted
    layer.records.append(
        _record(1501, "Expérimentation de caméras augmentées dans les gares", 1719612000000)
    )
    result = run("poll")

    assert result.code == 0, result.err
    assert "Région Normandie · Normandie · délibération · 29/06/2024" in result.out
    assert "Expérimentation de caméras augmentées dans les gares" in result.out
    assert result.out.count("Mots-clés") == 1
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 1501
    keys = {k for (k,) in db.execute("SELECT key FROM items")}
    assert "20005376700014:CP-2024-1501" in keys
    # Each poll: pages from 0 by what each answer held, as ArcGIS clients page.
    assert [q["resultOffset"] for q in layer.queries] == ["0", "1000", "0", "1000"]
    assert {q["where"] for q in layer.queries} == {"1=1"}
    assert all(
        q["outFields"] == "*" and q["f"] == "json" and q["returnGeometry"] == "false"
        for q in layer.queries
    )
    assert {q["orderByFields"] for q in layer.queries} == {"OBJECTID ASC"}
    assert url.endswith("/FeatureServer/0/query")


def test_dates_are_paris_days_and_field_names_any_case(
    feed_server: FeedServer, workdir: Path
) -> None:
    record = _record(1, "Vidéoprotection intelligente dans les lycées")
    record["attributes"] = {k.lower(): v for k, v in record["attributes"].items()}
    feed_server.handle(f"{LAYER}/query", Layer([record]))
    _config(
        workdir,
        feed_server.url(LAYER),
        backfill="true",
        where="\"delib_date >= DATE '2024-01-01'\"",
    )

    result = run("poll")

    assert result.code == 0, result.err
    # 1711321200000 is 2024-03-24T23:00Z: midnight of 25 March in Paris.
    assert "Région Normandie · Normandie · délibération · 25/03/2024" in result.out
    assert "Vidéoprotection intelligente dans les lycées" in result.out
    assert "https://www.normandie.fr/sites/default/files/deliberations/CP-2024-0001.pdf" in (
        result.out
    )


def test_where_option_is_sent(feed_server: FeedServer, workdir: Path) -> None:
    layer = Layer([_record(1, "Budget")])
    feed_server.handle(f"{LAYER}/query", layer)
    _config(workdir, feed_server.url(LAYER), where="\"COLL_SIRET = '20005376700014'\"")
    assert run("poll").code == 0
    assert layer.queries[0]["where"] == "COLL_SIRET = '20005376700014'"


def test_an_arcgis_error_is_reported_with_its_message(
    feed_server: FeedServer, workdir: Path
) -> None:
    # ArcGIS answers errors with HTTP 200 and an "error" object.
    feed_server.serve(
        f"{LAYER}/query", (FIXTURES / "arcgis_error.json").read_bytes(), content_type="text/plain"
    )
    _config(workdir, feed_server.url(LAYER))

    result = run("poll")

    assert "ArcGIS error 400: Cannot perform query. Invalid query parameters." in result.err
    assert run("status").out.count("ArcGIS error 400") == 1


def test_a_layer_page_that_is_not_json(feed_server: FeedServer, workdir: Path) -> None:
    feed_server.serve(f"{LAYER}/query", "<html>ArcGIS REST Services Directory</html>")
    _config(workdir, feed_server.url(LAYER))
    assert "the answer is not JSON (is it a FeatureServer layer?)" in run("poll").err


def test_records_with_impossible_dates_or_half_an_emoji_are_read_as_items() -> None:
    page = {
        "features": [
            _record(1, "Fin de validité inconnue", 253402297200000),  # 9999-12-31 23:00 UTC
            _record(2, "Au-delà de tout", 10**20),
            _record(3, "Avant tout", -(10**20)),
            _record(4, "Caméras augmentées \ud83d"),  # json.loads keeps "\ud83d" as it is
            _record(5, "Caméras \ud83d\udcf9 en paire"),
        ]
    }
    body = json.dumps(page).encode()  # ensure_ascii: "\ud83d" written as an escape

    items = first_records(body, "https://layer", "normandie", DEFAULT_FIELDS)

    days = [item.published.date().isoformat() if item.published else "" for item in items]
    assert days == ["2200-01-01", "2200-01-01", "1900-01-01", "2024-03-25", "2024-03-25"]
    assert [item.title for item in items][3:] == [
        "Caméras augmentées \ufffd",
        "Caméras 📹 en paire",
    ]
    for item in items:  # what SQLite is given
        for value in (item.key, item.title, item.summary, item.revision, item.url or ""):
            value.encode()
