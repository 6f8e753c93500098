"""The pure side of following: how steps are named, what names a dossier, when one ends."""

from datetime import UTC, datetime

import pytest

from watcher.following import (
    FOLLOW_AFTER_LAW,
    cited_laws,
    follow_keys,
    is_followed,
    law_of,
    parse_dossier,
    stage_label,
)
from watcher.items import Item


def step(title: str, summary: str = "", **fields: object) -> Item:
    return Item("senat", "k", title, summary=summary, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("title", "summary", "stage"),
    [
        (
            "Texte de la commission n° 249",
            "Première lecture - Sénat : Texte de la commission déposé le 22 mai 2019",
            "texte de la commission (n° 249)",
        ),
        (
            "Rapport n° 524",
            "Première lecture - Sénat : Rapport de M. Alain MILON, fait au nom de la commission",
            "rapport (n° 524)",
        ),
        (
            "Texte n° 245",
            "Première lecture - Assemblée nationale : Texte adopté par l'Assemblée nationale le "
            "26 mars 2019",
            "texte adopté par l'Assemblée nationale (n° 245)",
        ),
        (
            "Scrutin public n°149 du 11 juin 2019",
            "Première lecture - Sénat : Scrutin public sur l'ensemble du projet de loi, adopté par "
            "l'Assemblée nationale après engagement de la procédure accélérée",
            "scrutin public sur l'ensemble du projet de loi (n° 149)",
        ),
        ("Décret n° 2023-828", "", "décret n° 2023-828"),
        ("Décret n° 2023-828 du 28 août 2023", "", "décret n° 2023-828 du 28 août 2023"),
    ],
    ids=["committee-text", "report", "an-adopted", "vote", "no-reading-prefix", "jo-title"],
)
def test_a_step_is_named_by_its_stage_and_number(title: str, summary: str, stage: str) -> None:
    assert stage_label(step(title, summary)) == stage


@pytest.mark.parametrize(
    ("text", "dossier"),
    [
        ("pjl22-220", "senat:pjl22-220"),
        ("PPL23-756", "senat:ppl23-756"),
        ("DLR5L16N46577", "an:DLR5L16N46577"),
        ("IOMD2304578D", "nor:IOMD2304578D"),
        ("JORFTEXT000047561974", "jorf:JORFTEXT000047561974"),
        ("https://www.senat.fr/dossier-legislatif/pjl22-220.html", "senat:pjl22-220"),
        ("http://www.senat.fr/dossierleg/ppl21-543.html", "senat:ppl21-543"),
        (
            "https://www.assemblee-nationale.fr/dyn/16/dossiers/alt/DLR5L16N46577",
            "an:DLR5L16N46577",
        ),
        (
            "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000047561974",
            "jorf:JORFTEXT000047561974",
        ),
        ("senat:pjl22-220", "senat:pjl22-220"),
        ("n'importe quoi", None),
        ("", None),
        ("https://example.org/pjl22-220", None),
    ],
)
def test_what_names_a_dossier(text: str, dossier: str | None) -> None:
    assert parse_dossier(text) == dossier


def test_a_published_law_ends_its_dossier_after_its_decrees_had_time() -> None:
    law = step(
        "Loi n° 2023-380 du 19 mai 2023 relative aux jeux Olympiques",
        "Loi promulguée le 19 mai 2023, publiée au Journal officiel du 20 mai 2023",
    )
    assert law_of(law) == "2023-380"
    assert law_of(step("Texte n° 50", "Texte modifié par le Sénat le 31 janvier 2023")) == ""
    published = datetime(2023, 5, 20, tzinfo=UTC)
    end = published + FOLLOW_AFTER_LAW
    assert is_followed("followed", end, published)
    assert not is_followed("followed", end, end)
    assert not is_followed("stopped", None, published)


def test_a_decree_applying_a_followed_law_is_found_by_the_law_it_cites() -> None:
    decree = Item(
        "jo",
        "JORFTEXT000047561974",
        "Décret n° 2023-828 du 28 août 2023 relatif aux traitements algorithmiques",
        body="Vu la loi no 2023-380 du 19 mai 2023 relative aux jeux Olympiques, notamment son "
        "article 10 ;",
        dossier="jorf:JORFTEXT000047561974",
    )
    assert cited_laws(decree) == {"loi:2023-380"}
    assert follow_keys(decree) == ["jorf:JORFTEXT000047561974", "loi:2023-380"]
