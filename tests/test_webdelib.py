"""WebDélib+ portals: sittings, their documents, and sittings re-read while they can change."""

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from string import Template
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import FIXTURES, run, write_config
from tests.feed_server import FeedServer, Route, Seen
from tests.pdfs import text_pdf
from watcher.sources.webdelib import act_dossier
from watcher.sources.webdelib_pages import parse_sitting, parse_sittings

JSP = "/webdelibplus/jsp"
TODAY = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")).date()
FUTURE = TODAY + timedelta(days=10)
RECENT = TODAY - timedelta(days=5)
OLD = TODAY - timedelta(days=90)


def _paris_day(stored: str) -> str:
    return datetime.fromisoformat(stored).astimezone(ZoneInfo("Europe/Paris")).date().isoformat()


def _template(name: str) -> Template:
    return Template((FIXTURES / name).read_bytes().decode("latin-1"))


@dataclass
class Act:
    number: str
    subject: str
    pdf: bytes


@dataclass
class Portal:
    """A WebDélib+ portal as the Limoges scraper sees one: list, sitting pages, openfile.jsp."""

    server: FeedServer
    acts: dict[date, list[Act]] = field(default_factory=dict)
    agendas: dict[str, bytes] = field(default_factory=dict)

    def start(self) -> str:
        days = {"future": FUTURE, "recent": RECENT, "old": OLD}
        values = {f"{k}_slash": d.strftime("%d/%m/%Y") for k, d in days.items()}
        values |= {f"{k}_dash": d.strftime("%d-%m-%Y") for k, d in days.items()}
        listing = _template("webdelib_portal.html").substitute(values).encode("latin-1")
        self.server.serve(f"{JSP}/seances.jsp", listing, content_type="text/html")
        self.server.handle(f"{JSP}/seance_agenda.jsp", self._sitting)
        self.server.handle(f"{JSP}/openfile.jsp", self._file)
        for agenda_id in ("9001", "8001", "7001"):
            self.agendas[agenda_id] = text_pdf("Ordre du jour", "1. Budget. 2. Lycées.")
        return self.server.url(f"{JSP}/seances.jsp?role=usager")

    def _sitting(self, request: Seen) -> Route:
        value = parse_qs(urlsplit(request.path).query)["date"][0]
        day = datetime.strptime(value, "%d-%m-%Y").date()
        agenda_id = {FUTURE: "9001", RECENT: "8001", OLD: "7001"}[day]
        rows = "".join(
            _template("webdelib_row.html").substitute(
                number=act.number, subject=act.subject, id=act.number.replace("-", "")
            )
            for act in self.acts.get(day, [])
        )
        page = _template("webdelib_sitting.html").substitute(
            day_slash=day.strftime("%d/%m/%Y"),
            assembly="Assemblée plénière" if day == FUTURE else "Commission permanente",
            agenda_id=agenda_id,
            rows=rows,
        )
        return Route(page.encode("latin-1"), content_type="text/html", etag=False)

    def _file(self, request: Seen) -> Route:
        file_id = parse_qs(urlsplit(request.path).query)["id"][0]
        pdfs = {a.number.replace("-", ""): a.pdf for acts in self.acts.values() for a in acts}
        body = {**self.agendas, **pdfs}.get(file_id)
        if body is None:
            return Route(b"not found", status=404, content_type="text/plain")
        return Route(body, content_type="application/pdf", etag=False)

    def hits(self, day: date) -> int:
        wanted = day.strftime("%d-%m-%Y")
        return sum(wanted in r.path for r in self.server.hits(f"{JSP}/seance_agenda.jsp"))

    def pdf_hits(self) -> int:
        return len(self.server.hits(f"{JSP}/openfile.jsp"))


@pytest.fixture
def portal(feed_server: FeedServer) -> Portal:
    portal = Portal(feed_server)
    portal.acts[FUTURE] = [Act("2026-07-1", "Budget supplémentaire", text_pdf("Budget."))]
    portal.acts[RECENT] = [Act("2026-06-4", "Aide aux clubs sportifs", text_pdf("Sport."))]
    portal.acts[OLD] = [Act("2026-01-9", "Transports scolaires", text_pdf("Cars."))]
    return portal


def _config(workdir: Path, url: str, **extra: str) -> None:
    write_config(
        workdir,
        [
            {
                "id": "aura",
                "name": "Région Auvergne-Rhône-Alpes",
                "kind": "webdelib",
                "url": f"'{url}'",
                "territory": "Auvergne-Rhône-Alpes",
                **extra,
            }
        ],
    )


def test_an_act_added_to_a_coming_sitting_alerts_once_with_the_sitting_date(
    portal: Portal, workdir: Path
) -> None:
    _config(workdir, portal.start())

    first = run("poll")
    assert first.code == 0, first.err
    assert first.out == ""  # the backlog is noted, not alerted
    assert portal.pdf_hits() == 0  # and its documents are not downloaded

    # Days before the plenary, the draft deliberation appears on the sitting page.
    portal.acts[FUTURE].append(
        Act(
            "2026-07-2",
            "Sécurité des lycées : convention d'expérimentation",
            text_pdf("Article 1 : expérimentation de la reconnaissance faciale", "aux entrées."),
        )
    )
    second = run("poll")

    assert second.code == 0, second.err
    day = FUTURE.strftime("%d/%m/%Y")
    # The sitting to come is said first: it is the early warning.
    assert second.out.startswith(f"⏰ Vote en séance plénière prévu le {day}, dans 10 jours\n")
    assert (
        f"Région Auvergne-Rhône-Alpes · Auvergne-Rhône-Alpes · délibération · {day}" in second.out
    )
    assert "Acte n° 2026-07-2 : Sécurité des lycées : convention d'expérimentation" in second.out
    assert "«reconnaissance faciale»" in second.out
    assert second.out.count("Mots-clés") == 1
    assert portal.pdf_hits() == 1  # only the new act's PDF

    third = run("poll")
    assert third.code == 0, third.err
    assert third.out == ""
    assert portal.pdf_hits() == 1
    assert portal.hits(FUTURE) == 3  # the coming sitting is read at every poll


def test_agendas_and_acts_are_items_navigation_links_never(portal: Portal, workdir: Path) -> None:
    _config(workdir, portal.start(), backfill="true")

    result = run("poll")

    assert result.code == 0, result.err
    db = sqlite3.connect(workdir / "watcher.db")
    rows = db.execute("SELECT title, url, kind, event, event_at, dossier FROM items").fetchall()
    assert all("/openfile.jsp?" in url for _, url, *_ in rows)
    titles = {title for title, *_ in rows}
    assert titles == {
        # An act's subject, beside its link in the sitting's table, completes its title.
        "Acte n° 2026-01-9 : Transports scolaires",
        "Acte n° 2026-06-4 : Aide aux clubs sportifs",
        "Acte n° 2026-07-1 : Budget supplémentaire",
        f"Ordre du jour du {OLD.strftime('%d/%m/%Y')}",
        f"Ordre du jour du {RECENT.strftime('%d/%m/%Y')}",
        f"Ordre du jour du {FUTURE.strftime('%d/%m/%Y')}",
    }
    events = {
        title: (event, _paris_day(event_at), dossier)
        for title, _, _, event, event_at, dossier in rows
    }
    # An act is a dossier of its own (``act_dossier``); an agenda belongs to its sitting.
    assert events["Acte n° 2026-06-4 : Aide aux clubs sportifs"][:2] == (
        "Vote en commission permanente",
        RECENT.isoformat(),
    )
    assert events["Acte n° 2026-06-4 : Aide aux clubs sportifs"][2] == act_dossier(
        "aura", "Acte n° 2026-06-4 : Aide aux clubs sportifs", RECENT
    )
    assert events[f"Ordre du jour du {RECENT.strftime('%d/%m/%Y')}"][2] == (
        f"aura:{RECENT.isoformat()}"
    )
    kinds = {title: kind for title, _, kind, *_ in rows}
    assert kinds[f"Ordre du jour du {FUTURE.strftime('%d/%m/%Y')}"] == "ordre du jour"


def test_old_sittings_are_not_read_again(portal: Portal, workdir: Path) -> None:
    _config(workdir, portal.start(), backfill="true", recheck_days="30")

    assert run("poll").code == 0
    assert (portal.hits(OLD), portal.hits(RECENT), portal.hits(FUTURE)) == (1, 1, 1)
    assert run("poll").code == 0
    assert run("poll").code == 0

    assert (portal.hits(OLD), portal.hits(RECENT), portal.hits(FUTURE)) == (1, 3, 3)


def test_first_poll_without_backfill_does_not_read_old_sittings(
    portal: Portal, workdir: Path
) -> None:
    _config(workdir, portal.start())
    assert run("poll").code == 0
    assert run("poll").code == 0
    assert portal.hits(OLD) == 0
    assert portal.hits(RECENT) == 2


def test_recheck_days_is_validated(workdir: Path) -> None:
    _config(workdir, "https://x.example/webdelibplus/jsp/seances.jsp", recheck_days="-1")
    result = run("validate")
    assert result.code == 1
    assert result.err.strip() == (
        "watcher: feeds.yml: sources[aura].recheck_days: -1 must be a whole number from 0 to 366"
    )


def test_a_sitting_page_that_fails_is_a_warning_and_is_tried_again(
    portal: Portal, workdir: Path
) -> None:
    url = portal.start()
    _config(workdir, url, backfill="true")
    working = portal.server.handlers[f"{JSP}/seance_agenda.jsp"]
    portal.server.handle(
        f"{JSP}/seance_agenda.jsp",
        lambda request: (
            Route(b"gone", status=404, content_type="text/plain")
            if OLD.strftime("%d-%m-%Y") in request.path
            else working(request)
        ),
    )

    first = run("poll")

    assert first.code == 0, first.err
    assert f"sitting of {OLD.strftime('%d/%m/%Y')}: HTTP 404 Not Found from" in first.err
    db = sqlite3.connect(workdir / "watcher.db")
    titles = {title for (title,) in db.execute("SELECT title FROM items")}
    assert "Acte n° 2026-06-4 : Aide aux clubs sportifs" in titles  # the others are read
    assert f"Ordre du jour du {OLD.strftime('%d/%m/%Y')}" in titles  # linked from the list

    portal.server.handle(f"{JSP}/seance_agenda.jsp", working)
    second = run("poll")
    assert second.code == 0, second.err
    assert portal.hits(OLD) == 2  # not settled until it was read
    titles = {title for (title,) in db.execute("SELECT title FROM items")}
    assert "Acte n° 2026-01-9 : Transports scolaires" in titles


SHAPES = [
    pytest.param(
        '<a href="seance_agenda.jsp?date=27-03-2026">Délibérations</a>',
        date(2026, 3, 27),
        "séance",
        id="limoges-date-dash",
    ),
    pytest.param(
        '<a href="/webdelibplus/jsp/seance_agenda.jsp?assembly=Conseil+communautaire'
        '&date=20250410&role=usager&type=apres">Séance</a>',
        date(2025, 4, 10),
        "séance",
        id="compact-date-and-assembly",
    ),
    pytest.param(
        "<tr><td>Séance plénière du 19 juillet 2021</td>"
        '<td><a href="seance_agenda.jsp?id=812">Voir</a></td></tr>',
        date(2021, 7, 19),
        "séance plénière",
        id="date-in-the-row-text",
    ),
]


@pytest.mark.parametrize(("html", "day", "label"), SHAPES)
def test_sitting_link_shapes(html: str, day: date, label: str) -> None:
    sittings = parse_sittings(f"<table>{html}</table>", "https://portail.example/webdelibplus/jsp/")
    assert [(s.day, s.label) for s in sittings] == [(day, label)]
    assert sittings[0].url is not None and "seance_agenda.jsp" in sittings[0].url


def test_an_agenda_listed_without_a_sitting_page_is_still_a_sitting() -> None:
    html = '<a href="openfile.jsp?id=1&name=Ordre du jour du 19/07/2021">Ordre du jour du 19/07/2021</a>'
    [sitting] = parse_sittings(html, "https://edelib.example/webdelibplus/jsp/seances.jsp")
    assert sitting.day == date(2021, 7, 19) and sitting.url is None
    assert [d.title for d in sitting.documents] == ["Ordre du jour du 19/07/2021"]


def test_document_title_comes_from_the_name_parameter_when_the_link_says_little() -> None:
    html = '<a href="openfile.jsp?id=3&name=Acte%20n%C2%B0%202026-03-27-3">PDF</a>'
    [document] = parse_sitting(html, "https://limoges.example/webdelibplus/jsp/seance_agenda.jsp")
    assert document.title == "Acte n° 2026-03-27-3"


# A plenary's page as the AuRA portal lays one out: the act's number in one cell, its subject
# as the link to its PDF (../shared/replay/payloads.py ``wd_sitting``, rebuilt from the real
# portal); the report is listed before the vote, the deliberation that adopts it after.
SUBJECT = "Sécurité des lycées : convention d'expérimentation"
ROW = '<tr><td>{name}</td><td><a href="openfile.jsp?id={id}&amp;name={name}">{label}</a></td></tr>'


def plenary(rows: list[tuple[str, str, str]]) -> bytes:
    cells = "".join(ROW.format(id=i, name=name, label=label) for i, name, label in rows)
    return (
        "<html><body><h1>Séance du {day} - Assemblée plénière</h1>"
        f'<table class="documents">{cells}</table></body></html>'
    ).encode()


def test_a_council_report_and_its_deliberation_are_one_dossier(
    feed_server: FeedServer, workdir: Path
) -> None:
    """The report matches and is followed; the deliberation adopting it (same subject,
    its own number) is its follow-up; the sitting's other documents are not."""
    day = RECENT.strftime("%d/%m/%Y")
    listing = (
        f'<html><body><table><tr><td>{day}</td><td>Assemblée plénière</td><td><a href="'
        f'seance_agenda.jsp?date={RECENT.strftime("%d-%m-%Y")}">Délibérations</a></td></tr>'
        "</table></body></html>"
    ).encode()
    feed_server.serve(f"{JSP}/seances.jsp", listing, content_type="text/html")
    pdfs = {
        "11": text_pdf("Rapport du président", "expérimentation de la reconnaissance faciale"),
        "12": text_pdf("Rapport du président", "Budget supplémentaire de l'exercice."),
        "21": text_pdf("Délibération", "La convention est approuvée."),
        "22": text_pdf("Délibération", "Le budget est adopté."),
    }
    feed_server.handle(
        f"{JSP}/openfile.jsp",
        lambda seen: Route(
            pdfs[parse_qs(urlsplit(seen.path).query)["id"][0]], content_type="application/pdf"
        ),
    )
    sitting = f"{JSP}/seance_agenda.jsp"
    feed_server.serve(sitting, plenary([]), content_type="text/html")
    _config(workdir, feed_server.url(f"{JSP}/seances.jsp?role=usager"))
    assert run("poll").code == 0  # the backlog

    reports = [
        ("11", "Rapport n° 2021-07-123", SUBJECT),
        ("12", "Rapport n° 2021-07-124", "Budget supplémentaire 2021"),
    ]
    feed_server.serve(sitting, plenary(reports), content_type="text/html")
    before = run("poll")
    assert before.code == 0, before.err
    # The report, with its sitting's date.
    assert f"Vote en séance plénière le {day}" in before.out
    assert before.out.count("Mots-clés") == 1 and SUBJECT in before.out

    deliberations = [
        ("21", "Délibération n° 2021-07-4456", SUBJECT),
        ("22", "Délibération n° 2021-07-4457", "Budget supplémentaire 2021"),
    ]
    feed_server.serve(sitting, plenary(reports + deliberations), content_type="text/html")
    after = run("poll")

    assert after.code == 0, after.err
    assert after.out.splitlines()[0] == (
        f"🔁 Suite du dossier : Délibération adoptée (n° 2021-07-4456) · {day}"
    )
    assert "Budget" not in after.out  # another act of the sitting: not a follow-up
    assert run("poll").out == ""
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM dossiers").fetchone() == (1,)
