"""The ``watcher`` command: the only place where errors become messages and exit codes."""

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from watcher import __version__
from watcher.errors import WatcherError
from watcher.logs import configure_logging

if TYPE_CHECKING:
    from watcher.config import Config
    from watcher.matching.engine import Matcher
    from watcher.personal import PersonalMatcher
    from watcher.store import Store
    from watcher.store.db import Database

logger = logging.getLogger("watcher")

EXAMPLES = {
    "validate": "example:\n  watcher validate --config feeds.yml",
    "poll": "example:\n  watcher poll                 # fetch, match, deliver once, then exit",
    "run": "example:\n  TELEGRAM_BOT_TOKEN=123:abc watcher run",
    "check": (
        'examples:\n  watcher check "Expérimentation de la vidéoprotection algorithmique"\n'
        "  pdftotext decret.pdf - | watcher check -"
    ),
    "backtest": (
        "examples:\n  watcher backtest --input items.jsonl --output results.jsonl\n"
        "  watcher backtest --input review-labels.jsonl --compare feeds.yml.old\n\n"
        'Input lines: {"id", "title", "summary"?, "body"?, "relevant"?, "ambiguous"?}\n'
        'Output lines: {"id", "matched", "topics", "keywords"}, one per input line.'
    ),
    "review": (
        "examples:\n  watcher review                 # the near misses waiting for a label\n"
        "  watcher review --relevant 12   # label #12 relevant (--not-relevant 12: not)\n\n"
        "Labels go to $WATCHER_REVIEW_LABELS, else review-labels.jsonl beside the database,\n"
        "in the backtest format: watcher backtest --input review-labels.jsonl"
    ),
    "status": (
        "examples:\n  watcher status --db /var/lib/watcher/watcher.db\n"
        "  watcher status --check      # exit 1 if the run loop stopped, every source fails,\n"
        "                              # or a source drifts (0 links, no text, stalled...)"
    ),
    "dossiers": (
        "examples:\n  watcher dossiers --db /var/lib/watcher/watcher.db\n"
        "  watcher dossiers ppl22-505       # one dossier, by signet or number"
    ),
    "search": (
        "examples:\n  watcher search cameras augmentees      # accents and case ignored\n"
        "  watcher search reconnaissance faciale --limit 50\n\n"
        "Exit status: 0 when something is found, 1 when nothing is."
    ),
    "feed": "example:\n  watcher feed --topic biometrie --output alerts.xml --limit 50",
    "export": (
        "examples:\n  watcher export --format csv --output alerts.csv\n"
        "  watcher export --format jsonl | jq .title"
    ),
    "sources": (
        "examples:\n  watcher sources check      # every source fetched once, nothing stored\n"
        "  watcher sources check --source senat-textes\n\n"
        "Exit status: 0 when every source checked is usable, 1 otherwise."
    ),
    "probe": (
        "example:\n  watcher probe 'https://edelib.auvergnerhonealpes.fr/webdelibplus/jsp/"
        "seances.jsp?role=usager'"
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watcher",
        description=(
            "Watch French public sources for texts about biometric surveillance and alert "
            "Telegram subscribers. / Veille législative sur la surveillance biométrique."
        ),
    )
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    _global_options(parser)
    parser.set_defaults(config=None, db=None, verbose=False)
    # The same options after the command (`watcher status --db X`), as users expect; a
    # value given there wins, and SUPPRESS keeps an absent one from hiding the first.
    after = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    _global_options(after)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXAMPLES[name],
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[after],
        )

    command("validate", "Check feeds.yml and print a summary of it.")
    command("poll", "Run one cycle: fetch every source, store, match, deliver; then exit.")
    command("run", "Poll each source on its interval (and run the Telegram bot) until stopped.")
    check = command("check", "Show which topics and keywords a text matches, with the excerpt.")
    check.add_argument("text", help="the text to test, or - to read standard input")
    words_help = "also match the subscribers' own words (/mots) stored in the database"
    check.add_argument("--words", action="store_true", help=words_help)
    backtest = command("backtest", "Run the matcher over past items from a JSONL file.")
    backtest.add_argument("--words", action="store_true", help=words_help)
    backtest.add_argument("--input", required=True, help="JSONL file of items (- for stdin)")
    backtest.add_argument("--output", help="where to write results (default: stdout)")
    backtest.add_argument(
        "--compare",
        metavar="OLD.yml",
        help="also match with this older feeds.yml and list the items whose outcome changes",
    )
    backtest.add_argument(
        "--topic",
        help='the topic lines without their own "topic" are labelled for '
        "(default: the only topic, else any topic)",
    )
    review = command("review", "Show the near misses held for review (not alerted), or label one.")
    review.add_argument("--limit", type=_positive, default=20, help="entries (default 20)")
    labels = review.add_mutually_exclusive_group()
    labels.add_argument("--relevant", type=_positive, metavar="ID", help="label #ID relevant")
    labels.add_argument(
        "--not-relevant", type=_positive, metavar="ID", help="label #ID not relevant"
    )
    status = command(
        "status", "Show each source's last success, last error, items seen, alerts sent."
    )
    status.add_argument(
        "--check",
        action="store_true",
        help="exit 1 when the run loop has stopped, every source is failing or a source drifts",
    )
    dossiers = command(
        "dossiers",
        "Show the followed dossiers: each one's steps in order with their dates and sources, "
        "next date, the chats following it.",
    )
    dossiers.add_argument(
        "dossier", nargs="?", help="only this dossier: its signet, number, key or link"
    )
    search = command("search", "Search every stored item (accents and case ignored).")
    search.add_argument("words", nargs="+", help="words to find (each a word's beginning)")
    search.add_argument("--limit", type=_positive, default=20, help="results (default 20)")
    feed = command("feed", "Write an Atom 1.0 feed of a topic's latest alerts.")
    feed.add_argument("--topic", required=True, help="topic id from feeds.yml")
    feed.add_argument("--output", required=True, help="file to write (- for stdout)")
    feed.add_argument("--limit", type=_positive, default=50, help="entries (default 50)")
    export = command("export", "Export the stored alerts (matched items) as CSV or JSONL.")
    export.add_argument("--format", choices=("csv", "jsonl"), required=True)
    export.add_argument("--output", help="file to write (default: stdout)")
    sources = command("sources", "Check the configured sources on the real services.")
    actions = sources.add_subparsers(dest="action", metavar="ACTION", required=True)
    check_sources = actions.add_parser(
        "check",
        help="fetch every source once and say, in a table, whether each is usable",
        description=(
            "Fetch every configured source once with its own reader (nothing is stored),\n"
            "then print a table: HTTP answer, final address, shape recognised, items read,\n"
            "documents with and without text, newest date, dates and sittings, a verdict,\n"
            "and what to change when something is off."
        ),
        epilog=EXAMPLES["sources"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[after],
    )
    check_sources.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="ID",
        help="check only this source (repeat for several)",
    )
    probe = command("probe", "Say what a URL is and print a feeds.yml entry to watch it.")
    probe.add_argument("url", help="a feed, SCDL CSV, dataset, ArcGIS layer or council page")
    return parser


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number >= 1")
    return int(text)


def _global_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", help="feeds.yml to use (default: $WATCHER_CONFIG, else ./feeds.yml)"
    )
    parser.add_argument("--db", help="SQLite database (default: $WATCHER_DB, else ./watcher.db)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")


def main(argv: Sequence[str] | None = None) -> int:
    # python-telegram-bot 22 gives durations (retry_after) as timedelta when asked to,
    # and warns on every 429 otherwise.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose, os.environ)
    handler: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
    try:
        return handler(args)
    except WatcherError as exc:
        print(f"watcher: {exc}", file=sys.stderr)
        # `check` answers like grep: 0 a match, 1 no match, 2 trouble.
        return 2 if args.command == "check" else 1
    except KeyboardInterrupt:
        return 130


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("WATCHER_CONFIG") or "feeds.yml")


def db_path(args: argparse.Namespace) -> Path:
    return Path(args.db or os.environ.get("WATCHER_DB") or "watcher.db")


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from watcher.config import load_config
    from watcher.delivery.targets import target_secrets
    from watcher.logs import hide_secrets, use_timezone

    config = load_config(config_path(args))
    use_timezone(config.settings.timezone)
    hide_secrets(os.environ.get(name, "") for name in target_secrets(config.targets))
    return config


def cmd_validate(args: argparse.Namespace) -> int:
    from watcher.matching.rules import Near, Ref
    from watcher.poll import missing_secrets

    config = _load(args)
    print(f"{config.path}: OK")
    print(f"  {len(config.sources)} source(s): " + ", ".join(s.id for s in config.sources))
    for topic in config.topics.values():
        near = sum(isinstance(rule, Near) for rule in topic.keywords)
        refs = sum(isinstance(rule, Ref) for rule in topic.keywords)
        print(
            f"  topic {topic.id} ({topic.label}): {len(topic.keywords) - near - refs} "
            f"keyword(s), {near} proximity rule(s), {refs} legal reference(s), "
            f"{len(topic.exclude)} exclusion(s), "
            f"{len(topic.weak)} weak term(s)"
        )
    print(f"  {len(config.channels)} channel(s), {len(config.maintainers)} maintainer(s)")
    for target in config.targets:
        print(f"  target {target.name} ({target.kind})")
    for source_id, names in missing_secrets(config, os.environ).items():
        print(f"  {source_id}: skipped until {' and '.join(names)} are set")
    return 0


def _own_words(args: argparse.Namespace) -> "PersonalMatcher":
    """With ``--words``, every chat's own words (/mots) from the database; else none."""
    from watcher.personal import PersonalMatcher
    from watcher.store.words import ChatWords

    if not getattr(args, "words", False):
        return PersonalMatcher({})
    return PersonalMatcher(ChatWords(_existing_database(args)).every())


def _matcher(args: argparse.Namespace, config: "Config") -> "Matcher":
    """The topics' matcher; with ``--words``, the subscribers' own words too."""
    from watcher.matching.engine import Matcher

    if not getattr(args, "words", False):
        return Matcher(config.topics)
    from watcher.personal import PersonalMatcher, WithWords
    from watcher.store.words import ChatWords

    rules = ChatWords(_existing_database(args)).every()
    return WithWords(config.topics, PersonalMatcher(rules))


def cmd_check(args: argparse.Namespace) -> int:
    from watcher.matching.engine import Matcher

    config = _load(args)
    text = sys.stdin.read() if args.text == "-" else args.text
    # The first line is the title (a weak word there can be a second signal), the rest the body.
    title, _, body = text.strip().partition("\n")
    assessment = Matcher(config.topics).assess([title, body])
    matches = [*assessment.matches, *_own_words(args).match([title, body])]
    for match in matches:
        print(f"{match.topic} ({match.label})")
        print(f"  keywords: {', '.join(match.keywords)}")
        if set(match.signals) - {"mot-clé"}:  # more than a keyword said it
            print(f"  signals: {', '.join(match.signals)}")
        for ignored in match.ignored:
            print(f"  ignoré : {ignored}")
        if match.excerpt:
            print(f"  excerpt: {match.excerpt.marked()}")
    if not matches:
        print("no match")
    for miss in assessment.held:
        print(f"held for review: {miss.topic} ({miss.label})")
        for reason in miss.reasons:
            print(f"  {reason}")
        for ignored in miss.ignored:
            print(f"  ignoré : {ignored}")
        if miss.excerpt:
            print(f"  excerpt: {miss.excerpt.marked()}")
    return 0 if matches else 1


def cmd_backtest(args: argparse.Namespace) -> int:
    from watcher.backtest import backtest, read_items, report
    from watcher.config import load_config
    from watcher.matching.engine import Matcher

    config = _load(args)
    matcher = _matcher(args, config)
    old = Matcher(load_config(Path(args.compare)).topics) if args.compare else None
    source = sys.stdin if args.input == "-" else _open(args.input, "r")
    out = sys.stdout if not args.output else _open(args.output, "w")
    errors: list[str] = []
    try:
        scores = backtest(
            matcher,
            read_items(source, Path(args.input).name, errors),
            out,
            old=old,
            topic=args.topic,
        )
    finally:
        if source is not sys.stdin:
            source.close()
        if out is not sys.stdout:
            out.close()
    print(report(scores), file=sys.stderr)
    if errors:  # the summary above covers the lines that could be read
        raise WatcherError(errors[0] + (f" (and {len(errors) - 1} more)" if errors[1:] else ""))
    return 0


def _open(path: str, mode: str, newline: str | None = None) -> TextIO:
    try:
        return cast(TextIO, open(path, mode, encoding="utf-8", newline=newline))
    except OSError as exc:
        raise WatcherError(f"{path}: cannot open ({exc.strerror})") from None


def cmd_review(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from watcher.review import describe, labels_path, record_label
    from watcher.store import Store

    config = _load(args)
    _existing_database(args)
    store = Store(db_path(args))
    if args.relevant or args.not_relevant:
        path = labels_path(db_path(args), os.environ)
        relevant = bool(args.relevant)
        entry_id = args.relevant or args.not_relevant
        record_label(
            store, config, path, entry_id, relevant=relevant, by=None, now=datetime.now(UTC)
        )
        print(f"#{entry_id} labelled {'relevant' if relevant else 'not relevant'} in {path}")
        return 0
    pending = store.review.pending(limit=args.limit)
    if not pending:
        print("no near miss waiting for review")
        return 0
    total = store.review.pending_count()
    for entry in pending:
        print(describe(entry))
    print(f"({len(pending)} of {total} waiting; label with --relevant ID or --not-relevant ID)")
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from watcher.runner import poll_once

    return poll_once(_load(args), _new_or_existing_db(args), os.environ, sys.stdout)


def cmd_run(args: argparse.Namespace) -> int:
    from watcher.runner import run_forever

    return run_forever(
        config_path(args), _load(args), _new_or_existing_db(args), os.environ, sys.stdout
    )


def cmd_status(args: argparse.Namespace) -> int:
    import sqlite3

    from watcher.runner import integrity_line
    from watcher.store import Store

    config = _load(args)
    store = Store(_database_path(args))  # a typo in --db is an error, not a new database
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


def _new_or_existing_db(args: argparse.Namespace) -> Path:
    """Where poll and run keep their database (created there when missing): one line when
    that place cannot hold one."""
    path = db_path(args)
    if path.is_dir():
        raise WatcherError(f"{path}: is a folder; pass --db with the database file's path")
    if not path.parent.is_dir():
        raise WatcherError(
            f"{path}: the folder {path.parent} does not exist; create it or pass another --db"
        )
    return path


def _database_path(args: argparse.Namespace) -> Path:
    """The database to read; a missing file is an error, not a new empty database."""
    path = db_path(args)
    if path.is_dir():
        raise WatcherError(f"{path}: is a folder; pass --db with the database file's path")
    if not path.is_file():
        where = "" if path.parent.is_dir() else f" (the folder {path.parent} does not exist)"
        raise WatcherError(
            f"{path}: no database here{where}; pass --db PATH or run `watcher poll` first"
        )
    return path


def _existing_database(args: argparse.Namespace) -> "Database":
    """The database to read, opened; a missing file is an error."""
    from watcher.store.db import Database

    return Database(_database_path(args))


def cmd_search(args: argparse.Namespace) -> int:
    from watcher.delivery.render import format_date
    from watcher.feeds_out import render_search
    from watcher.store.dossiers import DossierTable
    from watcher.store.search import Search

    config = _load(args)
    words = " ".join(args.words)
    database = _existing_database(args)
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

    config = _load(args)
    found = Search(_existing_database(args)).matched(topic=args.topic, limit=args.limit)
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

    config = _load(args)
    found = Search(_existing_database(args)).matched()
    out = sys.stdout if not args.output else _open(args.output, "w", newline="")
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

    config = _load(args)
    _existing_database(args)
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


def cmd_probe(args: argparse.Namespace) -> int:
    from watcher.config import Settings
    from watcher.fetch import standalone_session
    from watcher.probe import probe, render

    defaults = Settings()
    with standalone_session(
        timeout=defaults.timeout, max_bytes=defaults.max_response_bytes
    ) as session:
        print(render(probe(session, args.url)))
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from watcher.selfcheck import check_sources
    from watcher.selfcheck_report import render

    checks = check_sources(_load(args), os.environ, datetime.now(UTC), only=args.source)
    print(render(checks))
    return 0 if all(check.usable for check in checks) else 1


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "validate": cmd_validate,
    "poll": cmd_poll,
    "run": cmd_run,
    "check": cmd_check,
    "backtest": cmd_backtest,
    "status": cmd_status,
    "review": cmd_review,
    "dossiers": cmd_dossiers,
    "search": cmd_search,
    "feed": cmd_feed,
    "export": cmd_export,
    "sources": cmd_sources,
    "probe": cmd_probe,
}
