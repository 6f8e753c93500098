"""The SQLite schema (numbered migrations, applied at start-up) and row decoding."""

import json
from datetime import UTC, datetime
from typing import Any

from watcher.items import Item
from watcher.matching.engine import TopicMatch
from watcher.matching.excerpt import Excerpt

MIGRATIONS: tuple[str, ...] = (
    # 1: the foundation.
    """
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        etag TEXT, last_modified TEXT, content_hash TEXT, cursor TEXT NOT NULL DEFAULT '{}',
        initialized INTEGER NOT NULL DEFAULT 0,
        last_attempt TEXT, last_success TEXT, last_error TEXT, last_error_at TEXT,
        consecutive_errors INTEGER NOT NULL DEFAULT 0,
        next_check TEXT
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL, key TEXT NOT NULL,
        title TEXT NOT NULL, url TEXT, published TEXT,
        summary TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT '', schedule TEXT NOT NULL DEFAULT '',
        first_seen TEXT NOT NULL,
        UNIQUE (source_id, key)
    );
    CREATE TABLE matches (
        item_id INTEGER NOT NULL REFERENCES items(id),
        topic TEXT NOT NULL,
        keywords TEXT NOT NULL,
        excerpt TEXT NOT NULL DEFAULT '', hit_start INTEGER NOT NULL DEFAULT 0,
        hit_end INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (item_id, topic)
    );
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        destination TEXT NOT NULL,
        topics TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt TEXT,
        created TEXT NOT NULL, sent_at TEXT,
        UNIQUE (item_id, destination)
    );
    CREATE INDEX alerts_pending ON alerts (status, next_attempt);
    CREATE TABLE subscribers (
        chat_id INTEGER PRIMARY KEY,
        chat_type TEXT NOT NULL DEFAULT 'private',
        active INTEGER NOT NULL DEFAULT 1,
        paused INTEGER NOT NULL DEFAULT 0,
        digest INTEGER NOT NULL DEFAULT 0,
        last_digest TEXT,
        created TEXT NOT NULL
    );
    CREATE TABLE subscriptions (
        chat_id INTEGER NOT NULL REFERENCES subscribers(chat_id),
        topic TEXT NOT NULL,
        PRIMARY KEY (chat_id, topic)
    );
    """,
    # 2: when a chat last (re)started, so a stale 403 cannot undo a later /start.
    """
    ALTER TABLE subscribers ADD COLUMN started_at TEXT;
    """,
    # 3: the matched words as the text spells them, which alerts show.
    """
    ALTER TABLE matches ADD COLUMN words TEXT NOT NULL DEFAULT '[]';
    """,
    # 4: documents that change (revision), when they are debated (event), their dossier,
    # other identities (aliases), and what identifies an item when a feed changes its
    # guids (link_key, fingerprint); why an alert was made (new, update, follow-up).
    """
    ALTER TABLE items ADD COLUMN revision TEXT NOT NULL DEFAULT '';
    ALTER TABLE items ADD COLUMN event_at TEXT;
    ALTER TABLE items ADD COLUMN event TEXT NOT NULL DEFAULT '';
    ALTER TABLE items ADD COLUMN dossier TEXT NOT NULL DEFAULT '';
    ALTER TABLE items ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE items ADD COLUMN link_key TEXT;
    ALTER TABLE items ADD COLUMN fingerprint TEXT;
    ALTER TABLE items ADD COLUMN updated TEXT;
    CREATE INDEX items_link ON items (source_id, link_key);
    CREATE INDEX items_fingerprint ON items (source_id, fingerprint);
    CREATE INDEX items_dossier ON items (dossier);
    ALTER TABLE alerts ADD COLUMN reason TEXT NOT NULL DEFAULT 'new';
    CREATE INDEX alerts_item ON alerts (item_id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 5: delivery as a stage. Each alert names its target (rows written before were
    # the console's or Telegram's); the id of the message that carried it, to reply
    # to it later; which permanent failures the maintainers were told of.
    """
    ALTER TABLE alerts ADD COLUMN target TEXT NOT NULL DEFAULT 'telegram';
    UPDATE alerts SET target = 'console' WHERE destination = 'console';
    ALTER TABLE alerts ADD COLUMN message_id INTEGER;
    CREATE INDEX alerts_due ON alerts (target, status, next_attempt);
    CREATE TABLE delivery_notices (
        kind TEXT NOT NULL, destination TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (kind, destination)
    );
    """,
    # 6: search over every stored item, folding case and accents as the matcher does
    # (an external-content FTS5 index kept in step with ``items`` by triggers, filled
    # from the items already stored); each chat's settings (/reglages) and when it
    # paused, to sum up what it missed at /reprendre.
    """
    CREATE VIRTUAL TABLE items_fts USING fts5(
        title, summary, body, content='items', content_rowid='id',
        tokenize="unicode61 remove_diacritics 2"
    );
    CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO items_fts (rowid, title, summary, body)
        VALUES (new.id, new.title, new.summary, new.body);
    END;
    CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
        INSERT INTO items_fts (items_fts, rowid, title, summary, body)
        VALUES ('delete', old.id, old.title, old.summary, old.body);
    END;
    CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary, body ON items BEGIN
        INSERT INTO items_fts (items_fts, rowid, title, summary, body)
        VALUES ('delete', old.id, old.title, old.summary, old.body);
        INSERT INTO items_fts (rowid, title, summary, body)
        VALUES (new.id, new.title, new.summary, new.body);
    END;
    INSERT INTO items_fts (items_fts) VALUES ('rebuild');
    ALTER TABLE subscribers ADD COLUMN mode TEXT NOT NULL DEFAULT 'immediate';
    UPDATE subscribers SET mode = 'digest' WHERE digest = 1;
    ALTER TABLE subscribers ADD COLUMN digest_time TEXT;
    ALTER TABLE subscribers ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE subscribers ADD COLUMN previews INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE subscribers ADD COLUMN territories TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE subscribers ADD COLUMN paused_at TEXT;
    """,
    # 7: followed dossiers (their stream's state, last step, next date, end), who
    # follows each, and the identities of a text across sources: its aliases, and
    # the other sources' sightings of it (their key, link and date).
    """
    CREATE TABLE dossiers (
        dossier TEXT PRIMARY KEY,
        source_id TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'followed',
        stage TEXT NOT NULL DEFAULT '',
        last_step_at TEXT, next_date TEXT, next_event TEXT NOT NULL DEFAULT '',
        law TEXT NOT NULL DEFAULT '',
        ends_at TEXT,
        etag TEXT, last_modified TEXT, content_hash TEXT, cursor TEXT NOT NULL DEFAULT '{}',
        initialized INTEGER NOT NULL DEFAULT 0,
        last_poll TEXT, last_error TEXT, consecutive_errors INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL
    );
    CREATE INDEX dossiers_law ON dossiers (law);
    CREATE TABLE dossier_followers (
        dossier TEXT NOT NULL, target TEXT NOT NULL, destination TEXT NOT NULL,
        how TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, since TEXT NOT NULL,
        PRIMARY KEY (dossier, destination)
    );
    CREATE TABLE item_aliases (
        alias TEXT NOT NULL, item_id INTEGER NOT NULL REFERENCES items(id),
        PRIMARY KEY (alias, item_id)
    );
    INSERT OR IGNORE INTO item_aliases (alias, item_id)
        SELECT each.value, items.id FROM items, json_each(items.aliases) AS each;
    CREATE TABLE item_links (
        source_id TEXT NOT NULL, key TEXT NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items(id),
        url TEXT, published TEXT, seen TEXT NOT NULL,
        PRIMARY KEY (source_id, key)
    );
    CREATE INDEX item_links_item ON item_links (item_id);
    CREATE INDEX items_link_any ON items (link_key);
    """,
    # 8: each poll's figures per source (what it read, or how it failed), to tell a
    # source that drifts (0 links, no text, a newest item that stops advancing, an
    # unrecognised answer); the drift each source shows, and when maintainers were told.
    """
    CREATE TABLE source_polls (
        id INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL, at TEXT NOT NULL, outcome TEXT NOT NULL,
        items INTEGER NOT NULL DEFAULT 0,
        with_text INTEGER NOT NULL DEFAULT 0, without_text INTEGER NOT NULL DEFAULT 0,
        dated INTEGER NOT NULL DEFAULT 0, sittings INTEGER NOT NULL DEFAULT 0,
        newest TEXT, whole INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX source_polls_source ON source_polls (source_id, at);
    CREATE TABLE source_drift (
        source_id TEXT PRIMARY KEY, problem TEXT NOT NULL, since TEXT NOT NULL,
        notice TEXT NOT NULL, told_at TEXT
    );
    """,
    # 9: each step of a dossier once, whichever sources told it (``following.step_key``):
    # what happened, when, the text that told it first and every source that showed it.
    """
    CREATE TABLE dossier_steps (
        dossier TEXT NOT NULL, step TEXT NOT NULL, label TEXT NOT NULL, at TEXT,
        item_id INTEGER NOT NULL REFERENCES items(id), url TEXT,
        sources TEXT NOT NULL DEFAULT '[]', seen TEXT NOT NULL,
        PRIMARY KEY (dossier, step)
    );
    """,
    # 10: the review queue: near misses of the matcher (a weak word alone, a pair just
    # outside its window, hits voided by a negation), held for a maintainer's 👍/👎.
    """
    CREATE TABLE review_queue (
        id INTEGER PRIMARY KEY,
        item_id INTEGER NOT NULL REFERENCES items(id),
        topic TEXT NOT NULL,
        reasons TEXT NOT NULL,
        excerpt TEXT NOT NULL DEFAULT '', hit_start INTEGER NOT NULL DEFAULT 0,
        hit_end INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        relevant INTEGER, labelled_at TEXT, labelled_by INTEGER,
        UNIQUE (item_id, topic)
    );
    CREATE INDEX review_pending ON review_queue (relevant, id);
    -- Why a match was enough ("titre : biométrie"), shown in its alert.
    ALTER TABLE matches ADD COLUMN signals TEXT NOT NULL DEFAULT '[]';
    """,
    # 11: messages that are not alerts (new topics announced, maintainers' notices), queued
    # and delivered like alerts: crash-safe, paced, retried; each key once per destination.
    """
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL, target TEXT NOT NULL, destination TEXT NOT NULL,
        text TEXT NOT NULL, buttons TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT, next_attempt TEXT, created TEXT NOT NULL, sent_at TEXT,
        UNIQUE (key, destination)
    );
    CREATE INDEX notices_due ON notices (target, status, next_attempt);
    """,
    # 12: each chat's own words (/mots) and its filters (/reglages). Both tables were created
    # when missing before they had a number, so a database may hold them already.
    """
    CREATE TABLE IF NOT EXISTS chat_words (
        chat_id INTEGER NOT NULL,
        rule TEXT NOT NULL,
        added TEXT NOT NULL,
        PRIMARY KEY (chat_id, rule)
    );
    CREATE TABLE IF NOT EXISTS chat_filters (
        chat_id INTEGER PRIMARY KEY,
        kinds TEXT NOT NULL DEFAULT '[]',
        families TEXT NOT NULL DEFAULT '[]'
    );
    """,
)


def now_iso(moment: datetime | None = None) -> str:
    # One fixed precision, so that stored times compare correctly as text.
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")


def item_from_row(row: dict[str, Any]) -> Item:
    published = row.get("published")
    return Item(
        source_id=row["source_id"],
        key=row["key"],
        title=row["title"],
        url=row["url"],
        published=datetime.fromisoformat(published) if published else None,
        summary=row["summary"],
        body=row["body"],
        kind=row["kind"],
        schedule=row["schedule"],
        revision=row.get("revision") or "",
        event_at=datetime.fromisoformat(row["event_at"]) if row.get("event_at") else None,
        event=row.get("event") or "",
        dossier=row.get("dossier") or "",
        aliases=tuple(json.loads(row.get("aliases") or "[]")),
    )


def match_from_row(row: dict[str, Any]) -> TopicMatch:
    excerpt = Excerpt(row["excerpt"], row["hit_start"], row["hit_end"]) if row["excerpt"] else None
    return TopicMatch(
        row["topic"],
        row["topic"],
        tuple(json.loads(row["keywords"])),
        excerpt,
        tuple(json.loads(row.get("words") or "[]")),
        tuple(json.loads(row.get("signals") or "[]")),
    )
