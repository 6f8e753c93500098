"""Logging set-up for the CLI: one format, and secrets never written.

Bot API URLs contain the token, and python-telegram-bot logs them at DEBUG; httpx
logs every URL at INFO. Every record is passed through a filter that replaces
the secrets taken from the environment.

Times are shown to the second in the configured zone (``settings.timezone``),
which is known only once feeds.yml is read: ``use_timezone`` switches the
formatter then; until that, local time.
"""

import logging
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "LEGIFRANCE_CLIENT_SECRET", "LEGIFRANCE_CLIENT_ID")


class RedactSecrets(logging.Filter):
    """Replaces each secret in a record's final message with ``<hidden>``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self.secrets:
            message = message.replace(secret, "<hidden>")
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, "<hidden>")
        record.msg, record.args = message, ()
        return True


class ZonedFormatter(logging.Formatter):
    """``2026-03-01 13:00:05+01:00 INFO ...``: to the second, in one zone."""

    zone: ZoneInfo | None = None

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, self.zone).astimezone(self.zone)
        return moment.isoformat(sep=" ", timespec="seconds")


FORMATTER = ZonedFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def use_timezone(name: str) -> None:
    """Show log times in this zone from now on (``settings.timezone``)."""
    FORMATTER.zone = ZoneInfo(name)


REDACT = RedactSecrets(())


def hide_secrets(values: Iterable[str]) -> None:
    """Hide these values too (the secrets feeds.yml's targets name, known once it is read)."""
    REDACT.secrets += [v for v in values if len(v) >= 6 and v not in REDACT.secrets]


def configure_logging(verbose: bool, environ: Mapping[str, str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FORMATTER)
    REDACT.secrets = []
    hide_secrets(environ.get(name, "") for name in SECRET_VARIABLES)
    handler.addFilter(REDACT)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True
    )
    # httpx logs every request URL at INFO; keep it (and its transport) quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
