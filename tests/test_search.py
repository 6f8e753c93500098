"""Search over stored items: accents, case and plurals forgiven, any input safe, index in sync."""

import sqlite3
from pathlib import Path

import pytest

from watcher.store import Store
from watcher.store.schema import MIGRATIONS
from watcher.store.search import Search, fts_query


def store_with(*titles: str, path: str | Path = ":memory:") -> Store:
    store = Store(path)
    for n, title in enumerate(titles):
        store.database.db.execute(
            "INSERT INTO items (source_id, key, title, summary, first_seen) VALUES (?,?,?,?,?)",
            ["src", f"k{n}", title, "", "2026-01-01T00:00:00.000+00:00"],
        )
    return store


def titles(store: Store, words: str, **options: object) -> list[str]:
    page = Search(store.database).search(words, **options)  # type: ignore[arg-type]
    return [found.item.title for found in page.results]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cameras augmentees", ["Des caméras augmentées"]),
        ("CAMÉRA AUGMENTÉE", ["Des caméras augmentées"]),
        ("conseil municipal", ["Conseils municipaux de Lyon"]),
        ("videoprot*", ["La vidéoprotection algorithmique"]),
        ("l'État", ["Le rôle de l'État"]),
        ('"OR" NEAR( ) * -', []),
        ("ornithologie", []),
    ],
    ids=["no-accents", "upper-singular", "plurals-aux", "prefix", "elision", "operators", "none"],
)
def test_search_forgives_accents_case_and_number(query: str, expected: list[str]) -> None:
    store = store_with(
        "Des caméras augmentées",
        "Conseils municipaux de Lyon",
        "La vidéoprotection algorithmique",
        "Le rôle de l'État",
    )
    assert titles(store, query) == expected


def test_fts_query_never_passes_operators_through() -> None:
    assert fts_query('NEAR("a" b) OR c* 3') == (
        '("near" OR "nears") AND ("or" OR "ors") AND ("3" OR "3s")'
    )


def test_newest_first_pages_and_relevance() -> None:
    store = store_with(*(f"Décret numéro {n}" for n in range(7)), "Décret décret décret")
    first = Search(store.database).search("decret", limit=5)
    assert [f.item.title for f in first.results][:2] == ["Décret décret décret", "Décret numéro 6"]
    assert first.more == 5
    rest = Search(store.database).search("decret", limit=5, offset=5)
    assert len(rest.results) == 3 and rest.more is None
    assert titles(store, "decret numero 3", order="relevance") == ["Décret numéro 3"]


def test_the_index_follows_updates_and_deletes() -> None:
    store = store_with("Ancien titre")
    db = store.database.db
    db.execute("UPDATE items SET title = 'Reconnaissance faciale' WHERE key = 'k0'")
    assert titles(store, "ancien") == []
    assert titles(store, "reconnaissance") == ["Reconnaissance faciale"]
    db.execute("DELETE FROM items")
    assert titles(store, "reconnaissance") == []


def test_items_stored_before_the_index_existed_are_found(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:5]:
        old.executescript(script)
    old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    old.execute("INSERT INTO schema_version VALUES (5)")
    old.execute(
        "INSERT INTO items (source_id, key, title, first_seen) VALUES ('s', 'k', 'Vidéosurveillance', '2025-01-01T00:00:00.000+00:00')"
    )
    old.commit()
    old.close()
    assert titles(Store(path), "videosurveillance") == ["Vidéosurveillance"]


def test_newest_first_means_by_publication_date(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stored in this order (a backlog arrives after a newer text), published otherwise.
    store = Store(":memory:")
    for n, day in enumerate(("2026-03-01", "2024-05-02", "2026-04-09", "2025-01-15")):
        store.database.db.execute(
            "INSERT INTO items (source_id, key, title, summary, published, first_seen) "
            "VALUES (?,?,?,?,?,?)",
            ["src", f"k{n}", f"Décret du {day}", "", f"{day}T10:00:00+00:00", "2026-05-01"],
        )
    expected = ["2026-04-09", "2026-03-01", "2025-01-15", "2024-05-02"]
    assert titles(store, "decret") == [f"Décret du {d}" for d in expected]
    # Beyond the window sorted by date, the others follow in the order they were stored.
    monkeypatch.setattr("watcher.store.search.RELEVANCE_WINDOW", 2)
    pages = [titles(store, "decret", limit=1, offset=n) for n in range(4)]
    assert pages == [
        ["Décret du 2026-04-09"],
        ["Décret du 2025-01-15"],
        ["Décret du 2024-05-02"],
        ["Décret du 2026-03-01"],
    ]
