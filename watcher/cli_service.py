"""Commands that check the configuration and run the service: validate, poll, run,
sources check, probe."""

import argparse
import os
import sys
from datetime import UTC, datetime

from watcher.cli_args import config_path, load, new_or_existing_db


def cmd_validate(args: argparse.Namespace) -> int:
    from watcher.matching.rules import Near, Ref
    from watcher.poll import missing_secrets

    config = load(args)
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


def cmd_poll(args: argparse.Namespace) -> int:
    from watcher.runner import poll_once

    return poll_once(load(args), new_or_existing_db(args), os.environ, sys.stdout)


def cmd_run(args: argparse.Namespace) -> int:
    from watcher.runner import run_forever

    return run_forever(
        config_path(args), load(args), new_or_existing_db(args), os.environ, sys.stdout
    )


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
    from watcher.selfcheck import check_sources
    from watcher.selfcheck_report import render

    checks = check_sources(load(args), os.environ, datetime.now(UTC), only=args.source)
    print(render(checks))
    return 0 if all(check.usable for check in checks) else 1
