"""A law's preparatory works link it to the Sénat dossier it ends."""

import json
from pathlib import Path

import pytest

from tests.conftest import REAL, needs_real, run, write_config
from tests.feed_server import FeedServer
from tests.test_following import BILL, textes
from watcher.sources.prepwork import senate_dossiers


@pytest.mark.parametrize(
    ("prepwork", "dossiers"),
    [
        (
            "Sénat :<br/>Projet de loi, adopté par l'Assemblée nationale, n° 101 (2020-2021) ;"
            "<br/>Rapport de M. X, n° 106 (2020-2021) ;",
            ("dossier:senat:pjl20-101",),
        ),
        (
            "Assemblée nationale : Proposition de loi n° 3452 ; Sénat : Proposition de loi, "
            "adoptée par l'Assemblée nationale, n° 435 (2020-2021) ; Commission mixte paritaire",
            ("dossier:senat:ppl20-435",),
        ),
        (
            "Sénat : Projet de loi n° 220 (2022-2023) ; Texte de la commission n° 249 (2022-2023)",
            ("dossier:senat:pjl22-220",),
        ),
        ("Assemblée nationale : Projet de loi n° 809 ; Rapport n° 939.", ()),
        ("", ()),
    ],
    ids=["transmitted-bill", "transmitted-ppl", "first-text-only", "no-senat-part", "empty"],
)
def test_senate_dossier_from_preparatory_works(prepwork: str, dossiers: tuple[str, ...]) -> None:
    assert senate_dossiers(prepwork) == dossiers


@needs_real
def test_real_legifrance_preparatory_works() -> None:
    text = json.loads(
        (REAL / "legifrance" / "consult_jorf_JORFTEXT000042665307_legifrss.json").read_text()
    )
    assert senate_dossiers(text["prepWork"]) == ("dossier:senat:pjl20-101",)


def test_a_followed_senate_dossier_gets_its_law_from_the_journal_officiel(
    workdir: Path, feed_server: FeedServer
) -> None:
    """The law's title and text say none of the words; its preparatory works name the bill."""
    from tests.test_following import jo_text
    from tests.test_source_dila import NEW, OLD, archive, listing

    base = "/OPENDATA/JORFSIMPLE/"
    feed_server.serve(base, listing(OLD), content_type="text/html")
    feed_server.serve("/rss/textes.rss", textes())
    write_config(
        workdir,
        [
            {
                "id": "senat",
                "name": "Sénat",
                "kind": "senat",
                "url": feed_server.url("/rss/textes.rss"),
                "site": feed_server.url(""),
            },
            {"id": "jo", "name": "Journal officiel", "kind": "dila", "url": feed_server.url(base)},
        ],
    )
    assert run("poll").code == 0  # where both sources stand
    feed_server.serve("/rss/textes.rss", textes(BILL))
    first = run("poll")
    assert "Projet de loi relatif aux jeux Olympiques" in first.out  # followed from now on

    law = jo_text(
        "JORFTEXT000047561974",
        "LOI",
        "SPOX2229503L",
        "LOI n° 2023-380 du 19 mai 2023 relative aux jeux Olympiques et Paralympiques de 2024",
        "L'Assemblée nationale et le Sénat ont adopté,",
        "La présente loi sera exécutée comme loi de l'État.",
    ).replace(
        b"<STRUCT>",
        "<TP><CONTENU>Travaux préparatoires : loi n° 2023-380.<br/>Sénat :<br/>Projet de loi "
        "n° 220 (2022-2023) ;<br/>Rapport de Mme Agnès Canayer, n° 248 (2022-2023) ;"
        "</CONTENU></TP><STRUCT>".encode(),
    )
    feed_server.serve(base, listing(OLD, NEW), content_type="text/html")
    feed_server.serve(base + NEW, archive({"a/JORFTEXT000047561974.xml": law}))
    second = run("poll")
    assert second.code == 0, second.err
    assert "🔁 Suite du dossier" in second.out
    assert "Promulguée : loi n° 2023-380" in second.out  # the step says what happened
