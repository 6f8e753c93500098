"""Where the commands find their inputs: feeds.yml, the database, the files they name.

Each function raises ``WatcherError`` with one line saying what to fix (a missing
database, a folder passed as a file); ``watcher.cli`` turns it into the exit code.
"""

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, cast

from watcher.errors import WatcherError

if TYPE_CHECKING:
    from watcher.config import Config
    from watcher.store.db import Database


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("WATCHER_CONFIG") or "feeds.yml")


def db_path(args: argparse.Namespace) -> Path:
    return Path(args.db or os.environ.get("WATCHER_DB") or "watcher.db")


def load(args: argparse.Namespace) -> "Config":
    """feeds.yml, validated; log times in its zone and its targets' secrets hidden from logs."""
    from watcher.config import load_config
    from watcher.delivery.targets import target_secrets
    from watcher.logs import hide_secrets, use_timezone

    config = load_config(config_path(args))
    use_timezone(config.settings.timezone)
    hide_secrets(os.environ.get(name, "") for name in target_secrets(config.targets))
    return config


def open_text(path: str, mode: str, newline: str | None = None) -> TextIO:
    try:
        return cast(TextIO, open(path, mode, encoding="utf-8", newline=newline))
    except OSError as exc:
        raise WatcherError(f"{path}: cannot open ({exc.strerror})") from None


def new_or_existing_db(args: argparse.Namespace) -> Path:
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


def database_path(args: argparse.Namespace) -> Path:
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


def existing_database(args: argparse.Namespace) -> "Database":
    """The database to read, opened; a missing file is an error."""
    from watcher.store.db import Database

    return Database(database_path(args))
