"""Commands that read the database: status, search, feed, export, dossiers."""

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.cli_args import database_path, db_path, existing_database, load, open_text
from watcher.errors import WatcherError

if TYPE_CHECKING:
    from watcher.config import Config
    from watcher.store import Store

logger = logging.getLogger("watcher")


def cmd_status(args: argparse.Namespace) -> int:
    import sqlite3

    from watcher.runner import integrity_line
    from watcher.store import Store

    config = load(args)
    store = Store(database_path(args))  # a typo in --db is an error, not a new database
    damaged = store.database.integrity_problem()
    if damaged:
        print(integrity_line(store.path, damaged))
    try:
        return _status(args, config, store, damaged)
    except sqlite3.DatabaseError as exc:  # a damaged file: said above, and here in one line
        state = "unhealthy: the database fails its integrity check; " if damaged else ""
        raise WatcherError(f"{state}{store.path}: cannot be read ({exc})") from None


def _status(args: argparse.Namespace, config: "Config", store: "Store", damaged: str | None) -> int:
    from datetime import UTC, datetime

    from watcher.health import problems
    from watcher.poll import missing_secrets
    from watcher.sources.catalog import ocr_warning
    from watcher.store.space import low_space

    skipped = missing_secrets(config, os.environ)
    print(f"{'source':<24} {'last success':<26} {'items':>6} {'alerts':>6}  last error")
    statuses = store.sources.statuses([s.id for s in config.sources])
    for status in statuses:
        error = status.last_error or ""
        if error and status.consecutive_errors:
            error = f"{error} ({status.consecutive_errors}x, at {status.last_error_at})"
        if status.id in skipped:
            error = f"skipped: set {' and '.join(skipped[status.id])}"
        print(
            f"{status.id:<24} {status.last_success or 'never':<26} "
            f"{status.items_seen:>6} {status.alerts_sent:>6}  {error}"
        )
    if (missing := ocr_warning(config.sources)) is not None:
        print(f"warning: {missing}")
    failures = store.outbox.failure_counts()
    full = low_space(store.path)
    if full:
        print(full)
    print(
        f"outbox: {store.outbox.outbox_length()} pending alert(s); ended for good: "
        f"{failures['chat_gone']} to chats that refuse the bot, {failures['refused']} refused"
        + (f", {failures['failed']} failed (older versions)" if failures.get("failed") else "")
    )
    for target, counts in sorted(store.outbox.target_counts().items()):
        print(f"  {target}: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    now = datetime.now(UTC)
    drifts = store.polls.drifts([s.id for s in statuses if s.id not in skipped], now)
    for drift in drifts:
        print(f"drift: {drift.line()}")
    if args.check:
        pollable = [s for s in statuses if s.id not in skipped]
        found = problems(pollable, store.meta.last_beat(), now, drifts)
        found += [full] if full else []
        found += ["the database fails its integrity check"] if damaged else []
        if found:
            raise WatcherError("unhealthy: " + "; ".join(found))
        print("healthy")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from watcher.delivery.render import format_date
    from watcher.feeds_out import render_search
    from watcher.store.dossiers import DossierTable
    from watcher.store.search import Search

    config = load(args)
    words = " ".join(args.words)
    database = existing_database(args)
    # A dossier's number or signet ("505", "ppl22-505") names the dossier first.
    dossiers = DossierTable(database).find(words)
    for dossier in dossiers:
        record = DossierTable(database).get(dossier)
        assert record is not None
        print(f"dossier {dossier}: {record.title}")
        for step in DossierTable(database).steps(dossier):
            print(f"  {format_date(step.at, config.settings.timezone) or '-':<10} {step.label}")
    page = Search(database).search(words, limit=args.limit)
    if dossiers and not page.results:
        return 0
    if not page.results:
        print(f"no stored item contains: {words}", file=sys.stderr)
        return 1
    sys.stdout.write(render_search(config, page.results))
    if page.more is not None:
        print(f"(more than {args.limit}: --limit to see more)", file=sys.stderr)
    return 0


def cmd_feed(args: argparse.Namespace) -> int:
    from watcher.feeds_out import atom_feed, write_atomically
    from watcher.store.search import Search

    config = load(args)
    found = Search(existing_database(args)).matched(topic=args.topic, limit=args.limit)
    document = atom_feed(config, args.topic, found)
    if args.output == "-":
        sys.stdout.write(document.decode("utf-8"))
    else:
        try:
            write_atomically(Path(args.output), document)
        except OSError as exc:
            raise WatcherError(f"{args.output}: cannot write ({exc.strerror})") from None
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from watcher.feeds_out import write_export
    from watcher.store.search import Search

    config = load(args)
    found = Search(existing_database(args)).matched()
    out = sys.stdout if not args.output else open_text(args.output, "w", newline="")
    try:
        count = write_export(config, found, out, args.format)
    finally:
        if out is not sys.stdout:
            out.close()
    logger.info("%d alert(s) exported", count)
    return 0


def cmd_dossiers(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from watcher.following.report import report
    from watcher.store import Store

    config = load(args)
    existing_database(args)
    store = Store(db_path(args))
    now = datetime.now(UTC)
    dossiers = store.dossiers.all()
    if args.dossier:
        named = store.dossiers.find(args.dossier)
        dossiers = [d for d in dossiers if d.dossier in named]
        if not dossiers:
            raise WatcherError(f"no dossier is named {args.dossier!r}: try `watcher dossiers`")
    steps = {d.dossier: store.dossiers.steps(d.dossier) for d in dossiers}
    print(report(dossiers, timezone=config.settings.timezone, now=now, steps=steps))
    return 0
