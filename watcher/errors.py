"""The one error tree of watcher.

Third-party exceptions (httpx, feedparser, python-telegram-bot, sqlite) are
translated into these where they are detected; only the CLI turns them into
messages and exit codes.
"""


class WatcherError(Exception):
    """Base of every error watcher raises on purpose."""


class ConfigError(WatcherError):
    """feeds.yml (or the environment) is wrong; the message is one line saying what to fix."""


class RuleError(ConfigError):
    """A keyword rule cannot be compiled."""


class FetchError(WatcherError):
    """A source could not be fetched (network, HTTP status, size cap)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class ParseError(WatcherError):
    """A source answered, but its payload could not be read as what it should be."""


class EmptyListingError(ParseError):
    """A listing answered in its shape but gave nothing to read: 0 links chosen, no sitting.

    A page that moved or was redesigned still answers 200; only its emptiness tells.
    """


class DeliveryError(WatcherError):
    """An alert could not be delivered."""
