"""``kind: legifrance``: the PISTE Légifrance API, through a local fake of it."""

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REAL, needs_real, run, write_config
from tests.feed_server import FeedServer, Route, Seen

ISSUE = "JORFCONT000047999001"
VSA_DECREE = "JORFTEXT000047999010"
NOMINATION = "JORFTEXT000047999020"
CATASTROPHE = "JORFTEXT000047999030"


def last_issues() -> dict[str, Any]:
    """Shaped like the real lastNJo answer (ids and epoch-millisecond dates)."""
    return {
        "executionTime": 12,
        "containers": [
            {
                "id": ISSUE,
                "idEli": "/eli/jo/2023/8/29/0199",
                "origine": "JORF",
                "nature": "JO",
                "titre": "JORF n°0199 du 29 août 2023",
                "num": "0199",
                "datePubli": 1693267200000,
            },
        ],
    }


def table_of_contents() -> dict[str, Any]:
    """jorfCont: texts at the first level (liens) and nested in tms levels (liensTxt)."""
    return {
        "items": [
            {
                "joCont": {
                    "id": ISSUE,
                    "titre": "JORF n°0199 du 29 août 2023",
                    "structure": {
                        "liens": [
                            {
                                "id": CATASTROPHE,
                                "titre": "Arrêté du 25 août 2023 portant reconnaissance de l'état de catastrophe naturelle",
                                "nature": "ARRETE",
                                "ministere": "Ministère de l'intérieur",
                            },
                        ],
                        "tms": [
                            {
                                "titre": "Décrets, arrêtés, circulaires",
                                "liensTxt": [],
                                "tms": [
                                    {
                                        "titre": "Ministère de l'intérieur et des outre-mer",
                                        "liensTxt": [
                                            {
                                                "id": VSA_DECREE,
                                                "titre": "Décret n° 2023-828 du 28 août 2023 relatif aux modalités de mise en œuvre des traitements",
                                                "nature": "DECRET",
                                                "ministere": "Ministère de l'intérieur et des outre-mer",
                                            },
                                        ],
                                        "tms": [
                                            {
                                                "titre": "Mesures nominatives",
                                                "liensTxt": [
                                                    {
                                                        "id": NOMINATION,
                                                        "titre": "Arrêté du 24 août 2023 portant nomination",
                                                        "nature": "ARRETE",
                                                    }
                                                ],
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    },
                }
            }
        ]
    }


def full_text(text_id: str) -> dict[str, Any]:
    """consult/jorf: shaped like the real answer (sections, articles with HTML content)."""
    if text_id == VSA_DECREE:
        article = (
            "<p>Les traitements algorithmiques des images collectées au moyen de systèmes de "
            "vidéoprotection mentionnés à l'article 10 de la loi du 19 mai 2023 sont mis en œuvre…</p>"
        )
        return {
            "cid": VSA_DECREE,
            "title": "Décret n° 2023-828 du 28 août 2023 relatif aux modalités de mise en œuvre des traitements algorithmiques prévus à l'article 10 de la loi n° 2023-380",
            "nature": "DECRET",
            "nor": "IOMD2318406D",
            "visa": "<p>La Première ministre,</p>",
            "sections": [
                {"title": "Chapitre Ier", "articles": [{"content": article}], "sections": []}
            ],
            "articles": [],
        }
    return {
        "cid": text_id,
        "title": f"Texte {text_id}",
        "nature": "ARRETE",
        "visa": "",
        "sections": [],
        "articles": [{"content": "<p>Est nommé régisseur…</p>"}],
    }


class FakePiste:
    """The OAuth endpoint and the API, with knobs for the failure paths."""

    def __init__(self, server: FeedServer) -> None:
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.quota_left: int | None = None
        self.oauth_url = server.handle("/oauth/token", self.token)
        self.api_url = server.url("/api")
        server.handle("/api/consult/lastNJo", self.api(lambda body: last_issues()))
        server.handle("/api/consult/jorfCont", self.api(lambda body: table_of_contents()))
        server.handle("/api/consult/jorf", self.api(lambda body: full_text(body["textCid"])))

    def token(self, request: Seen) -> Route:
        assert b"grant_type=client_credentials" in request.body
        assert b"client_id=watcher-id" in request.body and b"client_secret=s3cret" in request.body
        self.tokens_issued += 1
        token = f"token-{self.tokens_issued}"
        self.valid_tokens.add(token)
        return Route(
            json.dumps(
                {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
            ).encode(),
            content_type="application/json",
            etag=False,
            last_modified=None,
        )

    def api(self, answer: Any) -> Any:
        def handle(request: Seen) -> Route:
            token = request.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.valid_tokens:
                return Route(
                    b'{"error": "invalid_token"}', status=401, etag=False, last_modified=None
                )
            if request.path.endswith("/consult/jorf") and self.quota_left is not None:
                if self.quota_left <= 0:
                    return Route(
                        b'{"message": "quota"}',
                        status=429,
                        headers={"Retry-After": "120"},
                        etag=False,
                        last_modified=None,
                    )
                self.quota_left -= 1
            return Route(
                json.dumps(answer(json.loads(request.body))).encode(),
                content_type="application/json",
                etag=False,
                last_modified=None,
            )

        return handle


@pytest.fixture
def piste(feed_server: FeedServer, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> FakePiste:
    monkeypatch.setenv("LEGIFRANCE_CLIENT_ID", "watcher-id")
    monkeypatch.setenv("LEGIFRANCE_CLIENT_SECRET", "s3cret")
    fake = FakePiste(feed_server)
    write_config(
        workdir,
        [
            {
                "id": "jo",
                "name": "Journal officiel",
                "kind": "legifrance",
                "url": fake.api_url,
                "oauth_url": fake.oauth_url,
                "backfill": "true",
            }
        ],
    )
    return fake


def test_new_texts_of_every_toc_level_are_read_in_full_and_matched(
    piste: FakePiste, workdir: Path, feed_server: FeedServer
) -> None:
    result = run("poll")

    assert result.code == 0, result.err
    # The title does not say it: the article does.
    assert "Décret n° 2023-828 du 28 août 2023 relatif aux modalités" in result.out
    assert "Mots-clés : algorithmiques … vidéoprotection" in result.out
    assert "Les traitements «algorithmiques» des images collectées" in result.out
    assert "Journal officiel · décret · 29/08/2023" in result.out
    assert "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000047999010" in result.out
    assert "catastrophe" not in result.out
    db = sqlite3.connect(workdir / "watcher.db")
    assert {k for (k,) in db.execute("SELECT key FROM items")} == {
        VSA_DECREE,
        NOMINATION,
        CATASTROPHE,
    }
    assert piste.tokens_issued == 1  # one token for the whole poll
    consulted = [json.loads(r.body)["textCid"] for r in feed_server.hits("/api/consult/jorf")]
    assert sorted(consulted) == sorted([VSA_DECREE, NOMINATION, CATASTROPHE])

    assert run("poll").out == ""  # the issue is done: nothing fetched again
    assert len(feed_server.hits("/api/consult/jorf")) == 3


def test_expired_token_is_renewed_on_401(piste: FakePiste, feed_server: FeedServer) -> None:
    piste.valid_tokens.discard("token-1")  # the first token is refused (expired)
    original = piste.token

    def issue_then_expire(request: Seen) -> Route:
        route = original(request)
        if piste.tokens_issued == 1:
            piste.valid_tokens.discard("token-1")
        return route

    feed_server.handle("/oauth/token", issue_then_expire)

    result = run("poll")

    assert result.code == 0, result.err
    assert piste.tokens_issued == 2
    assert "Décret n° 2023-828" in result.out


def test_quota_429_keeps_what_was_read_and_backs_off_by_retry_after(
    piste: FakePiste, workdir: Path
) -> None:
    piste.quota_left = 1

    result = run("poll")

    assert result.code == 0
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 1  # the one text read is kept
    assert "quota reached" in result.err

    piste.quota_left = 0  # nothing read at all: the error is recorded with Retry-After
    write_config(
        workdir,
        [
            {
                "id": "jo2",
                "name": "JO",
                "kind": "legifrance",
                "url": piste.api_url,
                "oauth_url": piste.oauth_url,
                "backfill": "true",
            }
        ],
    )
    run("poll")
    (error, next_check) = db.execute(
        "SELECT last_error, next_check FROM sources WHERE id = 'jo2'"
    ).fetchone()
    assert "HTTP 429" in error
    wait = (datetime.fromisoformat(next_check) - datetime.now(UTC)).total_seconds()
    assert wait > 100  # Retry-After: 120 honoured


def test_without_credentials_the_source_is_skipped_with_one_warning(
    workdir: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEGIFRANCE_CLIENT_ID", raising=False)
    monkeypatch.delenv("LEGIFRANCE_CLIENT_SECRET", raising=False)
    rss = feed_server.serve(
        "/feed", (Path(__file__).parent / "fixtures" / "senat_textes_rss2.xml").read_bytes()
    )
    write_config(
        workdir,
        [
            {"id": "jo", "name": "JO", "kind": "legifrance"},
            {"id": "senat", "name": "Sénat", "url": rss, "backfill": "true"},
        ],
    )

    result = run("poll")

    assert result.code == 0
    assert (
        result.err.count("source jo skipped: set LEGIFRANCE_CLIENT_ID and LEGIFRANCE_CLIENT_SECRET")
        == 1
    )
    assert "jeux Olympiques" in result.out
    assert "Traceback" not in result.err


@needs_real
def test_real_last_issues_and_full_text_shapes(piste: FakePiste, feed_server: FeedServer) -> None:
    real_issues = json.loads(
        (REAL / "legifrance" / "lastNJo_response_legifrss_example.json").read_text()
    )
    real_text = json.loads(
        (REAL / "legifrance" / "consult_jorf_JORFTEXT000042665307_legifrss.json").read_text()
    )
    first = real_issues["containers"][0]["id"]
    feed_server.handle("/api/consult/lastNJo", piste.api(lambda body: real_issues))
    feed_server.handle(
        "/api/consult/jorfCont",
        piste.api(
            lambda body: (
                {
                    "items": [
                        {
                            "joCont": {
                                "structure": {
                                    "liens": [
                                        {
                                            "id": "JORFTEXT000042665307",
                                            "titre": "LOI",
                                            "nature": "LOI",
                                        }
                                    ]
                                }
                            }
                        }
                    ]
                }
                if body["id"] == first
                else {"items": []}
            )
        ),
    )
    feed_server.handle("/api/consult/jorf", piste.api(lambda body: real_text))

    result = run("poll")

    assert result.code == 0, result.err
    db = sqlite3.connect(Path("watcher.db"))
    title, kind, published, body = db.execute(
        "SELECT title, kind, published, body FROM items"
    ).fetchone()
    assert (
        title
        == "LOI n° 2020-1576 du 14 décembre 2020 de financement de la sécurité sociale pour 2021 (1)"
    )
    assert kind == "loi"
    assert published.startswith("2020-12-05")  # the container's datePubli, epoch ms
    assert len(body) > 100_000  # every article of every nested section


def big_issue(count: int) -> dict[str, Any]:
    """jorfCont for an issue of ``count`` texts: one container, whatever page is asked."""
    links = [
        {"id": f"JORFTEXT0000480{n:05d}", "titre": f"Arrêté n° {n}", "nature": "ARRETE"}
        for n in range(count)
    ]
    return {"items": [{"joCont": {"id": ISSUE, "structure": {"liens": links, "tms": []}}}]}


def test_an_issue_of_101_texts_is_one_table_of_contents_request(
    piste: FakePiste, feed_server: FeedServer, workdir: Path
) -> None:
    # pageSize counts containers: the real API gives the same container for page 2.
    feed_server.handle("/api/consult/jorfCont", piste.api(lambda body: big_issue(101)))
    write_config(
        workdir,
        [
            {
                "id": "jo",
                "name": "JO",
                "kind": "legifrance",
                "url": piste.api_url,
                "oauth_url": piste.oauth_url,
            }
        ],
    )

    result = run("poll")  # the first poll notes the issue's texts without reading them

    assert result.code == 0, result.err
    assert len(feed_server.hits("/api/consult/jorfCont")) == 1
    assert feed_server.hits("/api/consult/jorf") == []
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 101


def test_a_jo_text_carries_its_dossier_and_other_names(piste: FakePiste, workdir: Path) -> None:
    from tests.test_source_revisions import read

    source = {
        "id": "jo",
        "name": "JO",
        "kind": "legifrance",
        "url": piste.api_url,
        "oauth_url": piste.oauth_url,
    }
    items = {item.key: item for item in read(workdir, source, {}).items}

    decree = items[VSA_DECREE]
    assert decree.dossier == f"jorf:{VSA_DECREE}"
    assert decree.aliases == ("nor:IOMD2318406D", "decret:2023-828")


@needs_real
def test_a_real_law_is_known_by_its_number_nor_eli_and_senate_dossier(
    piste: FakePiste, feed_server: FeedServer, workdir: Path
) -> None:
    from tests.test_source_revisions import read

    real_text = json.loads(
        (REAL / "legifrance" / "consult_jorf_JORFTEXT000042665307_legifrss.json").read_text()
    )
    feed_server.handle("/api/consult/jorf", piste.api(lambda body: real_text))
    source = {
        "id": "jo",
        "name": "JO",
        "kind": "legifrance",
        "url": piste.api_url,
        "oauth_url": piste.oauth_url,
    }
    law = next(item for item in read(workdir, source, {}).items if item.kind == "loi")
    assert law.aliases == (
        "nor:ECOX2023815L",
        "eli:/eli/loi/2020/12/14/ECOX2023815L/jo/texte",
        "loi:2020-1576",
        "dossier:senat:pjl20-101",  # its preparatory works name the Sénat's bill
    )


def test_one_failing_text_neither_fails_the_poll_nor_blocks_its_issue(
    piste: FakePiste, workdir: Path, feed_server: FeedServer
) -> None:
    working = feed_server.handlers["/api/consult/jorf"]

    def nomination_fails(request: Seen) -> Route:
        if json.loads(request.body)["textCid"] == NOMINATION:
            return Route(b'{"message": "erreur"}', status=500, etag=False, last_modified=None)
        return working(request)

    feed_server.handle("/api/consult/jorf", nomination_fails)

    first = run("poll")

    assert first.code == 0, first.err
    assert "Décret n° 2023-828 du 28 août 2023" in first.out  # the others are alerted
    assert f"{NOMINATION}: HTTP 500" in first.err and "tried again next poll" in first.err
    db = sqlite3.connect(workdir / "watcher.db")
    # A successful poll (with a warning), not a failed one.
    assert db.execute("SELECT consecutive_errors FROM sources").fetchone()[0] == 0
    keys = {k for (k,) in db.execute("SELECT key FROM items")}
    assert keys == {VSA_DECREE, CATASTROPHE}

    def consulted() -> list[str]:
        return [json.loads(r.body)["textCid"] for r in feed_server.hits("/api/consult/jorf")]

    run("poll")
    assert consulted()[3:] == [NOMINATION]  # only the failed one is asked again
    third = run("poll")
    assert "full text unreadable 3 times" in third.err  # kept by its title, not lost
    assert NOMINATION in {k for (k,) in db.execute("SELECT key FROM items")}
    asked = len(consulted())
    run("poll")
    assert len(consulted()) == asked  # the issue is done: not blocked forever
