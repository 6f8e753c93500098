"""Prefecture RAAs (``kind: raa``) through ``watcher poll``, on a local prefecture site."""

import itertools
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import REAL, needs_real, run
from tests.raa_pdfs import RaaAct, raa_pdf
from tests.raa_site import MONTHS, PrefectureSite, Raa
from watcher.sources import pdfpages

SHIPPED = Path(__file__).resolve().parents[1] / "feeds.yml"
PAUSE = 0.1  # seconds between two requests to the local host (5 s on the internet)
needs_ocr = pytest.mark.skipif(pdfpages.ocr_problem() is not None, reason="no Tesseract here")

CCTV = RaaAct(
    "01-2026-12-03-00001",
    "Arrêté portant autorisation d'un système de vidéoprotection",
    ("Le système de vidéoprotection du magasin Exemple est autorisé.", "Cinq caméras."),
)
# A sommaire that names the act only by its reference: the words are on the scan.
DRONES = RaaAct(
    "01-2026-12-03-00002",
    "AP 2026 CAB BSIR 1730",
    (
        "Arrêté n° 2026-CAB-1730 autorisant la captation, l'enregistrement et la",
        "transmission d'images au moyen de caméras installées",
        "sur des aéronefs sur la commune de Bourg-en-Bresse",
        "du mercredi 9 décembre 2026 à 10h00",
        "au samedi 12 décembre 2026 à 23h59.",
    ),
    scanned=True,
)
VSA = RaaAct(
    "01-2026-12-04-00001",
    "Arrêté n° 2026-01200 portant autorisation de l'emploi d'un traitement algorithmique",
    (
        "Est autorisé l'emploi d'un traitement algorithmique des images issues du système",
        "de vidéoprotection du stade, sur la commune de Lyon,",
        "du vendredi 18 décembre 2026 à 18h00 au samedi 19 décembre 2026 à 01h00.",
    ),
)


def _shipped_head() -> str:
    """The shipped file up to its sources, its settings opened to the local test site."""
    head = SHIPPED.read_text(encoding="utf-8").split("\nsources:\n", 1)[0]
    return head.replace("\nsettings:\n", "\nsettings:\n  allow_private_addresses: true\n", 1)


def _config(directory: Path, *sites: PrefectureSite, **options: str) -> None:
    """The shipped topics, and one ``kind: raa`` source per site."""
    topics = _shipped_head()
    lines = ["sources:"]
    for number, site in enumerate(sites, start=1):
        lines += [
            f"  - id: pref-{number:02d}",
            f"    name: Préfecture {number:02d}",
            "    kind: raa",
            f"    url: {site.root}",
            f"    territory: Département {number:02d}",
            f"    pause: {PAUSE}",
            *[f"    {key}: {value}" for key, value in options.items()],
        ]
    (directory / "feeds.yml").write_text(
        topics + "\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )


@pytest.fixture
def site(feed_server: object) -> PrefectureSite:
    site = PrefectureSite(feed_server, "/p01")  # type: ignore[arg-type]
    site.start()
    return site


def _old(site: PrefectureSite) -> Raa:
    raa = Raa("recueil-01-2026-340", raa_pdf("01-2026-340", [CCTV]), site.today)
    site.publish(raa)
    return raa


@needs_ocr
def test_a_new_raa_alerts_once_per_matching_act_with_its_window(
    site: PrefectureSite, workdir: Path
) -> None:
    old = _old(site)
    _config(workdir, site)

    first = run("poll")
    assert first.code == 0, first.err
    assert first.out == ""  # what the site held is noted, not alerted
    assert site.pdf_hits(old) == 0  # nor downloaded

    new = Raa("recueil-01-2026-350", raa_pdf("01-2026-350", [CCTV, DRONES, VSA]), site.today)
    site.publish(new)
    second = run("poll")

    assert second.code == 0, second.err
    alerts = second.out.strip().split("\n\n")
    assert len(alerts) == 2, second.out  # the drone and VSA acts; the plain cameras nothing
    drones = next(a for a in alerts if "01-2026-12-03-00002" in a)
    assert drones.startswith(
        "🚁 Drones autorisés du 09/12/2026 10:00 au 12/12/2026 23:59 — Bourg-en-Bresse\n"
    )
    assert "Préfecture 01 · Département 01 · acte" in drones
    assert "01-2026-12-03-00002 - AP 2026 CAB BSIR 1730" in drones  # number and title
    assert "Drones et caméras aéroportées" in drones
    assert f"{site.server.url('')}" in drones and ".pdf#page=5" in drones
    vsa = next(a for a in alerts if "01-2026-12-04-00001" in a)
    assert vsa.startswith("📹 Traitement algorithmique autorisé du 18/12/2026 18:00 au ")
    assert "— Lyon" in vsa.splitlines()[0]
    assert "«traitement algorithmique des images»" in vsa
    assert site.pdf_hits(new) == 1

    third = run("poll")
    assert third.code == 0, third.err
    assert third.out == ""
    assert site.pdf_hits(new) == 1  # never downloaded twice
    assert site.pdf_hits(old) == 0


def test_only_the_current_period_is_walked_and_menus_are_not_items(
    site: PrefectureSite, workdir: Path
) -> None:
    _old(site)
    _config(workdir, site)
    assert run("poll").code == 0
    site.publish(Raa("recueil-01-2026-351", raa_pdf("01-2026-351", [CCTV]), site.today))
    result = run("poll")

    assert result.code == 0, result.err
    assert result.out == ""  # a plain CCTV authorisation is no topic
    two_months_ago = (site.today.replace(day=1) - timedelta(days=40)).month
    assert not site.hits(f"/{_month_name(two_months_ago)}")  # the archive is never walked
    assert not site.hits("Archives") and not site.hits("Mentions")
    # The first poll walked from the root; the second read the month page it found.
    assert len(site.hits(f"/{_month_name(site.today.month)}")) >= 2
    status = run("status")
    assert "pref-01" in status.out


def test_requests_to_one_host_wait_their_turn_whichever_source_asks(
    feed_server: object, workdir: Path
) -> None:
    first = PrefectureSite(feed_server, "/p01")  # type: ignore[arg-type]
    second = PrefectureSite(feed_server, "/p02")  # type: ignore[arg-type]
    for site in (first, second):
        site.start()
        _old(site)
    _config(workdir, first, second)  # polled at once (concurrency 4), one host

    assert run("poll").code == 0
    times = sorted(first.times + second.times, key=lambda t: t[1])
    assert len(times) >= 6
    for (_, _, ended), (_, started, _) in itertools.pairwise(times):
        assert started >= ended + PAUSE * 0.99  # one at a time, the pause between


def test_the_same_arrete_in_two_raas_is_one_alert(feed_server: object, workdir: Path) -> None:
    # The Préfecture de police's arrêtés come again in the RAAs of 75, 92, 93, 94, 77,
    # each with the publishing prefecture's act id but the same number and date.
    sites = [PrefectureSite(feed_server, f"/p0{n}") for n in (1, 2)]  # type: ignore[arg-type]
    for site in sites:
        site.start()
        _old(site)
    _config(workdir, *sites)
    assert run("poll").code == 0
    for number, site in enumerate(sites, start=1):
        act = RaaAct(
            f"0{number}-2026-12-04-00001", VSA.title, VSA.body, service="PREFECTURE DE POLICE"
        )
        site.publish(Raa(f"recueil-0{number}-2026-360", raa_pdf("360", [act]), site.today))

    result = run("poll")

    assert result.code == 0, result.err
    assert result.out.count("📹 Traitement algorithmique autorisé") == 1


def test_an_ascending_list_is_read_from_its_last_page_and_detail_pages_once(
    feed_server: object, workdir: Path
) -> None:
    site = PrefectureSite(feed_server, "/p02", shape="ascending")  # type: ignore[arg-type]
    site.start()
    early = site.today.replace(day=1)
    for n in range(5):  # January's RAAs fill the first pages
        site.publish(Raa(f"RAA_02-{site.today.year}-00{n}", raa_pdf(str(n), [CCTV]), early))
    _config(workdir, site, order="ascending")
    assert run("poll").code == 0
    assert not site.hits("/(offset)/0") and not site.hits("/(offset)/2")  # old pages: never
    new = Raa(f"RAA_02-{site.today.year}-010", raa_pdf("010", [VSA]), site.today)
    site.publish(new)

    result = run("poll")
    again = run("poll")

    assert result.code == 0, result.err
    assert result.out.startswith("📹 Traitement algorithmique autorisé du 18/12/2026 18:00")
    assert again.out == ""
    assert len(site.hits(f"/Publications/RAA/{new.name}")) == 1  # its detail page, once
    assert site.pdf_hits(new) == 1


def test_without_ocr_one_warning_and_the_text_layer_is_still_read(
    site: PrefectureSite, workdir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    pdfpages.ocr_problem.cache_clear()
    try:
        _old(site)
        _config(workdir, site)
        first = run("poll")
        site.publish(Raa("recueil-01-2026-352", raa_pdf("352", [DRONES, VSA]), site.today))
        second = run("poll")
        status = run("status")
    finally:
        pdfpages.ocr_problem.cache_clear()

    assert first.err.count("OCR is not installed") == 1
    assert "install tesseract-ocr and tesseract-ocr-fra" in first.err
    assert second.out.count("📹") == 1 and "🚁" not in second.out  # the scan is unread
    assert "warning: OCR is not installed" in status.out


def _month_name(month: int) -> str:
    from tests.raa_site import SLUGS

    return SLUGS[month - 1]


# -- the real RAAs and listing pages -----------------------------------------------------

RAA_DIR = REAL / "raa"


@needs_real
def test_real_raas_are_cut_into_their_acts_and_only_the_drone_act_matches() -> None:
    from watcher.config import load_config
    from watcher.matching.engine import Matcher
    from watcher.sources.raa_acts import find_place, find_window, split_acts

    matcher = Matcher(load_config(SHIPPED).topics)
    found = {}
    for name, count in (
        ("seine-et-marne_RAA_D77-29-07-2024.pdf", 5),
        ("var_RAA_N242_du_15_juillet_2025.pdf", 17),
        ("val-de-marne_RAA_no08_du_17_janvier_2025.pdf", 0),  # no generated sommaire
    ):
        pages = pdfpages.read_pages(
            (RAA_DIR / name).read_bytes(), cache_dir=None, budget=pdfpages.OcrBudget(0)
        )
        acts = pdfpages_acts = split_acts(pages.texts)
        assert len(pdfpages_acts) == count, name
        for act in acts:
            for match in matcher.match([act.title, "", act.text]):
                found[act.act_id] = (match.topic, act)
    assert list(found) == ["D77-2024-07-25-00003"]  # the helicopters of the Olympics
    topic, act = found["D77-2024-07-25-00003"]
    assert topic == "drones"
    assert act.number == "2024-01101" and act.service == "PREFECTURE DE POLICE DE PARIS"
    window = find_window(act.text)
    assert window is not None and window.label() == "du 26/07/2024 00:00 au 12/08/2024 08:00"
    assert find_place(act.text) == "Paris"


@needs_real
def test_the_window_of_a_real_ocr_text() -> None:
    from watcher.sources.raa_acts import find_place, find_window

    # Attrap's OCR of Var RAA 83-2025-082: a flight the same day, 14:30-20:00.
    text = (RAA_DIR / "var_RAA_N82_19-03-2025_attrap-ocr-text.txt").read_text(encoding="utf-8")
    window = find_window(text)
    assert window is not None and window.label() == "du 19/03/2025 14:30 au 19/03/2025 20:00"
    assert find_place(text) == "Hyères"


@needs_real
@pytest.mark.parametrize(
    ("page", "documents", "cards", "details", "pager"),
    [
        ("ain_01_mois-aout-2026", 2, 0, 0, None),
        ("aisne_02_annee-2026_page1", 0, 0, 1, "last"),
        ("aisne_02_detail-011", 1, 0, 0, None),
        ("hautes-alpes_05_racine", 0, 2, 0, None),
        ("morbihan_56_Annee-2026", 2, 0, 0, "next"),
        ("paris_75_prefectures-regions_aout", 2, 0, 0, None),
    ],
)
def test_real_listing_shapes(
    page: str, documents: int, cards: int, details: int, pager: str | None
) -> None:
    from watcher.sources.raa_listing import ENTRIES, NAVIGATION, parse_listing

    html = (RAA_DIR / "reconstructed" / f"{page}.reconstructed.html").read_text(encoding="utf-8")
    listing = parse_listing(
        html, "https://www.x.gouv.fr/Publications/RAA", navigation=NAVIGATION, entries=ENTRIES
    )
    assert (len(listing.documents), len(listing.navigation), len(listing.details)) == (
        documents,
        cards,
        details,
    )
    if pager:
        assert getattr(listing, f"{pager}_url")
    if page.startswith("ain"):
        first = listing.documents[0]
        assert first.detail == "PDF - 0,64 Mb - 13/08/2026" and first.day == date(2026, 8, 13)


@pytest.mark.parametrize(
    ("title", "months"),
    [
        ("RAA 2026", (2026, 1, 12)),
        ("Année 2026", (2026, 1, 12)),
        ("08-AOUT", (2026, 8, 8)),
        ("Août 2026", (2026, 8, 8)),
        ("1er trimestre 2026", (2026, 1, 3)),
        ("2ème semestre 2025", (2025, 7, 12)),
        ("RAA_Janvier_02-2026-001", None),  # a detail page, not a period
        ("Archives", None),
        ("Mentions légales", None),
    ],
)
def test_period_cards(title: str, months: tuple[int, int, int] | None) -> None:
    from watcher.sources.raa_periods import classify

    period = classify(title, None, 2026)
    assert (period and (period.year, period.first, period.last)) == months


def test_probe_recognises_a_prefecture_raa_page_and_prints_an_entry(
    site: PrefectureSite, workdir: Path
) -> None:
    _old(site)

    result = run("probe", site.root)

    assert result.code == 0, result.err
    assert "a prefecture's RAA page (3 year or period cards" not in result.out  # Archives: no
    assert "a prefecture's RAA page (2 year or period cards, 0 RAA PDFs" in result.out
    assert f"→ RAA {site.today.year}" in result.out
    assert "    kind: raa" in result.out and f'    url: "{site.root}"' in result.out


def test_retry_after_holds_the_host_for_every_source() -> None:
    from watcher.errors import FetchError
    from watcher.sources.hostpace import HostPacer

    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = HostPacer(clock=lambda: now[0], sleep=sleep)
    with pytest.raises(FetchError), pacer.turn("www.var.gouv.fr", 5):
        raise FetchError("HTTP 429", retry_after=120, status=429)
    with pacer.turn("www.ain.gouv.fr", 5):  # another host: its own turn, no wait
        pass
    with pacer.turn("www.var.gouv.fr", 5):
        pass
    with pacer.turn("www.var.gouv.fr", 5):
        pass

    assert slept == [120, 5]


def test_a_refused_download_is_retried_at_the_next_poll_never_lost(
    site: PrefectureSite, workdir: Path
) -> None:
    from tests.feed_server import Route

    _old(site)
    _config(workdir, site)
    assert run("poll").code == 0
    new = Raa("recueil-01-2026-353", raa_pdf("353", [VSA]), site.today)
    site.publish(new)
    answers = iter([Route(b"slow down", status=429, headers={"Retry-After": "1"})])
    path = site._pdf_path(new)
    served = site.server.handlers[path]
    site.server.handle(path, lambda seen: next(answers, None) or served(seen))

    refused = run("poll")
    retried = run("poll")

    assert refused.code == 0 and refused.out == ""
    assert "HTTP 429" in refused.err
    assert retried.out.count("📹 Traitement algorithmique autorisé") == 1


def test_watcher_run_alerts_each_act_of_a_new_raa_once(site: PrefectureSite, workdir: Path) -> None:
    import dataclasses
    import signal
    import subprocess

    from tests.conftest import PYTHON, python_env
    from tests.waiting import wait_until

    _old(site)
    _config(workdir, site, interval="1s")
    printed = workdir / "out.txt"
    with printed.open("w") as out:
        process = subprocess.Popen(
            [PYTHON, "-m", "watcher", "run"],
            cwd=workdir,
            env=python_env(),
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        try:
            month = _month_name(site.today.month)
            # The second poll reads the month page again: the first, the backlog, is over.
            wait_until(lambda: len(site.hits(month)) >= 2, "the second poll")
            drones = dataclasses.replace(DRONES, scanned=False)  # a text layer this time
            new = Raa("recueil-01-2026-354", raa_pdf("354", [CCTV, drones, VSA]), site.today)
            site.publish(new)
            wait_until(lambda: printed.read_text().count("autoris") >= 2, "the two alerts")
            polls = len(site.times)
            wait_until(lambda: len(site.times) > polls + 1, "two more polls")
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
    text = printed.read_text()
    assert text.count("🚁 Drones autorisés du 09/12/2026 10:00 au 12/12/2026 23:59") == 1
    assert text.count("📹 Traitement algorithmique autorisé du 18/12/2026 18:00") == 1
    assert "vidéoprotection du magasin" not in text
    assert site.pdf_hits(new) == 1


@needs_real
def test_attrap_search_answers_are_items_of_their_prefecture(
    feed_server: object, workdir: Path
) -> None:
    from urllib.parse import parse_qs, urlsplit

    answer = (RAA_DIR / "attrap_api_v1_search_response_2025-10-31.json").read_bytes()
    url = feed_server.serve("/api/v1/search", answer, content_type="application/json")  # type: ignore[attr-defined]
    topics = _shipped_head()
    (workdir / "feeds.yml").write_text(
        topics + "\nsources:\n  - id: attrap\n    name: Attrap\n    kind: attrap\n"
        f"    url: {url}\n    query: drone OR aéronef\n    administrations: [pref77, ppparis]\n"
        "    backfill: true\n    pages: 1\n",
        encoding="utf-8",
    )

    result = run("poll")

    assert result.code == 0, result.err
    asked = parse_qs(urlsplit(feed_server.requests[0].path).query)  # type: ignore[attr-defined]
    assert asked["s"] == ["drone OR aéronef"] and asked["administration"] == ["pref77,ppparis"]
    assert asked["sort"] == ["desc"] and asked["page"] == ["1"]
    # The Préfecture de police's own drone arrêtés, out of watcher's reach otherwise.
    assert "Préfecture de police de Paris — Arrêté n°2025-01426 autorisant la" in result.out
    assert "Attrap · arrêté · 29/10/2025" in result.out
    assert "[Drones et caméras aéroportées de la police]" in result.out


@pytest.mark.parametrize(
    ("text", "label"),
    [
        (
            "Autorisé du mercredi 31 janvier 2024 à 10h00 au samedi 3 février 2024 à 23h59",
            "du 31/01/2024 10:00 au 03/02/2024 23:59",
        ),
        ("le jeudi 19 mars 2025 de 14h30 à 20h00", "du 19/03/2025 14:30 au 19/03/2025 20:00"),
        ("du 31/01/2024 à 10h au 01/02/2024 à 2h30", "du 31/01/2024 10:00 au 01/02/2024 02:30"),
        ("du 1er août 2026 au 3 août 2026 inclus", "du 01/08/2026 00:00 au 03/08/2026 23:59"),
        ("Vu la loi du 19 mai 2023 ; fait à Toulon le 3 mars 2025", None),
    ],
)
def test_authorisation_windows(text: str, label: str | None) -> None:
    from watcher.sources.raa_acts import find_window

    window = find_window(text)
    assert (window.label() if window else None) == label


@pytest.mark.parametrize(
    ("url", "asked", "pause"),
    [
        ("https://www.ain.gouv.fr/Publications/RAA", 0.1, 5.0),  # never faster on the internet
        ("https://www.ain.gouv.fr/Publications/RAA", 30.0, 30.0),  # a slower site: raised
        ("http://127.0.0.1:8080/Publications/RAA", 0.1, 0.1),  # this machine (tests, a mirror)
    ],
)
def test_the_pause_is_at_least_five_seconds_on_the_internet(
    url: str, asked: float, pause: float
) -> None:
    from watcher.sources.raa_walk import Site

    assert Site(None, url, asked).pause == pause  # type: ignore[arg-type]


@needs_ocr  # (it runs no OCR: without Tesseract, scans are not waited for)
def test_scans_past_the_ocr_budget_wait_on_disk_and_resume_from_the_ocr_cache(
    site: PrefectureSite, tmp_path: Path
) -> None:
    import hashlib
    import json
    from datetime import UTC, datetime

    from watcher.fetch import standalone_session
    from watcher.sources.base import PollContext, SourceConfig, SourceState
    from watcher.sources.raa import RaaOptions, read_raa

    _old(site)
    source = SourceConfig("pref-01", "Préfecture 01", "raa", site.root, 1800.0, ("drones",))
    options = RaaOptions(pause=PAUSE, ocr_budget=0.0)  # no OCR time left in any poll
    state = SourceState()
    with standalone_session(timeout=10, max_bytes=10_000_000) as fetcher:

        def poll(backlog: bool = False) -> tuple[list[str], list[str]]:
            nonlocal state
            ctx = PollContext(
                fetcher, datetime.now(UTC), known=lambda keys: set(), cache_dir=tmp_path
            )
            ctx.backlog = backlog
            result = read_raa(source, options, state, ctx)
            state = result.state
            return [item.key for item in result.items], result.warnings

        poll(backlog=True)
        body = raa_pdf("355", [CCTV, DRONES])
        new = Raa("recueil-01-2026-355", body, site.today)
        site.publish(new)
        assert poll() == ([], ["1 RAA(s) left for the next poll (OCR budget or downloads)"])
        assert poll()[0] == []  # still waiting for its scan to be read...
        assert site.pdf_hits(new) == 1  # ...from the disk, not downloaded again

        # Its scanned page read (as a poll with budget left would), the next poll ends it.
        cache = tmp_path / "ocr" / f"{hashlib.sha256(body).hexdigest()}.json"
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"5": "\n".join(DRONES.body)}), encoding="utf-8")
        keys, warnings = poll()

    assert keys == [CCTV.act_id, DRONES.act_id] and warnings == []
    assert site.pdf_hits(new) == 1


# The Paris tree on prefectures-regions.gouv.fr, in the shape a public project reconstructed
# from a live capture (MaximeMaigret2/arrete-prefectoraux,
# backend/tests/fixtures/connecteurs/reel/prefecture-75/racine.html and annee-2026.html).
PARIS_ROOT = """<article><h1>RECUEIL DES ACTES ADMINISTRATIFS</h1>
<div><h2 class="news-list-title"><a href="/ile-de-france/Documents-publications/Recueil-des-actes-administratifs/Raa-du-departement-de-Paris-2026">Raa du département de Paris - 2026</a></h2></div>
<div><h2 class="news-list-title"><a href="/ile-de-france/Documents-publications/Recueil-des-actes-administratifs/RAA-de-la-region-Ile-de-France-2026">RAA de la région Île-de-France - 2026</a></h2></div>
<div><h2 class="news-list-title"><a href="/ile-de-france/Documents-publications/Recueil-des-actes-administratifs/Raa-du-departement-de-Paris-2025">Raa du département de Paris - 2025</a></h2></div>
</article>"""
PARIS_YEAR = """<article><h1>Dossiers : Raa du département de Paris - 2026</h1><h3>SOMMAIRE</h3>
<div id="sommaire-content" class="sommaire-content collapse in"><ol>
<li><a href="/ile-de-france/Documents-publications/Recueil-des-actes-administratifs/Raa-du-departement-de-Paris-2026/Juillet/#titre"><p class="num">Juillet</p><p></p></a></li>
<li><a href="/ile-de-france/Documents-publications/Recueil-des-actes-administratifs/Raa-du-departement-de-Paris-2026/Aout/#titre"><p class="num">Août</p><p></p></a></li>
</ol></div></article>"""


def test_the_shipped_paris_entry_reads_its_tree() -> None:
    from watcher.config import load_config
    from watcher.sources.raa_listing import parse_listing
    from watcher.sources.raa_periods import classify

    sources = {s.id: s for s in load_config(SHIPPED).sources}
    base = "https://www.prefectures-regions.gouv.fr/ile-de-france/tags/view/x"
    for source_id, wanted in (("pref-75", "Paris"), ("pref-region-idf", "Île-de-France")):
        options = sources[source_id].options
        root = parse_listing(
            PARIS_ROOT, base, navigation=options.navigation, entries=options.entries
        )
        years = [
            (card.title, period.year)
            for card in root.navigation
            if (period := classify(card.title, options.period_pattern)) is not None
        ]
        assert years and all(wanted in title for title, _ in years), source_id
        year = parse_listing(
            PARIS_YEAR, base, navigation=options.navigation, entries=options.entries
        )
        months = [classify(c.title, options.period_pattern, 2026) for c in year.navigation]
        assert [(p.first if p else None) for p in months] == [7, 8]


def test_the_shipped_territories_fit_telegrams_keyboard_in_pages() -> None:
    from watcher.bot.chat_settings import keyboard, territories_of
    from watcher.config import load_config
    from watcher.store.subscribers import Subscriber

    config = load_config(SHIPPED)
    chat = Subscriber(1, "private", True, False, False, frozenset())
    territories = territories_of(config)
    assert len(territories) > 100  # regions, cities and the 101 départements
    seen: list[str] = []
    page = 0
    while True:
        rows = keyboard(config, chat, page=page).inline_keyboard
        assert sum(len(row) for row in rows) <= 100  # Telegram's limit
        seen += [
            b.text
            for row in rows
            for b in row
            if (b.callback_data or "").startswith("set:where:")
            and b.text != "✅ Tous les territoires"
        ]
        turn = [b for row in rows for b in row if b.text == "Territoires ▶"]
        if not turn:
            break
        assert turn[0].callback_data == f"set:wpage:{page + 1}"
        page += 1
    assert seen == territories  # every territory on one page or another


@needs_real
def test_probe_names_the_territory_of_a_real_root_page(feed_server: object) -> None:
    page = RAA_DIR / "reconstructed" / "hautes-alpes_05_racine.reconstructed.html"
    url = feed_server.serve(  # type: ignore[attr-defined]
        "/Publications/Recueil-des-actes-administratifs",
        page.read_bytes(),
        content_type="text/html",
    )

    result = run("probe", url)

    assert result.code == 0, result.err
    assert "→ RAA 2026" in result.out and "→ RAA 2025" in result.out
    assert '    territory: "Hautes-Alpes"' in result.out and "    kind: raa" in result.out


def test_a_select_of_raas_is_posted_once_per_new_option(feed_server: object, workdir: Path) -> None:
    # Meurthe-et-Moselle's shape, as Attrap configures it (mp-mayane/Attrap, its pref54
    # class: DptSelectWidget css_path 'select#Liste-liste-docs', options titled
    # "... du 3 août 2026", POSTed as {select id: option value}).
    from urllib.parse import parse_qs

    from tests.feed_server import Route, Seen

    server = feed_server
    today = date.today()
    options = {"101": ("RAA n° 140 du 1er janvier 2020", None)}
    posted: list[str] = []

    def page(seen: Seen) -> Route:
        if seen.method == "POST":
            value = parse_qs(seen.body.decode())["Liste-liste-docs"][0]
            posted.append(value)
            pdf = options[value][1]
            link = (
                f'<a class="fr-link fr-link--download" href="/file/raa-{value}.pdf">RAA '
                f'<span class="fr-link__detail">PDF - 0,1 Mb - {today:%d/%m/%Y}</span></a>'
                if pdf
                else ""
            )
            html = f"<main><h1>Recueil des actes administratifs</h1>{link}</main>"
        else:
            choices = "".join(
                f'<option value="{v}" title="{label}">{label}</option>'
                for v, (label, _) in options.items()
            )
            html = (
                "<main><h1>Recueil des actes administratifs</h1>"
                '<select id="Liste-liste-docs" name="Liste-liste-docs"><option value="">'
                f"Choisir</option>{choices}</select></main>"
            )
        return Route(html.encode(), content_type="text/html; charset=utf-8", etag=False)

    url = server.handle("/p54/Publications/Recueil-des-actes-administratifs", page)  # type: ignore[attr-defined]
    topics = _shipped_head()
    (workdir / "feeds.yml").write_text(
        topics + f"\nsources:\n  - id: pref-54\n    name: Préfecture 54\n    kind: raa\n"
        f"    url: {url}\n    pause: {PAUSE}\n    select: 'select#Liste-liste-docs'\n",
        encoding="utf-8",
    )
    assert run("poll").code == 0  # the old option is not asked for
    body = raa_pdf("143", [VSA])
    server.serve("/file/raa-143.pdf", body, content_type="application/pdf")  # type: ignore[attr-defined]
    options["143"] = (
        f"RAA n° 143 du {today.day} {MONTHS[today.month - 1].lower()} {today.year}",
        body,
    )

    second = run("poll")
    third = run("poll")

    assert second.code == 0, second.err
    assert second.out.startswith("📹 Traitement algorithmique autorisé du 18/12/2026 18:00")
    assert third.out == ""
    assert posted == ["143"]  # the new option, once
    assert len(server.hits("/file/raa-143.pdf")) == 1  # type: ignore[attr-defined]


def test_a_card_titled_with_a_day_opens_one_raa_and_is_not_a_period() -> None:
    from watcher.sources.raa_listing import ENTRIES, NAVIGATION, parse_listing

    def grey(href: str, title: str) -> str:
        return (
            '<div class="fr-card fr-card--grey"><h2 class="fr-card__title">'
            f'<a href="{href}">{title}</a></h2></div>'
        )

    html = "<main>" + grey("/R/Aout", "Août 2026") + grey("/R/3", "RAA du 3 août 2026") + "</main>"
    listing = parse_listing(html, "https://x.gouv.fr/R", navigation=NAVIGATION, entries=ENTRIES)

    assert [card.title for card in listing.navigation] == ["Août 2026"]  # walked each poll
    assert [(c.title, c.day) for c in listing.details] == [("RAA du 3 août 2026", date(2026, 8, 3))]


def test_probe_proposes_the_select_of_a_page_that_posts_its_raas(feed_server: object) -> None:
    html = (
        "<html><head><title>Recueil des actes administratifs - Les services de l'État en "
        "Meurthe-et-Moselle</title></head><body><main><h1>Recueil des actes administratifs</h1>"
        '<select id="Liste-liste-docs" name="Liste-liste-docs"><option value="">Choisir</option>'
        '<option value="143" title="RAA n° 143 du 3 août 2026">RAA n° 143</option></select>'
        "</main></body></html>"
    )
    url = feed_server.serve(  # type: ignore[attr-defined]
        "/Publications/Recueil-des-actes-administratifs", html, content_type="text/html"
    )

    result = run("probe", url)

    assert result.code == 0, result.err
    assert "1 dated options to POST" in result.out and "(option) RAA n° 143" in result.out
    assert "select: \"select[name='Liste-liste-docs'], select[id='Liste-liste-docs']\"" in (
        result.out
    )
    assert '    territory: "Meurthe-et-Moselle"' in result.out


def test_pdfs_read_by_polls_in_several_threads_at_once_give_their_text() -> None:
    """PDFium is not thread-safe: concurrent polls reading RAAs crashed the process."""
    from concurrent.futures import ThreadPoolExecutor

    acts = [
        RaaAct(f"n° 2026-{n:03d}", f"Arrêté {n} portant autorisation", (f"Article {n}.",) * 20)
        for n in range(40)
    ]
    bodies = [raa_pdf(f"R{k}", acts[k : k + 20]) for k in range(16)]
    alone = [
        pdfpages.read_pages(b, cache_dir=None, budget=pdfpages.OcrBudget(0)).texts for b in bodies
    ]

    def read(body: bytes) -> list[str]:
        return pdfpages.read_pages(body, cache_dir=None, budget=pdfpages.OcrBudget(0)).texts

    with ThreadPoolExecutor(max_workers=16) as threads:
        together = list(threads.map(read, bodies * 4))

    assert together == alone * 4
