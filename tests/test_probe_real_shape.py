"""``watcher probe`` on the Sénat's Akoma Ntoso index and sittings page, and on a
non-SCDL Opendatasoft dataset."""

import json
from pathlib import Path

from tests.conftest import REAL, TOPIC, needs_real, run
from tests.feed_server import FeedServer, Route, Seen
from tests.test_regions_real_shape import DATASET, IDF_FIELDS, RECORD


def _entry(out: str) -> str:
    return out.split("feeds.yml entry (under sources:):\n", 1)[1]


def _validates(workdir: Path, entry: str) -> None:
    (workdir / "feeds.yml").write_text(TOPIC + "sources:\n" + entry, encoding="utf-8")
    result = run("validate")
    assert result.code == 0, result.err


# depots.xml as ../shared/SOURCES.md quotes it (an excerpt in a public design document;
# no real copy is recorded): <texts><text><url>…akn.xml</url><lastModified>…
# <lastModifiedDateTime>… (naive Paris time).
DEPOTS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<texts xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<text><url>https://www.senat.fr/akomantoso/ppl25-170.akn.xml</url>"
    "<lastModified>Tue Dec 02 11:56:58 CET 2025</lastModified>"
    "<lastModifiedDateTime>2025-12-02T11:56:58</lastModifiedDateTime></text>"
    "<text><url>https://www.senat.fr/akomantoso/pjl25-171.akn.xml</url>"
    "<lastModified>Wed Dec 03 09:10:00 CET 2025</lastModified>"
    "<lastModifiedDateTime>2025-12-03T09:10:00</lastModifiedDateTime></text>"
    "</texts>"
)


def test_probe_knows_the_senats_akoma_ntoso_index(feed_server: FeedServer, workdir: Path) -> None:
    url = feed_server.serve("/akomantoso/depots.xml", DEPOTS, content_type="text/xml")

    result = run("probe", url)

    assert result.code == 0, result.err
    assert result.out.startswith(f"{url}: the Sénat's Akoma Ntoso index (2 texts;")
    lines = result.out.splitlines()
    assert lines[1] == "  03/12/2025  Projet de loi pjl25-171"  # newest first
    assert lines[2] == "  02/12/2025  Proposition de loi ppl25-170"
    entry = _entry(result.out)
    assert "    kind: senat\n" in entry
    _validates(workdir, entry)


@needs_real
def test_probe_knows_the_senats_coming_sittings_page(
    feed_server: FeedServer, workdir: Path
) -> None:
    page = (REAL / "senat" / "textes-recents.html").read_bytes()
    url = feed_server.serve(
        "/dossiers-legislatifs/textes-recents.html", page, content_type="text/html"
    )

    result = run("probe", url)

    assert result.code == 0, result.err
    assert result.out.startswith(f"{url}: the Sénat's coming sittings (16 texts,")
    assert "  27/06/2019  Projet de loi de transformation de la fonction publique" in result.out
    _validates(workdir, _entry(result.out))


def test_probe_maps_a_non_scdl_dataset_from_its_schema(
    feed_server: FeedServer, workdir: Path
) -> None:
    def records(request: Seen) -> Route:
        if "order_by" in request.path:  # no delib_date to sort on, as Île-de-France answered
            return Route(
                b'{"error_code": "ODSQLError"}', status=400, content_type="application/json"
            )
        body = {"total_count": 1, "results": [RECORD]}
        return Route(json.dumps(body).encode(), content_type="application/json", etag=False)

    feed_server.serve(DATASET, json.dumps({"fields": IDF_FIELDS}), content_type="application/json")
    url = feed_server.handle(f"{DATASET}/records", records)

    result = run("probe", url)

    assert result.code == 0, result.err
    assert "  20/11/2026  Convention relative à la sécurisation des lycées" in result.out
    entry = _entry(result.out)
    assert "    fields: {id: numero, title: titre, date: date_decision, url: url_pdf}\n" in entry
    _validates(workdir, entry)
