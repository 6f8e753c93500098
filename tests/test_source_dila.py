"""``kind: dila``: DILA open-data increments (JORFSIMPLE, JORF, CNIL), served locally."""

import io
import sqlite3
import tarfile
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REAL, needs_real, run, write_config
from tests.feed_server import FeedServer
from watcher.sources.dila import read_archive

OLD = "JORFSIMPLE_20260629-010203.tar.gz"
NEW = "JORFSIMPLE_20260630-010203.tar.gz"
NEWER = "JORFSIMPLE_20260630-203040.tar.gz"


def archive(members: dict[str, bytes]) -> bytes:
    """A .tar.gz laid out like DILA's (one XML file per object, deep paths)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def listing(*names: str) -> str:
    """An Apache-style directory listing, full dump included."""
    rows = "".join(
        f'<tr><td><a href="{n}">{n}</a></td><td>2026-06-30 01:02</td><td>1.2M</td></tr>'
        for n in names
    )
    return (
        "<html><head><title>Index of /OPENDATA/JORFSIMPLE</title></head><body><table>"
        '<tr><td><a href="Freemium_jorfsimple_global_20250713-140000.tar.gz">Freemium_jorfsimple_global_20250713-140000.tar.gz</a></td></tr>'
        f"{rows}</table></body></html>"
    )


def jorf_members() -> dict[str, bytes]:
    base = "20260630-010203/jorf/global/JORF/TEXT/00/00/48/00/01/"
    return {
        base + "JORFTEXT000048000100.xml": (
            FIXTURES / "dila" / "JORFTEXT000048000100.xml"
        ).read_bytes(),
        "20260630-010203/jorf/global/JORF/CONT/00/00/48/00/00/JORFCONT000048000001.xml": (
            FIXTURES / "dila" / "JORFCONT000048000001.xml"
        ).read_bytes(),
    }


@pytest.fixture
def dila(feed_server: FeedServer, workdir: Path) -> FeedServer:
    feed_server.serve("/OPENDATA/JORFSIMPLE/", listing(OLD), content_type="text/html")
    feed_server.serve(f"/OPENDATA/JORFSIMPLE/{OLD}", archive({}), content_type="application/gzip")
    write_config(
        workdir,
        [
            {
                "id": "jo-dila",
                "name": "Journal officiel",
                "kind": "dila",
                "url": feed_server.url("/OPENDATA/JORFSIMPLE/"),
            }
        ],
    )
    return feed_server


def test_first_poll_starts_after_the_newest_increment_then_reads_new_ones(
    dila: FeedServer, workdir: Path
) -> None:
    first = run("poll")
    assert first.code == 0, first.err
    assert dila.hits(f"/OPENDATA/JORFSIMPLE/{OLD}") == []  # the backlog is not downloaded
    assert not any("Freemium" in r.path for r in dila.requests)

    dila.serve("/OPENDATA/JORFSIMPLE/", listing(OLD, NEW), content_type="text/html")
    dila.serve(
        f"/OPENDATA/JORFSIMPLE/{NEW}", archive(jorf_members()), content_type="application/gzip"
    )
    second = run("poll")

    assert second.code == 0, second.err
    # The full text in the archive: its article speaks of algorithmic processing.
    assert (
        "Arrêté du 28 juin 2026 portant autorisation d'expérimentation dans les gares" in second.out
    )
    assert "Journal officiel · arrêté · 30/06/2026" in second.out
    assert "Mots-clés : caméras … algorithmique" in second.out
    assert (
        "les «caméras» de vidéoprotection des gares font l'objet d'un traitement algorithmique"
        in second.out
    )
    # A text only listed in the table of contents is matched on its title.
    assert (
        "Décret n° 2026-600 du 29 juin 2026 relatif à la reconnaissance faciale aux frontières"
        in second.out
    )
    assert "portant nomination" not in second.out
    db = sqlite3.connect(workdir / "watcher.db")
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 3
    assert not list((workdir / "watcher-cache" / "jo-dila").glob("*.tar.gz"))  # cleaned up

    assert run("poll").out == ""
    assert len(dila.hits(f"/OPENDATA/JORFSIMPLE/{NEW}")) == 1


def test_truncated_archive_keeps_what_it_could_read(dila: FeedServer, workdir: Path) -> None:
    run("poll")
    members = {
        f"a/{i:03d}/JORFTEXT0000480001{i:02d}.xml": (FIXTURES / "dila" / "JORFTEXT000048000100.xml")
        .read_bytes()
        .replace(b"JORFTEXT000048000100", f"JORFTEXT0000480001{i:02d}".encode())
        for i in range(40)
    }
    whole = archive(members)
    dila.serve("/OPENDATA/JORFSIMPLE/", listing(OLD, NEW), content_type="text/html")
    dila.serve(
        f"/OPENDATA/JORFSIMPLE/{NEW}", whole[: len(whole) // 2], content_type="application/gzip"
    )

    result = run("poll")

    assert result.code == 0
    assert "archive truncated or corrupt" in result.err
    db = sqlite3.connect(workdir / "watcher.db")
    stored = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    assert 0 < stored < 40
    assert "archive truncated" in run("status").out


def test_interrupted_download_resumes_with_a_range_request(dila: FeedServer, workdir: Path) -> None:
    run("poll")
    data = archive(jorf_members())
    dila.serve("/OPENDATA/JORFSIMPLE/", listing(OLD, NEW), content_type="text/html")
    dila.serve(
        f"/OPENDATA/JORFSIMPLE/{NEW}",
        data,
        content_type="application/gzip",
        cut_after=len(data) // 2,
        ranges=True,
    )

    first = run("poll")
    assert (
        "cannot reach" in first.err
        or "incomplete" in first.err.lower()
        or "peer closed" in first.err
    )
    partial = workdir / "watcher-cache" / "jo-dila" / f"{NEW}.part"
    assert partial.stat().st_size == len(data) // 2

    dila.serve(f"/OPENDATA/JORFSIMPLE/{NEW}", data, content_type="application/gzip", ranges=True)
    db = sqlite3.connect(workdir / "watcher.db")
    db.execute("UPDATE sources SET next_check = NULL")  # skip the backoff for the test
    db.commit()
    second = run("poll")

    assert second.code == 0, second.err
    assert (
        dila.hits(f"/OPENDATA/JORFSIMPLE/{NEW}")[-1].headers["range"] == f"bytes={len(data) // 2}-"
    )
    assert "reconnaissance faciale aux frontières" in second.out


def test_archive_over_the_size_cap_is_refused(feed_server: FeedServer, workdir: Path) -> None:
    big = archive({"x.xml": b"<TEXTE/>" + b" " * 300_000})
    feed_server.serve("/dila/", listing(NEW), content_type="text/html")
    feed_server.serve(f"/dila/{NEW}", big + b"\0" * 2_000_000)
    write_config(
        workdir,
        [
            {
                "id": "jo-dila",
                "name": "JO",
                "kind": "dila",
                "url": feed_server.url("/dila/"),
                "archive": "JORFSIMPLE",
                "backfill": "true",
                "max_archive_size": "1MB",
            }
        ],
    )
    result = run("poll")
    assert "over the 1048576-byte cap" in result.err


def test_listing_without_archives_is_an_error(feed_server: FeedServer, workdir: Path) -> None:
    feed_server.serve("/dila/", "<html><body>maintenance</body></html>", content_type="text/html")
    write_config(
        workdir,
        [
            {
                "id": "jo-dila",
                "name": "JO",
                "kind": "dila",
                "url": feed_server.url("/dila/"),
                "archive": "JORF",
            }
        ],
    )
    result = run("poll")
    assert "no JORF_YYYYMMDD-HHMMSS.tar.gz archive in the listing" in result.err


@needs_real
def test_real_jorfsimple_and_cnil_files(feed_server: FeedServer, workdir: Path) -> None:
    real = {
        "t/JORFCONT000054245240.xml": (
            REAL / "dila" / "jorfsimple_JORFCONT000054245240.xml"
        ).read_bytes(),
        "t/JORFTEXT000054246001.xml": (
            REAL / "dila" / "jorfsimple_JORFTEXT000054246001.xml"
        ).read_bytes(),
        "t/JORFTEXT000054245373.xml": (
            REAL / "dila" / "jorfsimple_JORFTEXT000054245373.xml"
        ).read_bytes(),
        "cnil/CNILTEXT000026026270.xml": (
            REAL / "cnil" / "dila_cnil_TEXTE_CNIL_CNILTEXT000026026270.xml"
        ).read_bytes(),
    }
    feed_server.serve("/dila/", listing(NEWER), content_type="text/html")
    feed_server.serve(f"/dila/{NEWER}", archive(real))
    write_config(
        workdir,
        [
            {
                "id": "jo-dila",
                "name": "JO",
                "kind": "dila",
                "url": feed_server.url("/dila/"),
                "archive": "JORFSIMPLE",
                "backfill": "true",
            }
        ],
    )

    result = run("poll")

    assert result.code == 0, result.err
    db = sqlite3.connect(workdir / "watcher.db")
    rows = dict(db.execute("SELECT key, title FROM items").fetchall())
    assert len(rows) == 101 + 1  # every text the issue lists, and the CNIL deliberation
    assert (
        rows["JORFTEXT000054246001"]
        == "Arrêté du 11 juin 2026 portant nomination (régisseurs titulaires d'avances et de recettes)"
    )
    assert rows["CNILTEXT000026026270"].startswith(
        "Délibération n° 2012-138 du 3 mai 2012 autorisant Volkswagen"
    )
    (kind,) = db.execute("SELECT kind FROM items WHERE key = 'JORFTEXT000054245373'").fetchone()
    assert kind == "arrêté"
    # Texts known only from the table of contents get their kind from their
    # title, "Arrêté du 10 juin 2026…" (accents folded): all 38 arrêtés of the issue.
    kinds = dict(db.execute("SELECT kind, COUNT(*) FROM items GROUP BY kind").fetchall())
    assert kinds["arrêté"] == 38
    # The whole text is read from the archive (and not kept, since it matches nothing).
    path = workdir / "archive.tar.gz"
    path.write_bytes(archive(real))
    items, problem = read_archive(path, "jo-dila")
    assert problem is None
    assert len(next(i for i in items if i.key == "JORFTEXT000054245373").body) > 10_000
    assert result.out == ""  # catastrophes naturelles, nominations: no alert
