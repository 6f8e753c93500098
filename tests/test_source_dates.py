"""French dates as the sources write them, and the events they announce."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from watcher.dates import EARLIEST, LATEST, from_epoch, in_paris
from watcher.sources.frenchdates import PARIS, day_text, find_dates, find_event, parse_date

TODAY = date(2026, 11, 30)

DATES = [
    pytest.param("mardi 15 décembre 2026", datetime(2026, 12, 15, tzinfo=PARIS), id="weekday-long"),
    pytest.param("15 décembre 2026", datetime(2026, 12, 15, tzinfo=PARIS), id="long"),
    pytest.param("15/12/2026", datetime(2026, 12, 15, tzinfo=PARIS), id="numeric"),
    pytest.param("5/1/2027", datetime(2027, 1, 5, tzinfo=PARIS), id="numeric-short"),
    pytest.param("2026-12-15", datetime(2026, 12, 15, tzinfo=PARIS), id="iso"),
    pytest.param("1er juillet 2026", datetime(2026, 7, 1, tzinfo=PARIS), id="premier"),
    pytest.param("1er juillet", datetime(2026, 7, 1, tzinfo=PARIS), id="no-year-past"),
    pytest.param("12 janvier", datetime(2027, 1, 12, tzinfo=PARIS), id="no-year-next-year"),
    pytest.param("15 DÉCEMBRE 2026", datetime(2026, 12, 15, tzinfo=PARIS), id="capitals"),
    pytest.param("15 decembre 2026", datetime(2026, 12, 15, tzinfo=PARIS), id="no-accent"),
    pytest.param("3 sept. 2026", datetime(2026, 9, 3, tzinfo=PARIS), id="abbreviated"),
    pytest.param(
        "jeudi 19 juillet 2026 à 14 h 30", datetime(2026, 7, 19, 14, 30, tzinfo=PARIS), id="time"
    ),
    pytest.param("19/07/2026 à 9h", datetime(2026, 7, 19, 9, tzinfo=PARIS), id="time-hour"),
    pytest.param("31/02/2026", None, id="impossible-day"),
    pytest.param("15 brumaire 2026", None, id="not-a-month"),
    pytest.param("le 15 décembre 2026", None, id="not-only-a-date"),
    pytest.param("", None, id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), DATES)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text, around=TODAY) == expected


def test_a_date_without_its_year_needs_a_reference_day() -> None:
    assert parse_date("1er juillet") is None


EVENTS = [
    pytest.param(
        "Examen en séance publique le mardi 15 décembre 2026",
        ("Examen en séance publique", "15/12/2026"),
        id="senat-sitting",
    ),
    pytest.param(
        "Première lecture - Sénat : Texte modifié par le Sénat le 11 juin 2019",
        ("Texte modifié par le Sénat", "11/06/2019"),
        id="senat-dossier-step",
    ),
    pytest.param(
        "Ordre du jour du 19/07/2026",
        ("Ordre du jour", "19/07/2026"),
        id="agenda",
    ),
    pytest.param(
        "Projet de loi déposé. Vote solennel prévu le 1er juillet.",
        ("Vote solennel", "01/07/2026"),
        id="vote-no-year",
    ),
    pytest.param(
        "Texte de Mme Agnès BUZYN, ministre, déposé à l'Assemblée nationale le 13 février 2019",
        ("Déposé à l'Assemblée nationale", "13/02/2019"),
        id="last-part-of-a-long-clause",
    ),
    pytest.param("(18 décembre 2018)", ("", "18/12/2018"), id="date-in-brackets"),
    pytest.param("15/12/2026", ("", "15/12/2026"), id="date-alone"),
]


@pytest.mark.parametrize(("text", "expected"), EVENTS)
def test_find_event(text: str, expected: tuple[str, str]) -> None:
    event = find_event(text, around=TODAY)
    assert event is not None
    assert (event.label, day_text(event.at)) == expected


def test_text_without_dates_has_no_event() -> None:
    assert find_event("Rapport n° 212 sur le projet de loi", around=TODAY) is None
    assert find_dates("article 10 de la loi n° 2023-380", around=TODAY) == []


EPOCHS = [
    pytest.param(1711321200, datetime(2024, 3, 24, 23, 0, tzinfo=UTC), id="a-council-midnight"),
    pytest.param(253402297200, LATEST, id="9999-12-31-sentinel"),
    pytest.param(1e20, LATEST, id="past-year-9999"),
    pytest.param(float("inf"), LATEST, id="infinity"),
    pytest.param(-1e20, EARLIEST, id="before-year-1"),
    pytest.param(-62135596800, EARLIEST, id="year-1"),
    pytest.param(float("nan"), EARLIEST, id="nan"),
]


@pytest.mark.parametrize(("seconds", "expected"), EPOCHS)
def test_an_epoch_is_a_date_within_range_whatever_its_value(
    seconds: float, expected: datetime
) -> None:
    assert from_epoch(seconds) == expected


def test_a_moment_past_year_9999_in_paris_is_shown_at_the_latest_bound() -> None:
    end_of_time = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)  # 10000-01-01 in Paris
    assert in_paris(end_of_time) == LATEST
    assert day_text(end_of_time) == "01/01/2200"
    assert day_text(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == "01/01/1900"
    assert day_text(datetime(2026, 12, 15, 23, 30, tzinfo=UTC)) == "16/12/2026"
