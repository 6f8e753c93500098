"""Listing pages (``kind: html``): a page where no link is chosen is a failed poll, never a
quiet success; a link's kind is read whatever its accents and case."""

from pathlib import Path

import pytest

from tests.conftest import run, write_config
from tests.feed_server import FeedServer
from watcher.sources.listing import ListingOptions, listing_items

# A council's page after a redesign: it answers 200, its documents are gone.
MOVED = (
    "<html><body><nav><a href='/'>Accueil</a> <a href='/contact'>Contact</a></nav>"
    "<p>Cette page a été déplacée. <a href='/nouveau-portail'>Nouveau portail</a></p>"
    "</body></html>"
)


def test_a_listing_with_no_chosen_link_fails_visibly(
    feed_server: FeedServer, workdir: Path
) -> None:
    url = feed_server.serve("/deliberations", MOVED, content_type="text/html")
    write_config(
        workdir,
        [
            {
                "id": "ville",
                "name": "Ville",
                "kind": "html",
                "url": url,
                "link_selector": "'a.document'",
            }
        ],
    )

    result = run("poll")

    message = "0 links chosen by link_selector 'a.document' among the page's 3"
    assert message in result.err
    assert "1 failed" in result.err
    status = run("status")
    assert message in status.out + status.err


@pytest.mark.parametrize(
    ("words", "kind"),
    [
        pytest.param("ARRÊTÉ PRÉFECTORAL n° 2026-12", "arrêté", id="capital-accents"),
        pytest.param("Arrete du maire n° 4", "arrêté", id="no-accents"),
        pytest.param("Délibérations de la commission permanente", "délibération", id="plural"),
        pytest.param("ORDRE DU JOUR du 12/03/2026", "ordre du jour", id="agenda-in-capitals"),
    ],
)
def test_a_links_kind_is_read_with_accents_and_case_folded(words: str, kind: str) -> None:
    page = f"<a href='/actes/1.pdf'>{words}</a>"
    options = ListingOptions(link_pattern="*.pdf")
    [item] = listing_items(page, "https://ville.example/actes", "ville", options)
    assert item.kind == kind
