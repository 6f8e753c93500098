"""Subscribers in the store: registration, reactivation, refusals that arrive late."""

from datetime import UTC, datetime, timedelta

from watcher.store import Store
from watcher.store.subscribers import Subscribers

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def subscribers() -> Subscribers:
    return Subscribers(Store(":memory:"))


def test_a_refusal_older_than_a_new_start_does_not_deactivate() -> None:
    chats = subscribers()
    chats.start(42, "private", now=T0)
    refused_at = T0 + timedelta(seconds=5)  # the send that Telegram refused (blocked)
    chats.start(42, "private", now=T0 + timedelta(seconds=6))  # unblocked and /start again

    assert chats.deactivate(42, "blocked", refused_at=refused_at) is False
    assert chats.get(42).active  # type: ignore[union-attr]

    assert chats.deactivate(42, "blocked", refused_at=T0 + timedelta(seconds=7)) is True
    assert not chats.get(42).active  # type: ignore[union-attr]


def test_start_reactivates_and_keeps_subscriptions() -> None:
    chats = subscribers()
    chats.start(7, "private", now=T0)
    chats.subscribe(7, "biometrie")
    chats.deactivate(7, "kicked")
    assert chats.subscriptions() == {}
    chats.start(7, "private", now=T0 + timedelta(days=1))
    assert chats.subscriptions() == {7: {"biometrie"}}


def test_paused_chats_get_no_alerts_and_stop_forgets_everything() -> None:
    chats = subscribers()
    chats.start(8, "private", now=T0)
    chats.subscribe(8, "biometrie")
    chats.set_flag(8, "paused", True)
    assert chats.subscriptions() == {}
    chats.delete(8)
    assert chats.get(8) is None


def test_an_older_database_is_migrated_at_start_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from watcher.store.schema import MIGRATIONS

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0])
    old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    old.execute("INSERT INTO schema_version VALUES (1)")
    old.execute(
        "INSERT INTO subscribers (chat_id, created) VALUES (5, '2025-01-01T00:00:00.000+00:00')"
    )
    old.commit()
    old.close()

    chats = Subscribers(Store(path))

    assert chats.get(5) is not None  # nothing stored is lost
    assert (
        chats.deactivate(5, "blocked", refused_at=T0) is True
    )  # started_at NULL: old rows deactivate
    db = sqlite3.connect(path)
    assert db.execute("SELECT MAX(version) FROM schema_version").fetchone() == (len(MIGRATIONS),)


def test_a_database_whose_chat_words_were_created_when_missing_keeps_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Before migration 12, /mots and /reglages created their tables on first use."""
    import sqlite3

    from watcher.store.filters import ChatFilters
    from watcher.store.schema import MIGRATIONS
    from watcher.store.words import ChatWords

    path = tmp_path / "v11.db"
    Store(path).database.db.execute("DELETE FROM schema_version WHERE version > 11")
    old = sqlite3.connect(path)
    old.execute("DROP TABLE chat_filters")
    old.execute("INSERT INTO chat_words VALUES (5, 'lidar', '2025-01-01T00:00:00.000+00:00')")
    old.commit()
    old.close()

    store = Store(path)

    assert ChatWords(store.database).of(5) == ["lidar"]  # nothing stored is lost
    assert ChatFilters(store.database).every() == {}  # the missing table was created
    version = store.database.db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    assert version == (len(MIGRATIONS),)
