"""Telegram settings, from the environment only (the token is a secret)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from watcher.errors import ConfigError

DEFAULT_API_URL = "https://api.telegram.org/bot"
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_url: str = DEFAULT_API_URL

    @property
    def file_url(self) -> str:
        return self.api_url.rstrip("/").removesuffix("bot") + "file/bot"

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], *, token_env: str = "TELEGRAM_BOT_TOKEN"
    ) -> "TelegramSettings | None":
        """None when the token's variable is unset: alerts then go to the console."""
        token = environ.get(token_env, "").strip()
        if not token:
            return None
        if not _TOKEN.match(token):
            raise ConfigError(
                f"{token_env} does not look like a bot token (digits:letters from @BotFather)"
            )
        api_url = environ.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"TELEGRAM_API_URL {api_url!r} must be an http(s) URL")
        return cls(token, api_url)

    def __repr__(self) -> str:  # never show the token
        return f"TelegramSettings(token=<hidden>, api_url={self.api_url!r})"
