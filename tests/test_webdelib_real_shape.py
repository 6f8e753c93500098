"""WebDélib+ as real portals answer: act rows, and ``openfile.jsp`` leading to ``showFile.jsp``.

No real WebDélib+ page is recorded in ../shared/fixtures/real (see regions/PROVENANCE.md).
The shapes below are rebuilt from a public reader of the Lyon, Béziers and Levallois
portals, mml-studio/declassifie:
- src/data/permitListsFeed.js, ``parseWebdelibActs``: each act is a ``td.tableActe``
  cell, the subject before a link that says what the file is, then
  ``- (sans annexe)`` and two date cells (the cell is left unclosed);
- src/data/permitListsFeed.js, ``webdelibFileUrl``, and scripts/lib/permitLists.test.mjs
  (the fake host): ``openfile.jsp`` answers
  ``<script>document.location.href='../jsp/showFile.jsp?pdf=…';</script>`` and
  ``showFile.jsp`` serves the PDF.
"""

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import run, write_config
from tests.feed_server import FeedServer, Route, Seen
from tests.pdfs import text_pdf

JSP = "/webdelibplus/jsp"
SITTING = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")).date() + timedelta(days=8)
DAY = SITTING.strftime("%d/%m/%Y")
SUBJECT = "Expérimentation d'un dispositif de sécurisation des entrées des lycées"

# The list of sittings, as the Limoges scraper reads it (tests/fixtures/webdelib_portal.html).
LISTING = (
    f"<table><tr><td>Assemblée plénière</td><td>{DAY}</td>"
    f'<td><a href="seance_agenda.jsp?date={SITTING:%d-%m-%Y}&amp;role=usager">'
    "Délibérations</a></td></tr></table>"
)


def act_row(subject: str, link: str, token: str) -> str:
    """One ``tableActe`` row in the shape ``parseWebdelibActs`` reads (see the docstring)."""
    return (
        '<tr style="width:100%"><td style="width:10%"></td>'
        f'<td class="tableActe" style="width:60%">{subject} - '
        f'<a href="../jsp/openfile.jsp?datePub={DAY}&amp;name=Acte n° &amp;pdf={token}" '
        f'target="_blank">{link}</a> - (sans annexe)'
        f'<td style="width:15%">{DAY}</td><td style="width:15%">03/12/2026</td><td></td></tr>'
    )


class Portal:
    def __init__(self, server: FeedServer, showfile_host: str | None = None) -> None:
        self.server = server
        self.rows: list[str] = []
        self.files: dict[str, bytes] = {}
        self.showfile_host = showfile_host

    def start(self) -> str:
        self.server.serve(f"{JSP}/seances.jsp", LISTING.encode(), content_type="text/html")
        self.server.handle(f"{JSP}/seance_agenda.jsp", self._sitting)
        self.server.handle(f"{JSP}/openfile.jsp", self._open)
        self.server.handle(f"{JSP}/showFile.jsp", self._show)
        return self.server.url(f"{JSP}/seances.jsp?role=usager")

    def add(self, subject: str, link: str, token: str, pdf: bytes) -> None:
        self.rows.append(act_row(subject, link, token))
        self.files[token] = pdf

    def _sitting(self, request: Seen) -> Route:
        page = f"<h1>Assemblée plénière du {DAY}</h1><table>{''.join(self.rows)}</table>"
        return Route(page.encode(), content_type="text/html", etag=False)

    def _open(self, request: Seen) -> Route:
        token = parse_qs(urlsplit(request.path).query)["pdf"][0]
        where = f"http://{self.showfile_host}{JSP}/" if self.showfile_host else "../jsp/"
        script = f"<script>document.location.href='{where}showFile.jsp?pdf={token}';</script>"
        return Route(f"<html><body>{script}</body></html>".encode(), content_type="text/html")

    def _show(self, request: Seen) -> Route:
        token = parse_qs(urlsplit(request.path).query)["pdf"][0]
        return Route(self.files[token], content_type="application/pdf", etag=False)


def _config(workdir: Path, url: str) -> None:
    write_config(
        workdir,
        [
            {
                "id": "aura",
                "name": "Région Auvergne-Rhône-Alpes",
                "kind": "webdelib",
                "url": f"'{url}'",
            }
        ],
    )


def test_an_act_is_read_through_showfile_and_stays_apart_from_its_report(
    feed_server: FeedServer, workdir: Path
) -> None:
    portal = Portal(feed_server)
    portal.add(SUBJECT, "Rapport", "R1", text_pdf("Rapport du président.", "Sécurité."))
    _config(workdir, portal.start())
    assert run("poll").code == 0  # the backlog: the report is noted

    # The act adopting it comes later, under its report's very title; its text
    # (behind openfile.jsp -> showFile.jsp) is where the words are.
    portal.add(
        SUBJECT,
        "Délibération",
        "D1",
        text_pdf("Article 1 : expérimentation de la reconnaissance faciale", "aux entrées."),
    )
    result = run("poll")

    assert result.code == 0, result.err
    assert f"Délibération : {SUBJECT}" in result.out
    assert "«reconnaissance faciale»" in result.out
    assert "sans annexe" not in result.out and "03/12/2026" not in result.out
    assert "a scanned PDF" not in result.err
    assert len(feed_server.hits(f"{JSP}/showFile.jsp")) == 1
    db = sqlite3.connect(workdir / "watcher.db")
    rows = dict(db.execute("SELECT title, kind FROM items"))
    assert rows == {f"Rapport : {SUBJECT}": "rapport", f"Délibération : {SUBJECT}": "délibération"}


def test_a_showfile_address_on_another_host_is_not_followed(
    feed_server: FeedServer, workdir: Path
) -> None:
    portal = Portal(feed_server, showfile_host="elsewhere.example")
    _config(workdir, portal.start())
    assert run("poll").code == 0
    portal.add(SUBJECT, "Délibération", "D1", text_pdf("reconnaissance faciale"))

    result = run("poll")

    assert result.code == 0, result.err
    assert "leads to another host (elsewhere.example); not followed" in result.err
    assert result.out == ""  # matched on its title only, which lacks the words
    assert feed_server.hits(f"{JSP}/showFile.jsp") == []


@pytest.mark.parametrize(
    ("row", "title"),
    [
        pytest.param(
            act_row("Aide aux clubs sportifs", "Rapport", "X"),
            "Rapport : Aide aux clubs sportifs",
            id="subject-before-a-rapport-link",
        ),
        pytest.param(
            '<tr><td></td><td class="tableActe"><a href="../jsp/openfile.jsp?pdf=Y">'
            "Convention relative à la vidéoprotection des gares régionales</a> - (sans annexe)"
            "<td>15/12/2026</td><td>03/12/2026</td></tr>",
            "Convention relative à la vidéoprotection des gares régionales",
            id="subject-as-the-link",
        ),
    ],
)
def test_act_titles_lose_the_row_noise(row: str, title: str) -> None:
    from watcher.sources.webdelib_pages import parse_sitting

    [document] = parse_sitting(f"<table>{row}</table>", f"https://x.example{JSP}/seance_agenda.jsp")
    assert document.title == title


def test_a_portal_page_with_no_sitting_fails_the_poll(
    feed_server: FeedServer, workdir: Path
) -> None:
    # A portal that moved answers 200 with its home page: no sitting on it.
    url = feed_server.serve(
        f"{JSP}/seances.jsp",
        "<html><body><a href='accueil.jsp'>Accueil</a></body></html>",
        content_type="text/html",
    )
    _config(workdir, url)

    result = run("poll")

    assert "no sitting on the page" in result.err and "1 failed" in result.err
