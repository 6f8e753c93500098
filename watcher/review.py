"""The review loop: a held near miss, labelled 👍 / 👎, becomes a backtest example.

Labels go to a local JSONL file in the backtest's input format (``id``,
``title``, ``summary``, ``body``, ``relevant``, plus ``topic``, ``kind``,
``source``, ``url``, ``why``), so ``watcher backtest --input`` scores every later
rule change against the maintainers' decisions. The file is
``$WATCHER_REVIEW_LABELS``, else ``review-labels.jsonl`` beside the database.
Labelling an item again replaces its line.
"""

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watcher.errors import WatcherError
from watcher.store.review import ReviewEntry

if TYPE_CHECKING:
    from watcher.config import Config
    from watcher.store import Store

LABELS_FILE = "review-labels.jsonl"


def labels_path(db_path: Path, environ: Mapping[str, str]) -> Path:
    """Where labels are written: ``$WATCHER_REVIEW_LABELS``, else beside the database."""
    configured = environ.get("WATCHER_REVIEW_LABELS")
    return Path(configured) if configured else db_path.parent / LABELS_FILE


def example_id(entry: ReviewEntry) -> str:
    return f"{entry.item.source_id}:{entry.item.key}:{entry.topic}"


def label_line(entry: ReviewEntry, *, relevant: bool, kind: str, by: int | None) -> dict[str, Any]:
    """The backtest input line a label makes."""
    item = entry.item
    return {
        "id": example_id(entry),
        "title": item.title,
        "summary": item.summary,
        "body": item.body,
        "url": item.url or "",
        "date": item.published.date().isoformat() if item.published else "",
        "source": item.source_id,
        "kind": kind,
        "topic": entry.topic,
        "relevant": relevant,
        "ambiguous": False,
        "why": "revue : " + "; ".join(entry.reasons),
        "labelled_by": by,
    }


def record_label(
    store: "Store",
    config: "Config",
    path: Path,
    entry_id: int,
    *,
    relevant: bool,
    by: int | None,
    now: datetime,
) -> ReviewEntry:
    """Label a held near miss: in the database, and as a line of the labels file."""
    entry = store.review.get(entry_id)
    if entry is None:
        raise WatcherError(f"no near miss #{entry_id} in the review queue")
    source = config.source(entry.item.source_id)
    line = label_line(entry, relevant=relevant, kind=source.kind if source else "", by=by)
    _write_replacing(path, line)
    store.review.label(entry_id, relevant=relevant, by=by, now=now)
    return entry


def _write_replacing(path: Path, line: dict[str, Any]) -> None:
    """Rewrite the labels file with ``line`` instead of any earlier one of the same id."""
    kept: list[str] = []
    try:
        if path.exists():
            for old in path.read_text(encoding="utf-8").splitlines():
                try:
                    same = json.loads(old).get("id") == line["id"]
                except (json.JSONDecodeError, AttributeError):
                    same = False  # a line the maintainer edited badly stays as it is
                if old.strip() and not same:
                    kept.append(old)
        kept.append(json.dumps(line, ensure_ascii=False))
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=".labels-", delete=False
        ) as out:
            out.write("\n".join(kept) + "\n")
        os.replace(out.name, path)
    except OSError as exc:
        raise WatcherError(f"{path}: cannot write the review labels ({exc.strerror})") from None


def describe(entry: ReviewEntry) -> str:
    """A near miss as ``watcher review`` prints it."""
    item = entry.item
    lines = [f"#{entry.id} [{entry.topic}] {item.title}"]
    lines.append(f"  source: {item.source_id}" + (f" — {item.url}" if item.url else ""))
    lines += [f"  held: {reason}" for reason in entry.reasons]
    if entry.excerpt:
        lines.append(f"  excerpt: {entry.excerpt.marked()}")
    return "\n".join(lines)
