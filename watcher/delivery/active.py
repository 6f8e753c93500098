"""Which targets a run delivers to, and who they serve, from feeds.yml and the environment.

With ``targets:`` in feeds.yml, exactly those (each of their secrets must be
set). Without it, as before targets existed: Telegram when ``TELEGRAM_BOT_TOKEN``
is set, else the console. The top-level ``channels:`` are the Telegram target's.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace

from watcher.config import Config
from watcher.delivery.base import TargetConfig
from watcher.delivery.console import NAME as CONSOLE
from watcher.delivery.targets import KINDS, missing_secrets
from watcher.delivery.telegram_kind import DEFAULT_TOKEN_ENV, TelegramOptions
from watcher.delivery.telegram_kind import NAME as TELEGRAM
from watcher.errors import ConfigError
from watcher.routing import Recipient


def active_targets(config: Config, environ: Mapping[str, str]) -> tuple[TargetConfig, ...]:
    """The targets of this run; ConfigError naming each secret to set when one is missing."""
    targets = config.targets
    if not targets:
        kind = KINDS[TELEGRAM if environ.get(DEFAULT_TOKEN_ENV, "").strip() else CONSOLE]
        targets = (TargetConfig(kind.name, kind.name, options=kind.options()),)
    missing = missing_secrets(targets, environ)
    if missing:
        raise ConfigError(f"{config.path.name}: " + "; ".join(missing))
    return tuple(_with_channels(t, config) for t in targets)


def _with_channels(target: TargetConfig, config: Config) -> TargetConfig:
    if not isinstance(target.options, TelegramOptions) or not config.channels:
        return target
    channels = config.channels + target.options.channels
    return replace(target, options=replace(target.options, channels=channels))


def wants_subscribers(targets: Iterable[TargetConfig]) -> bool:
    """Whether some target serves the chats' subscriptions (the bot)."""
    return any(KINDS[t.kind].subscribers for t in targets)


def audience(
    targets: Iterable[TargetConfig],
    topics: Collection[str],
    subscriptions: Mapping[int, Collection[str]],
) -> list[Recipient]:
    """Every recipient of these targets, each target's topic and territory filters applied."""
    recipients = []
    for target in targets:
        for recipient in KINDS[target.kind].audience(target, topics, subscriptions):
            wanted = recipient.topics if target.topics is None else recipient.topics & target.topics
            if wanted:
                recipients.append(
                    replace(recipient, topics=wanted, target_territories=target.territories)
                )
    return recipients
