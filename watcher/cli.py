"""The ``watcher`` command: the only place where errors become messages and exit codes.

Its arguments and the table of commands live here; the commands themselves in
``cli_service`` (validate, poll, run, sources, probe), ``cli_matching`` (check,
backtest, review) and ``cli_reading`` (status, search, feed, export, dossiers).
"""

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from watcher import __version__
from watcher.cli_matching import cmd_backtest, cmd_check, cmd_review
from watcher.cli_reading import cmd_dossiers, cmd_export, cmd_feed, cmd_search, cmd_status
from watcher.cli_service import cmd_poll, cmd_probe, cmd_run, cmd_sources, cmd_validate
from watcher.errors import WatcherError
from watcher.logs import configure_logging

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
