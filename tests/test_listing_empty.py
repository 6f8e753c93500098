"""A listing page where no link is chosen is a failed poll, never a quiet success."""

from pathlib import Path

from tests.conftest import run, write_config
from tests.feed_server import FeedServer

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
