"""Documents that change, and what items say of themselves (revisions, events, dossiers).

These call each kind's reader through its real interface (``KIND.read`` with a
``PollContext``) against the local feed server; the store's side of revisions
(``known_revisions``) is played by a dict of what is stored.
"""

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import FIXTURES, REAL, needs_real, run, write_config
from tests.feed_server import FeedServer
from tests.test_source_parliament import (
    AKN_VSA,
    AN_LISTS,
    COMPLETED_POINT,
    SITTING_XML,
    depots,
)
from watcher.config import load_config
from watcher.fetch import StandaloneSession
from watcher.items import Item
from watcher.sources.base import PollContext, PollResult, SourceState
from watcher.sources.catalog import KINDS
from watcher.sources.xmlutil import PARIS


def read(
    workdir: Path,
    source: dict[str, object],
    stored: Mapping[str, str],
    *,
    backlog: bool = False,
    state: SourceState | None = None,
) -> PollResult:
    """One poll of ``source`` by its kind's reader, with these keys stored at these revisions."""
    config = load_config(write_config(workdir, [source]))
    chosen = config.sources[0]
    fetcher = StandaloneSession(timeout=10)
    try:
        ctx = PollContext(
            fetcher=fetcher,
            now=datetime.now(UTC),
            known=lambda keys: {key for key in keys if key in stored},
            known_revisions=lambda keys: {key: stored[key] for key in keys if key in stored},
            backlog=backlog,
            environ=dict(os.environ),
            cache_dir=workdir / "cache",
        )
        return KINDS[chosen.kind].read(chosen, chosen.options, state or SourceState(), ctx)
    finally:
        fetcher.close()


def revisions(items: list[Item]) -> dict[str, str]:
    return {item.key: item.revision for item in items}


FEED = """<rss version="2.0"><channel><title>CNIL</title><link>https://c.example</link>
<description>d</description><item><title>{title}</title><guid>actu-1</guid>
<description>{summary}</description></item></channel></rss>"""


def test_an_rss_item_edited_under_the_same_guid_has_a_new_revision(
    feed_server: FeedServer, workdir: Path
) -> None:
    url = feed_server.serve("/feed", FEED.format(title="Nouvelle doctrine", summary="Caméras"))
    source = {"id": "cnil", "name": "CNIL", "url": url}
    first = read(workdir, source, {}).items

    again = read(workdir, source, {}).items
    feed_server.serve("/feed", FEED.format(title="Nouvelle doctrine", summary="Caméras augmentées"))
    edited = read(workdir, source, {}).items

    assert [i.key for i in first] == [i.key for i in edited] == ["actu-1"]
    assert revisions(again) == revisions(first)
    assert edited[0].revision != first[0].revision


def test_assemblee_reads_a_uid_again_when_it_is_republished_with_a_newer_timestamp(
    feed_server: FeedServer, workdir: Path
) -> None:
    today = datetime.now(PARIS).date().isoformat()
    uid = "RUANR5L17S2026IDS29999"
    path = f"/dyn/opendata/{uid}.xml"
    listing = f"{AN_LISTS}/publication_{today}"
    feed_server.serve(path, SITTING_XML, content_type="application/xml")
    feed_server.serve(listing, f"2026-12-01T18:00:00.000+01:00;{feed_server.url(path)}")
    source = {"id": "an", "name": "AN", "kind": "assemblee", "url": feed_server.url(AN_LISTS)}
    source["days"] = 1

    (first, point) = read(workdir, source, {}).items
    assert first.revision == point.revision == "2026-12-01T18:00:00.000+01:00"
    assert (first.event, first.event_at) == (
        "Séance publique",
        datetime(2026, 12, 15, 15, tzinfo=PARIS),
    )
    # Its agenda point names the dossier debated: the dossier gets the sitting.
    assert (point.dossier, point.event, point.event_at) == (
        "an:DLR5L17N51234",
        "Examen en séance publique",
        datetime(2026, 12, 15, 15, tzinfo=PARIS),
    )
    # Listed again with the same timestamp: not read again.
    assert read(workdir, source, {uid: first.revision}).items == []
    assert len(feed_server.hits(path)) == 1

    # The agenda is completed and the sitting republished under the same UID.
    feed_server.serve(
        path, SITTING_XML.replace("<!--more-->", COMPLETED_POINT), content_type="application/xml"
    )
    feed_server.serve(
        listing,
        f"2026-12-01T18:00:00.000+01:00;{feed_server.url(path)}\n"
        f"2026-12-03T09:12:00.000+01:00;{feed_server.url(path)}",
    )
    (completed, _) = read(workdir, source, {uid: first.revision}).items

    assert len(feed_server.hits(path)) == 2
    assert completed.key == uid
    assert completed.revision == "2026-12-03T09:12:00.000+01:00"
    assert "reconnaissance faciale" in completed.body and "reconnaissance" not in first.body


def test_a_document_stored_before_revisions_existed_gets_its_revision_without_being_read(
    feed_server: FeedServer, workdir: Path
) -> None:
    today = datetime.now(PARIS).date().isoformat()
    path = "/dyn/opendata/PIONANR5L17B0999.json"
    feed_server.serve(path, json.dumps({"document": {"uid": "PIONANR5L17B0999"}}))
    feed_server.serve(
        f"{AN_LISTS}/publication_{today}", f"2026-12-03T09:12:00.000+01:00;{feed_server.url(path)}"
    )
    source = {"id": "an", "name": "AN", "kind": "assemblee", "url": feed_server.url(AN_LISTS)}
    source["days"] = 1
    (noted,) = read(workdir, source, {"PIONANR5L17B0999": ""}).items
    assert (noted.key, noted.revision) == ("PIONANR5L17B0999", "2026-12-03T09:12:00.000+01:00")
    assert feed_server.hits(path) == []


def test_senat_akoma_ntoso_text_is_read_again_when_its_entry_is_stamped_again(
    feed_server: FeedServer, workdir: Path
) -> None:
    base = feed_server.url("")
    index = depots("ppl25-170").replace("{base}", base)
    feed_server.serve("/akomantoso/depots.xml", index, content_type="application/xml")
    feed_server.serve(
        "/akomantoso/ppl25-170.akn.xml",
        AKN_VSA,
        content_type="application/xml",
    )
    source = {"id": "s", "name": "Sénat", "kind": "senat", "url": base + "/akomantoso/depots.xml"}
    source["site"] = base

    backlog = read(workdir, source, {}, backlog=True).items
    assert [(i.key, i.revision, i.url) for i in backlog] == [
        ("ppl25-170", "2025-12-02T11:56:58", f"{base}/leg/ppl25-170.html")
    ]
    assert feed_server.hits("/akomantoso/ppl25-170.akn.xml") == []
    assert read(workdir, source, {"ppl25-170": "2025-12-02T11:56:58"}).items == []

    feed_server.serve(
        "/akomantoso/depots.xml",
        index.replace("2025-12-02T11:56:58", "2026-01-10T08:00:00"),
        content_type="application/xml",
    )
    (text,) = read(workdir, source, {"ppl25-170": "2025-12-02T11:56:58"}).items

    assert len(feed_server.hits("/akomantoso/ppl25-170.akn.xml")) == 1
    assert text.revision == "2026-01-10T08:00:00"
    assert text.kind == "proposition de loi"
    assert text.dossier == "senat:ppl25-170"
    assert "reconnaissance faciale" in text.body


def test_senat_feed_items_carry_the_dossier_their_link_or_feed_names(
    feed_server: FeedServer, workdir: Path
) -> None:
    url = feed_server.serve("/rss/textes.rss", (FIXTURES / "senat_textes_rss2.xml").read_bytes())
    items = read(workdir, {"id": "s", "name": "Sénat", "kind": "senat", "url": url}, {}).items
    assert {(i.key, i.dossier, i.aliases) for i in items} == {
        ("pjl22-220", "senat:pjl22-220", ("senat:pjl22-220",)),  # a bill's first text
        ("l18-212", "", ("senat:l18-212",)),  # a report: its link does not name the dossier
    }


@needs_real
def test_every_step_of_a_real_dossier_feed_carries_its_dossier(
    feed_server: FeedServer, workdir: Path
) -> None:
    url = feed_server.serve(
        "/dossier-legislatif/rss/doslegpjl18-404.xml",
        (REAL / "senat" / "dosleg_rss_pjl18-404_atom03_iso8859-15.xml").read_bytes(),
        content_type="application/xml",
    )
    source = {"id": "s", "name": "Sénat", "kind": "senat", "url": url}
    items = read(workdir, source, {}).items
    assert len(items) > 10
    assert {item.dossier for item in items} == {"senat:pjl18-404"}
    adopted = next(item for item in items if item.key == "tas18-109")
    assert adopted.kind == "texte adopté"
    assert (adopted.event, adopted.event_at) == (
        "Texte modifié par le Sénat",
        datetime(2019, 6, 11, tzinfo=PARIS),
    )


def test_a_council_deliberation_is_dated_by_its_vote_and_revised_when_corrected(
    feed_server: FeedServer, workdir: Path
) -> None:
    csv = (
        "COLL_NOM;COLL_SIRET;DELIB_ID;DELIB_DATE;DELIB_OBJET\n"
        "Commune de Nice;21060088900016;2024-031;2024-03-21;Caméras sur la promenade\n"
    )
    url = feed_server.serve("/delibs.csv", csv, content_type="text/csv")
    source = {"id": "nice", "name": "Nice", "kind": "scdl", "url": url}
    (voted,) = read(workdir, source, {}).items
    assert (voted.event, voted.event_at) == (
        "Délibération du conseil",
        datetime(2024, 3, 21, tzinfo=PARIS),
    )
    assert voted.dossier == "nice:2024-03-21"  # the sitting

    feed_server.serve("/delibs.csv", csv.replace("Caméras", "Caméras augmentées"))
    (corrected,) = read(workdir, source, {}).items
    assert corrected.key == voted.key and corrected.revision != voted.revision


@needs_real
def test_dates_in_real_report_descriptions_are_not_sittings(
    feed_server: FeedServer, workdir: Path
) -> None:
    # "… la convention du 13 septembre 1965 …", "La loi du 30 octobre 2017 …", "(19 décembre 2018)"
    url = feed_server.serve(
        "/rss/rapports.rss",
        (REAL / "senat" / "senat_rss_rapports_2018-12-28_rss2.xml").read_bytes(),
    )
    items = read(workdir, {"id": "s", "name": "Sénat", "kind": "senat", "url": url}, {}).items
    assert len(items) == 26
    assert [item.event for item in items if item.event_at] == []


def test_an_edit_that_makes_an_rss_item_match_alerts_once(
    feed_server: FeedServer, workdir: Path
) -> None:
    url = feed_server.serve("/feed", FEED.format(title="Nouvelle doctrine", summary="Caméras"))
    write_config(workdir, [{"id": "cnil", "name": "CNIL", "url": url, "backfill": "true"}])
    assert run("poll").out == ""  # matches nothing yet

    feed_server.serve("/feed", FEED.format(title="Nouvelle doctrine", summary="Caméras augmentées"))
    edited = run("poll")
    again = run("poll")

    assert edited.code == 0, edited.err
    assert "Nouvelle doctrine" in edited.out and "caméras augmentées" in edited.out.lower()
    assert again.out == ""


def test_texts_stored_before_revisions_get_theirs_without_being_read(
    feed_server: FeedServer, workdir: Path
) -> None:
    base = feed_server.url("")
    feed_server.serve("/akomantoso/depots.xml", depots("ppl25-170").replace("{base}", base))
    feed_server.serve("/akomantoso/ppl25-170.akn.xml", AKN_VSA)
    source = {"id": "s", "name": "Sénat", "kind": "senat", "url": base + "/akomantoso/depots.xml"}

    items = read(workdir, source, {"ppl25-170": ""}).items

    assert [(i.key, i.revision) for i in items] == [("ppl25-170", "2025-12-02T11:56:58")]
    assert feed_server.hits("/akomantoso/ppl25-170.akn.xml") == []
