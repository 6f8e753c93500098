"""The pure side of following: how steps are named, what names a dossier, when one ends."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.following import (
    FOLLOW_AFTER_LAW,
    cited_laws,
    cites,
    follow_keys,
    is_followed,
    law_of,
    parse_dossier,
    stage_label,
    step_date,
    step_key,
    subject_of,
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
            "Texte de la commission (n° 249)",
        ),
        (
            "Rapport n° 524",
            "Première lecture - Sénat : Rapport de M. Alain MILON, fait au nom de la commission",
            "Rapport (n° 524)",
        ),
        (
            "Texte n° 245",
            "Première lecture - Assemblée nationale : Texte adopté par l'Assemblée nationale le "
            "26 mars 2019",
            "Adopté par l'Assemblée nationale (n° 245)",
        ),
        (
            "Scrutin public n°149 du 11 juin 2019",
            "Première lecture - Sénat : Scrutin public sur l'ensemble du projet de loi, adopté par "
            "l'Assemblée nationale après engagement de la procédure accélérée",
            "Scrutin (n° 149)",
        ),
        ("Décret n° 2023-828", "", "Décret d'application n° 2023-828"),
        ("Décret n° 2023-828 du 28 août 2023 relatif à …", "", "Décret d'application n° 2023-828"),
        (
            "LOI n° 2023-380 du 19 mai 2023 relative aux jeux Olympiques et Paralympiques de 2024",
            "",
            "Promulguée : loi n° 2023-380",
        ),
        (
            "Décision n° 2023-850 DC du 17 mai 2023",
            "Loi relative aux jeux Olympiques et Paralympiques de 2024 et portant diverses autres "
            "dispositions. Conformité partielle",
            "Décision du Conseil constitutionnel n° 2023-850 DC",
        ),
        (
            "Proposition de loi transmise à l'Assemblée nationale",
            "Première lecture - Assemblée nationale : Texte transmis à l'Assemblée nationale le "
            "13 juin 2023",
            "Transmis à l'Assemblée nationale",
        ),
        (
            "Comptes rendus des réunions de la commission des lois",
            "Première lecture - Sénat : Comptes rendus des réunions de la commission des lois",
            "Travaux de la commission",
        ),
        ("Navette", "Première lecture - Sénat : Navette du texte", "Navette du texte"),
    ],
    ids=[
        "committee-text",
        "report",
        "an-adopted",
        "vote",
        "decree",
        "jo-decree-title",
        "law",
        "cc-decision",
        "transmission",
        "committee-meetings",
        "own-words",
    ],
)
def test_a_step_says_what_happened_and_its_number(title: str, summary: str, stage: str) -> None:
    assert stage_label(step(title, summary)) == stage


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            step(
                "Proposition de loi relative à la reconnaissance biométrique dans l'espace public",
                "Texte adopté n° 128 (2022-2023) le 12 juin 2023",
                url="http://www.senat.fr/leg/tas22-128.html",
            ),
            step(
                "Texte n° 128",
                "Première lecture - Sénat : Texte adopté par le Sénat le 12 juin 2023",
                url="http://www.senat.fr/leg/tas22-128.html",
            ),
        ),
        (
            step(
                "Reconnaissance biométrique dans l'espace public - rapport n° 663",
                "Rapport n° 663 de M. Philippe BAS, fait au nom de la commission des lois (31 mai "
                "2023)",
            ),
            step(
                "Rapport n° 663",
                "Première lecture - Sénat : Rapport de M. Philippe BAS, fait au nom de la "
                "commission des lois (31 mai 2023)",
            ),
        ),
    ],
    ids=["textes-feed-and-dossier-feed", "rapports-feed-and-dossier-feed"],
)
def test_one_step_told_by_two_sources_has_one_name_and_key(first: Item, second: Item) -> None:
    assert stage_label(first) == stage_label(second)
    assert step_key(first) == step_key(second)


def test_a_step_happened_on_the_day_its_words_say_not_when_it_was_published() -> None:
    adopted = step(
        "Proposition de loi relative à la reconnaissance biométrique",
        "Texte adopté n° 128 (2022-2023) le 12 juin 2023",
        published=datetime(2023, 6, 13, 6, tzinfo=UTC),
    )
    when = step_date(adopted)
    assert when is not None and when.date().isoformat() == "2023-06-12"


@pytest.mark.parametrize(
    ("title", "subject"),
    [
        (
            "Proposition de loi relative à la reconnaissance biométrique dans l'espace public",
            "reconnaissance biometrique dans l espace public",
        ),
        (
            "Projet de loi relatif aux jeux Olympiques et Paralympiques de 2024",
            "jeux olympiques et paralympiques de 2024",
        ),
        ("Projet de loi de finances pour 2024", ""),  # too short to name one dossier
    ],
    ids=["ppl", "pjl", "too-short"],
)
def test_a_dossier_is_cited_by_its_subject(title: str, subject: str) -> None:
    assert subject_of(title) == subject


def test_a_report_citing_a_bill_by_its_subject_is_a_step_of_it() -> None:
    subject = subject_of(
        "Proposition de loi relative à la reconnaissance biométrique dans l'espace public"
    )
    report = step(
        "Rapport n° 663",
        "Rapport fait au nom de la commission des lois sur la proposition de loi relative à la "
        "reconnaissance biométrique dans l'espace public",
    )
    assert cites(report, subject)
    assert not cites(step("Proposition de loi relative à la reconnaissance faciale"), subject)


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


def test_plans_are_data_a_followed_dossiers_text_changed_is_not_resent_to_its_followers() -> None:
    """A dossier feed and the Akoma Ntoso index name the committee's text by one signet:
    its full text brings the words, but its followers had the step in their thread."""
    from watcher.decide import Audience, Known, KnownItems, plan_items
    from watcher.following.plan import Followed, Step
    from watcher.matching.engine import TopicMatch
    from watcher.routing import Recipient, Route

    text = Item("senat", "ppl22-664", "Texte", revision="r2", dossier="senat:ppl22-505")
    stored = Known(1, "ppl22-664", "r1", frozenset(), dossier="senat:ppl22-505")
    audience = Audience(
        (
            Recipient("telegram", "1", frozenset({"biometrie"})),
            Recipient("telegram", "2", frozenset({"biometrie"})),
        )
    )
    followed = Followed({"senat:ppl22-505": Step("senat:ppl22-505", (Route("telegram", "1", ()),))})
    match = TopicMatch("biometrie", "biometrie", ("biométrique",), None)

    [change] = plan_items(
        [text],
        KnownItems({"ppl22-664": stored}, {}, {}),
        match=lambda item: [match],
        audience=audience,
        followed=followed,
    )

    assert change.reason == "update"
    assert [a.destination for a in change.alerts] == ["2"]  # "1" follows: it had the step


def test_a_sitting_date_announced_by_another_source_of_the_dossier_is_kept(tmp_path: Path) -> None:
    from watcher.decide import ItemChange, Known
    from watcher.routing import Route
    from watcher.sources.base import SourceState
    from watcher.store import PollOutcome, Store

    store = Store(tmp_path / "watcher.db")
    now = datetime(2023, 6, 1, 8, tzinfo=UTC)
    bill = Item("senat-textes", "ppl22-505", "Proposition de loi", dossier="senat:ppl22-505")
    alert = ItemChange(bill, (), (Route("telegram", "1", ("biometrie",)),))
    store.save_poll(PollOutcome("senat-textes", now, now, SourceState(), (alert,)))
    [(item_id,)] = store.database.db.execute("SELECT id FROM items").fetchall()
    # The agenda of the Sénat announces the sitting: another source's sighting of the text.
    sitting = datetime(2023, 6, 12, 14, tzinfo=UTC)
    agenda = Item(
        "senat-agenda", "ppl22-505", "Séance publique", event_at=sitting, event="Examen en séance"
    )
    stored = Known(item_id, "ppl22-505", "", frozenset(), elsewhere=True, dossier="senat:ppl22-505")
    seen = ItemChange(agenda, (), (), known=stored, reason="sighting")
    store.save_poll(PollOutcome("senat-agenda", now, now, SourceState(), (seen,)))

    dossier = store.dossiers.get("senat:ppl22-505")
    assert dossier is not None
    assert (dossier.next_date, dossier.next_event) == (sitting, "Examen en séance")


def test_a_committee_text_alerted_first_follows_its_bills_dossier(tmp_path: Path) -> None:
    """The Akoma Ntoso index filed text n° 664 under its bill (ppl22-505); the textes feed's
    item keyed by its own signet, alerted, makes the bill's dossier followed, not its own."""
    from watcher.decide import ItemChange
    from watcher.routing import Route
    from watcher.sources.base import SourceState
    from watcher.store import PollOutcome, Store

    store = Store(tmp_path / "watcher.db")
    now = datetime(2023, 5, 31, 20, tzinfo=UTC)
    akn = Item(
        "senat-depots",
        "ppl22-664",
        "Proposition de loi",
        dossier="senat:ppl22-505",
        aliases=("senat:ppl22-664",),
    )
    textes = Item("senat-textes", "ppl22-664", "Proposition de loi", dossier="senat:ppl22-664")
    alert = ItemChange(textes, (), (Route("telegram", "1", ("biometrie",)),))
    store.save_poll(
        PollOutcome("senat-depots", now, now, SourceState(), (ItemChange(akn, (), ()),))
    )
    store.save_poll(PollOutcome("senat-textes", now, now, SourceState(), (alert,)))

    assert [d.dossier for d in store.dossiers.all()] == ["senat:ppl22-505"]
