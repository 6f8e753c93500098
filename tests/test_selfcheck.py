"""``watcher sources check`` against local servers: healthy sources of each kind, and broken ones."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import FIXTURES, run, write_config
from tests.fake_telegram import parse_entities
from tests.feed_server import FeedServer, Route
from tests.pdfs import text_pdf
from tests.test_bot_commands import DRIFT, MAINTAINER, running_bot
from tests.test_drift import listing
from tests.test_source_dila import OLD, archive
from tests.test_source_dila import listing as dila_listing
from tests.test_source_legifrance import FakePiste
from tests.test_source_parliament import publish_today
from tests.test_webdelib_real_shape import Portal
from watcher.sources.catalog import KINDS

ODS = "/api/explore/v2.1/catalog/datasets/deliberations-rennes-metropole-2021-copie/records"
LAYER = "/arcgis/rest/services/deliberations_2021_2028/FeatureServer/0"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def source(source_id: str, kind: str, url: str, **extra: str) -> dict[str, object]:
    return {"id": source_id, "name": source_id, "kind": kind, "url": f"'{url}'", **extra}


@pytest.fixture
def portal(feed_server: FeedServer) -> Portal:
    """A WebDélib+ portal in its real shape: an act behind openfile.jsp -> showFile.jsp."""
    portal = Portal(feed_server)
    portal.add("Aide aux clubs sportifs", "Acte n° 2026-12", "a1", text_pdf("Sport."))
    portal.add("Budget supplémentaire", "Acte n° 2026-13", "a2", text_pdf("Budget."))
    return portal


def healthy_sources(
    server: FeedServer, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, object]]:
    """One source of each kind, served as the real services answer."""
    monkeypatch.setenv("LEGIFRANCE_CLIENT_ID", "watcher-id")
    monkeypatch.setenv("LEGIFRANCE_CLIENT_SECRET", "s3cret")
    piste = FakePiste(server)
    server.serve(f"/OPENDATA/JORFSIMPLE/{OLD}", archive({}), content_type="application/gzip")
    server.handle(
        ODS,
        lambda _: Route(fixture("probe_ods_records.json"), content_type="application/json"),
    )
    server.handle(
        f"{LAYER}/query",
        lambda _: Route(fixture("arcgis_query_page.json"), content_type="text/plain"),
    )
    return [
        source("feed", "rss", server.serve("/rss/textes.rss", fixture("senat_textes_rss2.xml"))),
        source(
            "dossier",
            "senat",
            server.serve("/dosleg/ppl18-260.xml", fixture("senat_dosleg_atom03.xml")),
        ),
        source(
            "page",
            "html",
            server.serve("/actes", fixture("probe_documents.html"), content_type="text/html"),
            link_pattern="'*.pdf'",
        ),
        source(
            "csv",
            "scdl",
            server.serve("/deliberations.csv", fixture("probe_scdl.csv"), content_type="text/csv"),
        ),
        source("ods", "opendatasoft", server.url(ODS)),
        source("layer", "arcgis", server.url(LAYER)),
        source("portal", "webdelib", portal.start()),
        source("an", "assemblee", publish_today(server, {}), days="1"),
        source(
            "jo-dila",
            "dila",
            server.serve("/OPENDATA/JORFSIMPLE/", dila_listing(OLD), content_type="text/html"),
        ),
        source("jo", "legifrance", piste.api_url, oauth_url=f"'{piste.oauth_url}'"),
        source("pref", "raa", _prefecture(server), pause="0.1"),
        source(
            "attrap",
            "attrap",
            server.serve("/api/v1/search", ATTRAP_ANSWER, content_type="application/json"),
            query="drone",
        ),
    ]


# One answer of Attrap's search, in the shape of the real one in
# ../shared/fixtures/real/raa/attrap_api_v1_search_response_2025-10-31.json.
ATTRAP_ANSWER = (
    b'{"elements": [{"administration": "ppparis", "administration_name": "Pr\\u00e9fecture de '
    b'police de Paris", "content": ["<em>drone</em>"], "date": "2025-10-29", "first_seen_on": '
    b'"2025-10-29T15:05:36+00:00", "id": "ab", "name": "Arr\\u00eat\\u00e9 n\\u00b02025-01426",'
    b' "url": "https://www.prefecturedepolice.interieur.gouv.fr/a.pdf"}], "total": 1}'
)


def _prefecture(server: FeedServer) -> str:
    """A prefecture's RAA site (tests/raa_site.py) holding one RAA this month."""
    from tests.raa_pdfs import raa_pdf
    from tests.raa_site import PrefectureSite, Raa

    site = PrefectureSite(server, "/pref")
    site.start()
    site.publish(Raa("recueil-01-2026-340", raa_pdf("340", []), site.today))
    return site.root


def table_rows(output: str) -> dict[str, list[str]]:
    """The table's rows by source id, cells split on runs of spaces."""
    rows = {}
    for line in output.split("\n\n")[0].splitlines()[1:]:
        cells = line.split()
        rows[cells[0]] = cells
    return rows


def test_healthy_sources_of_each_kind_are_all_usable(
    workdir: Path, feed_server: FeedServer, portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(workdir, healthy_sources(feed_server, portal, monkeypatch))

    result = run("sources", "check")

    assert result.code == 0, result.out + result.err
    rows = table_rows(result.out)
    assert set(rows) == {
        "feed",
        "dossier",
        "page",
        "csv",
        "ods",
        "layer",
        "portal",
        "an",
        "jo-dila",
        "jo",
        "pref",
        "attrap",
    }
    assert {cells[1] for cells in rows.values()} == set(KINDS)  # every kind
    assert all(cells[-1] == "ok" for cells in rows.values()), result.out
    assert rows["feed"][1:5] == ["rss", "200", "yes", "2"]
    assert int(rows["page"][4]) == 3  # the three PDFs the page links to
    # WebDélib+ documents are sampled for their text: they give it.
    with_text, without = rows["portal"][8].split("/")
    assert int(with_text) > 0 and without == "0"
    assert int(rows["jo"][4]) > 0  # the JO's texts, listed without their full text
    assert result.out.rstrip().endswith("12 of 12 source(s) usable")
    assert not list(workdir.glob("*.db"))  # a check stores nothing


def test_broken_sources_are_told_with_what_to_change(
    workdir: Path, feed_server: FeedServer
) -> None:
    healthy = feed_server.serve("/rss/textes.rss", fixture("senat_textes_rss2.xml"))
    moved = feed_server.serve(
        "/old/textes.rss", b"", status=301, headers={"Location": urlsplit(healthy).path}
    )
    gone = feed_server.serve("/gone.rss", b"Not Found", status=404, content_type="text/plain")
    page = feed_server.serve(
        "/now-a-page", fixture("probe_documents.html"), content_type="text/html"
    )
    empty = feed_server.serve("/actes", listing(), content_type="text/html")
    # What a WebDélib+ openfile.jsp answers instead of the PDF: a page that moves on by script.
    for name in ("a.html", "b.html"):
        feed_server.serve(
            f"/docs/{name}",
            "<html><body><script>document.location.href='../jsp/showFile.jsp'</script></body></html>",
            content_type="text/html",
        )
    scans = feed_server.serve("/scans", listing("a.html", "b.html"), content_type="text/html")
    write_config(
        workdir,
        [
            source("moved", "rss", moved),
            source("gone", "rss", gone),
            source("page", "rss", page),
            source("empty", "html", empty, link_pattern="'*.pdf'"),
            source("scans", "html", scans, link_pattern="'*/docs/*'", follow="true"),
        ],
    )

    result = run("sources", "check")

    assert result.code == 1
    rows = table_rows(result.out)
    assert rows["moved"][2:4] == ["200", "moved"]
    assert rows["moved"][-1] == "moved"  # usable, but its address should change
    assert f"it redirects: set url: {healthy}" in result.out
    assert rows["gone"][2] == "404" and rows["gone"][-1] == "unreachable"
    assert "the address is gone" in result.out
    # An HTML page where a feed was: not recognised, and probe proposes a kind: html entry.
    assert rows["page"][3] == "no" and rows["page"][-1] == "unrecognised"
    assert "is an HTML page with 3 document links (*.pdf)" in result.out
    assert (
        "    - id: page\n" in result.out
        and "    kind: html" in result.out
        and '    link_pattern: "*.pdf"' in result.out
    )
    assert rows["empty"][4] == "0" and rows["empty"][-1] == "empty"
    assert "0 links chosen by link_pattern" in result.out
    assert "an HTML page with no document links" in result.out
    assert rows["scans"][8] == "0/2" and rows["scans"][-1] == "no-text"
    assert "its documents give no text" in result.out
    assert result.out.rstrip().endswith("1 of 5 source(s) usable")


def test_one_source_is_checked_alone_and_an_unknown_one_is_a_clear_error(
    workdir: Path, feed_server: FeedServer
) -> None:
    feed = feed_server.serve("/rss/textes.rss", fixture("senat_textes_rss2.xml"))
    gone = feed_server.serve("/gone.rss", b"Not Found", status=404, content_type="text/plain")
    write_config(workdir, [source("feed", "rss", feed), source("gone", "rss", gone)])

    alone = run("sources", "check", "--source", "feed")
    assert alone.code == 0 and set(table_rows(alone.out)) == {"feed"}

    unknown = run("sources", "check", "--source", "nope")
    assert unknown.code == 1
    assert unknown.err.strip() == "watcher: no source nope in feeds.yml; sources: feed, gone"


def test_a_source_whose_secrets_are_missing_is_skipped_and_not_usable(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LEGIFRANCE_CLIENT_ID", "LEGIFRANCE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    write_config(workdir, [{"id": "jo", "name": "JO", "kind": "legifrance"}])

    result = run("sources", "check")

    assert result.code == 1
    assert table_rows(result.out)["jo"][-1] == "skipped"
    assert "set LEGIFRANCE_CLIENT_ID and LEGIFRANCE_CLIENT_SECRET" in result.out


def test_maintainers_see_drift_in_statut_and_check_sources_with_verifier(
    workdir: Path, feed_server: FeedServer
) -> None:
    with running_bot(workdir, feed_server) as bot:  # its feed has no item: a drifting source
        fake = bot.fake
        fake.wait_for(lambda: any(m.text.startswith(DRIFT) for m in fake.messages_to(MAINTAINER)))
        [notice] = [m for m in fake.messages_to(MAINTAINER) if m.text.startswith(DRIFT)]
        assert "sa liste ne donne plus aucun lien ni élément" in notice.text

        status = bot.say("/statut", chat_id=MAINTAINER)
        assert "⚠️ src" in status and "dérive : sa liste ne donne plus aucun lien" in status

        assert bot.say("/verifier", chat_id=MAINTAINER).startswith("🔎 Vérification")
        fake.wait_for(lambda: len(bot.replies(MAINTAINER)) > 2)
        checked = parse_entities(bot.replies(MAINTAINER)[2].text)[0]
        assert checked.startswith("Vérification des sources : 0 utilisable(s) sur 1")
        [row] = [line for line in checked.splitlines() if line.startswith("src ")]
        assert row.split()[1:5] == ["rss", "200", "oui", "0"] and row.endswith("vide")
        assert "the listing gave 0 links/items" in checked

        refused = bot.say("/verifier")
        assert refused == "Désolé, cette commande est réservée aux mainteneurs de watcher."
