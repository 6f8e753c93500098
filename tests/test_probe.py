"""``watcher probe URL``: what an address is, its first items, and an entry that validates."""

import json
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import FIXTURES, REAL, TOPIC, needs_real, run
from tests.feed_server import FeedServer, Route, Seen


def _entry(out: str) -> str:
    """The feeds.yml entry printed after its heading."""
    return out.split("feeds.yml entry (under sources:):\n", 1)[1]


def _validates(workdir: Path, entry: str) -> str:
    (workdir / "feeds.yml").write_text(TOPIC + "sources:\n" + entry, encoding="utf-8")
    result = run("validate")
    assert result.code == 0, result.err
    return result.out


def test_rss_feed(feed_server: FeedServer, workdir: Path) -> None:
    url = feed_server.serve("/rss/textes.rss", (FIXTURES / "senat_textes_rss2.xml").read_bytes())

    result = run("probe", url)

    assert result.code == 0, result.err
    assert result.out.startswith(f"{url}: an RSS/Atom feed (2 items)\n")
    assert "  22/12/2022  Projet de loi relatif aux jeux Olympiques" in result.out
    entry = _entry(result.out)
    assert "    kind: rss\n" in entry
    assert '    name: "Sénat - derniers textes"\n' in entry
    assert f'    url: "{url}"\n' in entry
    _validates(workdir, entry)


def test_scdl_csv(feed_server: FeedServer, workdir: Path) -> None:
    url = feed_server.serve(
        "/opendata/deliberations.csv",
        (FIXTURES / "probe_scdl.csv").read_bytes(),
        content_type="text/csv",
    )

    result = run("probe", url)

    assert result.code == 0, result.err
    assert result.out.startswith(f"{url}: an SCDL deliberations CSV (2 deliberations)\n")
    lines = result.out.splitlines()
    assert lines[1] == "  22/03/2026  Budget supplémentaire"  # newest first
    assert lines[2] == "  21/03/2026  Expérimentation de caméras augmentées sur la promenade"
    entry = _entry(result.out)
    assert "    kind: scdl\n" in entry and '    name: "Commune de Nice"\n' in entry
    _validates(workdir, entry)


@pytest.mark.parametrize(
    "path",
    [
        "/api/explore/v2.1/catalog/datasets/deliberations-rennes-metropole-2021-copie/records",
        "/api/explore/v2.1/catalog/datasets/deliberations-rennes-metropole-2021-copie/exports/json",
        "/explore/dataset/deliberations-rennes-metropole-2021-copie/table/",
    ],
    ids=["records-api", "exports-api", "dataset-page"],
)
def test_opendatasoft_dataset(path: str, feed_server: FeedServer, workdir: Path) -> None:
    records = "/api/explore/v2.1/catalog/datasets/deliberations-rennes-metropole-2021-copie/records"
    asked: list[dict[str, list[str]]] = []

    def answer(request: Seen) -> Route:
        asked.append(parse_qs(urlsplit(request.path).query))
        body = (FIXTURES / "probe_ods_records.json").read_bytes()
        return Route(body, content_type="application/json; charset=utf-8", etag=False)

    feed_server.handle(records, answer)

    result = run("probe", feed_server.url(path))

    assert result.code == 0, result.err
    assert result.out.startswith(
        f"{feed_server.url(records)}: an Opendatasoft dataset of SCDL deliberations (2413 records)"
    )
    assert "  20/11/2026  Sécurité Vidéoprotection : extension du centre de supervision" in (
        result.out
    )
    assert asked == [{"limit": ["5"], "order_by": ["delib_date desc"]}]
    entry = _entry(result.out)
    assert "    kind: opendatasoft\n" in entry and '    name: "RENNES METROPOLE"\n' in entry
    _validates(workdir, entry)


def test_opendatasoft_dataset_without_scdl_fields(feed_server: FeedServer, workdir: Path) -> None:
    records = "/api/explore/v2.1/catalog/datasets/actes/records"

    def answer(request: Seen) -> Route:
        if "order_by" in request.path:  # no delib_date field to sort on
            return Route(
                b'{"error_code": "ODSQLError"}', status=400, content_type="application/json"
            )
        return Route((FIXTURES / "probe_ods_other.json").read_bytes(), etag=False)

    feed_server.handle(records, answer)

    result = run("probe", feed_server.url(records))

    assert result.code == 1
    assert result.err == (
        f"watcher: {feed_server.url(records)}: an Opendatasoft dataset without SCDL fields "
        "(found: date_seance, numero, titre): map them with `fields: {title: ..., id: ..., "
        "date: ...}`\n"
    )


def test_arcgis_layer(feed_server: FeedServer, workdir: Path) -> None:
    layer = "/arcgis/rest/services/deliberations_2021_2028/FeatureServer/0"
    asked: list[dict[str, list[str]]] = []

    def answer(request: Seen) -> Route:
        asked.append(parse_qs(urlsplit(request.path).query))
        body = (FIXTURES / "arcgis_query_page.json").read_bytes()
        return Route(body, content_type="text/plain; charset=utf-8", etag=False)

    feed_server.handle(f"{layer}/query", answer)

    result = run("probe", feed_server.url(layer))

    assert result.code == 0, result.err
    assert result.out.startswith(
        f"{feed_server.url(layer)}: an ArcGIS feature layer of SCDL deliberations"
    )
    assert "  25/03/2024  Aide aux lycées pour la rénovation énergétique" in result.out
    assert asked[0]["resultRecordCount"] == ["5"] and asked[0]["outFields"] == ["*"]
    entry = _entry(result.out)
    assert "    kind: arcgis\n" in entry and '    name: "Région Normandie"\n' in entry
    _validates(workdir, entry)


def test_webdelib_portal(feed_server: FeedServer, workdir: Path) -> None:
    days = {"future": "12/12/2099", "recent": "20/11/2026", "old": "02/09/2026"}
    values = {f"{k}_slash": v for k, v in days.items()}
    values |= {f"{k}_dash": v.replace("/", "-") for k, v in days.items()}
    page = Template((FIXTURES / "webdelib_portal.html").read_bytes().decode("latin-1"))
    url = feed_server.serve(
        "/webdelibplus/jsp/seances.jsp",
        page.substitute(values).encode("latin-1"),
        content_type="text/html",
    )

    result = run("probe", url + "?role=usager")

    assert result.code == 0, result.err
    assert "a WebDélib+ portal (3 sittings; each sitting's documents are read from its page)" in (
        result.out
    )
    lines = result.out.splitlines()
    assert (
        lines[1]
        == "  12/12/2099  séance plénière (coming): seance_agenda.jsp?date=12-12-2099&role=usager"
    )
    assert lines[3].startswith("  02/09/2026  commission permanente: ")
    entry = _entry(result.out)
    assert "    kind: webdelib\n" in entry
    assert '    name: "WEBDELIB+ - Séances publiques"\n' in entry
    assert "    # recheck_days: 30" in entry
    _validates(workdir, entry)


def test_html_page_with_document_links(feed_server: FeedServer, workdir: Path) -> None:
    url = feed_server.serve(
        "/la-region/les-actes-administratifs",
        (FIXTURES / "probe_documents.html").read_bytes(),
        content_type="text/html; charset=utf-8",
    )

    result = run("probe", url)

    assert result.code == 0, result.err
    assert result.out.startswith(f"{url}: an HTML page with 3 document links (*.pdf)\n")
    assert "  14/11/2026  Commission permanente du 14 novembre 2026 - délibérations" in result.out
    assert "  12/12/2026  Ordre du jour de l'assemblée plénière du 12/12/2026" in result.out
    entry = _entry(result.out)
    assert '    link_pattern: "*.pdf"\n    follow: true\n' in entry
    out = _validates(workdir, entry)
    assert "1 source(s): 127-0-0" in out


def test_html_page_without_document_links(feed_server: FeedServer) -> None:
    url = feed_server.serve(
        "/deliberations",
        (FIXTURES / "probe_no_documents.html").read_bytes(),
        content_type="text/html",
    )

    result = run("probe", url)

    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        f"watcher: {url}: an HTML page with no document links: give a `link_selector` "
        "(kind: html) that picks the links to watch\n"
    )


def test_http_error(feed_server: FeedServer) -> None:
    url = feed_server.url("/missing.rss")
    result = run("probe", url)
    assert (result.code, result.err) == (1, f"watcher: {url}: HTTP 404 Not Found\n")


def test_arcgis_error_in_a_200(feed_server: FeedServer) -> None:
    layer = "/arcgis/rest/services/x/FeatureServer/3"
    feed_server.serve(f"{layer}/query", (FIXTURES / "arcgis_error.json").read_bytes())
    result = run("probe", feed_server.url(layer))
    assert result.code == 1
    assert result.err == (
        f"watcher: {feed_server.url(layer)}: ArcGIS error 400: Cannot perform query. Invalid "
        "query parameters. (Unable to perform query. Please check your parameters.)\n"
    )


def test_unknown_json(feed_server: FeedServer) -> None:
    url = feed_server.serve("/api/thing", json.dumps({"hello": "world"}))
    result = run("probe", url)
    assert result.err == (
        f"watcher: {url}: a JSON document that is not a known dataset or layer API\n"
    )


@needs_real
def test_an_opendatasoft_export_that_answers_is_watched_as_an_export(
    feed_server: FeedServer, workdir: Path
) -> None:
    # The portal serves the export but its records API answers 404 (nothing served
    # there): the export itself is probed. Body: the real Rennes Métropole export.
    export = "/api/explore/v2.1/catalog/datasets/deliberations-rennes/exports/json"
    body = (
        REAL / "regions" / "ods_export_json_scdl_deliberations_rennes-metropole_extract.json"
    ).read_bytes()
    url = feed_server.serve(export, body, content_type="application/json; charset=utf-8")

    result = run("probe", url)

    assert result.code == 0, result.err
    assert result.out.startswith(f"{url}: an Opendatasoft export of SCDL deliberations (")
    assert "404" not in result.out + result.err
    entry = _entry(result.out)
    assert "    kind: opendatasoft\n" in entry and "    mode: export\n" in entry
    assert '    name: "RENNES METROPOLE"\n' in entry
    _validates(workdir, entry)


# Built for this test, no recorded page: a council's page whose header and footer link
# to the site's own PDFs (a guide, legal notices), as many CMS themes do.
MENUS_PAGE = b"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Deliberations - Ville Exemple</title></head><body>
<header><nav><a href="/guide-du-site.pdf">Guide du site</a></nav></header>
<main><ul>
<li><a href="/actes/conseil-du-3-mars-2026.pdf">Conseil municipal du 3 mars 2026</a></li>
<li><a href="/actes/conseil-du-2-fevrier-2026.pdf">Conseil municipal du 2 fevrier 2026</a></li>
</ul></main>
<footer><a href="/mentions-legales.pdf">Mentions legales</a></footer></body></html>"""


def test_an_html_page_does_not_propose_its_menus_documents(
    feed_server: FeedServer, workdir: Path
) -> None:
    url = feed_server.serve("/deliberations", MENUS_PAGE, content_type="text/html")

    result = run("probe", url)

    assert result.code == 0, result.err
    assert result.out.startswith(f"{url}: an HTML page with 2 document links (*.pdf)\n")
    assert "Guide du site" not in result.out and "Mentions" not in result.out
    entry = _entry(result.out)
    assert '    link_selector: "a:not(nav a, header a, footer a, aside a)"\n' in entry
    _validates(workdir, entry)
