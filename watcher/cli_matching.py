"""Commands about matching: check a text, backtest a JSONL file, label the near misses."""

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.cli_args import db_path, existing_database, load, open_text
from watcher.errors import WatcherError

if TYPE_CHECKING:
    from watcher.config import Config
    from watcher.matching.engine import Matcher
    from watcher.personal import PersonalMatcher


def _own_words(args: argparse.Namespace) -> "PersonalMatcher":
    """With ``--words``, every chat's own words (/mots) from the database; else none."""
    from watcher.personal import PersonalMatcher
    from watcher.store.words import ChatWords

    if not getattr(args, "words", False):
        return PersonalMatcher({})
    return PersonalMatcher(ChatWords(existing_database(args)).every())


def _matcher(args: argparse.Namespace, config: "Config") -> "Matcher":
    """The topics' matcher; with ``--words``, the subscribers' own words too."""
    from watcher.matching.engine import Matcher

    if not getattr(args, "words", False):
        return Matcher(config.topics)
    from watcher.personal import PersonalMatcher, WithWords
    from watcher.store.words import ChatWords

    rules = ChatWords(existing_database(args)).every()
    return WithWords(config.topics, PersonalMatcher(rules))


def cmd_check(args: argparse.Namespace) -> int:
    from watcher.matching.engine import Matcher

    config = load(args)
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

    config = load(args)
    matcher = _matcher(args, config)
    old = Matcher(load_config(Path(args.compare)).topics) if args.compare else None
    source = sys.stdin if args.input == "-" else open_text(args.input, "r")
    out = sys.stdout if not args.output else open_text(args.output, "w")
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


def cmd_review(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from watcher.review import describe, labels_path, record_label
    from watcher.store import Store

    config = load(args)
    existing_database(args)
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
