"""Logging set-up for the CLI: one format, and secrets never written.

Bot API URLs contain the token, and python-telegram-bot logs them at DEBUG; httpx
logs every URL at INFO. Every record is passed through a filter that replaces
the secrets taken from the environment.
"""

import logging
import sys
from collections.abc import Iterable, Mapping

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


def configure_logging(verbose: bool, environ: Mapping[str, str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(environ.get(name, "") for name in SECRET_VARIABLES))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, handlers=[handler], force=True
    )
    # httpx logs every request URL at INFO; keep it (and its transport) quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
