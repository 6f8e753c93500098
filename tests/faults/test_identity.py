"""A feed's mistakes never alert twice: new guids, republished items, edits that match."""

from pathlib import Path

from tests.conftest import run, write_config
from tests.feed_server import FeedServer


def rss(*items: tuple[str, str, str, str]) -> bytes:
    """(guid, link, title, description) items in an RSS 2.0 feed."""
    entries = "".join(
        f"<item><guid>{guid}</guid><link>{link}</link><title>{title}</title>"
        f"<description>{description}</description></item>"
        for guid, link, title, description in items
    )
    return (
        '<rss version="2.0"><channel><title>T</title><link>https://example.org</link>'
        f"<description>d</description>{entries}</channel></rss>"
    ).encode()


BILL = (
    "https://example.org/textes/1",
    "Proposition de loi relative à la reconnaissance faciale",
    "Le texte encadre la reconnaissance faciale dans l'espace public.",
)
DECREE = (
    "https://example.org/textes/2",
    "Décret relatif à un traitement biométrique",
    "Ce décret crée un fichier biométrique des voyageurs.",
)


def test_a_feed_that_changes_every_guid_alerts_nothing_again(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", rss(("a-1", *BILL), ("a-2", *DECREE)))
    write_config(workdir, [{"id": "s", "name": "S", "url": url, "backfill": "true"}])
    first = run("poll")
    assert first.out.count("Proposition de loi relative") == 1
    assert first.out.count("Décret relatif") == 1

    for round_ in ("b", "c"):  # same links and titles, guids renamed at every change
        feed_server.serve("/feed", rss((f"{round_}-1", *BILL), (f"{round_}-2", *DECREE)))
        again = run("poll")
        assert again.code == 0, again.err
        assert again.out == ""


def test_an_item_republished_with_small_edits_under_a_new_link_is_the_same_item(
    workdir: Path, feed_server: FeedServer
) -> None:
    url = feed_server.serve("/feed", rss(("a-1", *BILL)))
    write_config(workdir, [{"id": "s", "name": "S", "url": url, "backfill": "true"}])
    assert run("poll").out.count("Proposition de loi relative") == 1
    link, title, description = BILL
    edited = description.replace("encadre", "encadre strictement")
    feed_server.serve("/feed", rss(("z-9", link + "?v=2", title, edited)))
    assert run("poll").out == ""


def test_an_edit_that_makes_an_item_match_alerts_once_as_an_update(
    workdir: Path, feed_server: FeedServer
) -> None:
    plain = ("g-1", "https://example.org/agenda", "Ordre du jour de la séance", "Budget.")
    url = feed_server.serve("/feed", rss(plain))
    write_config(workdir, [{"id": "s", "name": "S", "url": url}])
    assert run("poll").out == ""  # the first poll notes where the feed stands

    completed = (*plain[:3], "Budget. Expérimentation de la reconnaissance faciale.")
    feed_server.serve("/feed", rss(completed))
    update = run("poll")
    assert update.out.count("Ordre du jour de la séance") == 1
    assert "🔄 mis à jour" in update.out
    assert run("poll").out == ""  # an unchanged re-read alerts nothing
