"""A poll's changes, noted on the dossiers inside its transaction (``Store.save_poll``).

An alerted text's dossier becomes followed by the chats it alerted; any saved text of a
followed dossier is one of its steps, recorded once (``dossier_steps``) whichever source
showed it first, so that a step is never told twice.
"""

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from watcher import following
from watcher.decide import ItemChange
from watcher.items import Item
from watcher.store.schema import now_iso


def untold(db: Any, change: ItemChange) -> ItemChange:
    """Inside a poll's transaction: a follow-up of a step its dossier already told (another
    source's text of it, read first) is not told again."""
    if not change.follow_ups or not change.item.dossier:
        return change
    row = db.execute(
        "SELECT item_id FROM dossier_steps WHERE dossier = ? AND step = ?",
        [change.item.dossier, following.step_key(change.item)],
    ).fetchone()
    if row is None or (change.known is not None and row[0] == change.known.item_id):
        return change
    return replace(change, follow_ups=())


def note_change(
    db: Any,
    change: ItemChange,
    item_id: int,
    *,
    now: datetime,
    follow_after_law: timedelta = following.FOLLOW_AFTER_LAW,
) -> None:
    """Inside a poll's transaction: an alerted text's dossier becomes followed by the
    chats it alerts (a first sighting or another source's, from its title or its full
    text); any saved text of a followed dossier is one of its steps."""
    item = change.item
    dossier = item.dossier
    if change.reason == "sighting" and change.known and change.known.dossier:
        # Another source's sighting: the text stays in the dossier it was stored in,
        # unless a followed dossier's stream shows it is one of its steps.
        dossier = item.dossier if change.follow_ups else change.known.dossier
    if not dossier or change.reason == "refresh":
        return
    if change.alerts and (bill := _bill_of(db, dossier)) != dossier:
        # A text's own signet (a committee's text, an adopted text) that another source
        # files under its bill's dossier: that dossier is followed, and the text is its step.
        db.execute("UPDATE items SET dossier = ? WHERE id = ?", [bill, item_id])
        dossier = bill
    if change.alerts:
        db.execute(
            """INSERT OR IGNORE INTO dossiers (dossier, source_id, title, created)
               VALUES (?,?,?,?)""",
            [dossier, item.source_id, " ".join(item.title.split()), now_iso(now)],
        )
        for route in change.alerts:
            db.execute(
                """INSERT OR IGNORE INTO dossier_followers
                   (dossier, target, destination, how, since) VALUES (?,?,?,'alert',?)""",
                [dossier, route.target, route.destination, now_iso(now)],
            )
    row = db.execute("SELECT last_step_at FROM dossiers WHERE dossier = ?", [dossier]).fetchone()
    if row is None:
        return
    _note_step(db, dossier, item, item_id, now=now)
    step_at = following.step_date(item) or now
    if row[0] is None or now_iso(step_at) >= row[0]:
        db.execute(
            "UPDATE dossiers SET stage = ?, last_step_at = ? WHERE dossier = ?",
            [following.stage_label(item), now_iso(step_at), dossier],
        )
    if item.event_at is not None and item.event_at > now:
        # A sitting date, whichever source of the dossier announces it.
        db.execute(
            "UPDATE dossiers SET next_date = ?, next_event = ? WHERE dossier = ?",
            [now_iso(item.event_at), item.event or "Examen", dossier],
        )
    law = following.law_of(item)
    if law:
        db.execute(
            "UPDATE dossiers SET law = ?, ends_at = ? WHERE dossier = ? AND law = ''",
            [law, now_iso(following.ends_at(item.published, now, follow_after_law)), dossier],
        )


def _bill_of(db: Any, dossier: str) -> str:
    """The dossier another source files the text named ``dossier`` under (an Akoma Ntoso
    file names its bill's signet besides its own), else ``dossier`` itself."""
    row = db.execute(
        """SELECT items.dossier FROM item_aliases JOIN items ON items.id = item_aliases.item_id
           WHERE item_aliases.alias = ? AND items.dossier NOT IN ('', ?)
           ORDER BY items.id LIMIT 1""",
        [dossier, dossier],
    ).fetchone()
    return str(row[0]) if row else dossier


def _note_step(db: Any, dossier: str, item: Item, item_id: int, *, now: datetime) -> None:
    """The step this text is, once per dossier; each source that showed it is noted."""
    step = following.step_key(item)
    row = db.execute(
        "SELECT sources FROM dossier_steps WHERE dossier = ? AND step = ?", [dossier, step]
    ).fetchone()
    if row is None:
        when = following.step_date(item)
        db.execute(
            """INSERT INTO dossier_steps (dossier, step, label, at, item_id, url, sources, seen)
               VALUES (?,?,?,?,?,?,?,?)""",
            [
                dossier,
                step,
                following.stage_label(item),
                now_iso(when) if when else None,
                item_id,
                item.url,
                json.dumps([item.source_id]),
                now_iso(now),
            ],
        )
        return
    sources = json.loads(row[0])
    if item.source_id not in sources:
        db.execute(
            "UPDATE dossier_steps SET sources = ? WHERE dossier = ? AND step = ?",
            [json.dumps([*sources, item.source_id]), dossier, step],
        )
