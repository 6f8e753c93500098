"""The registry of delivery targets: one line per target, named as alert rows name them.

Adding a target (a webhook, Matrix, e-mail) is one module with an ``audience``
function and a class following ``base.Target``, plus one line here.
"""

from collections.abc import Collection, Iterable, Mapping

from watcher.config import Config
from watcher.delivery import console, telegram
from watcher.delivery.base import Audience
from watcher.routing import Recipient

TARGETS: Mapping[str, Audience] = {
    console.NAME: console.audience,
    telegram.NAME: telegram.audience,
}


def audience(
    config: Config, targets: Iterable[str], subscriptions: Mapping[int, Collection[str]]
) -> list[Recipient]:
    """Every recipient of the active targets."""
    return [r for name in targets for r in TARGETS[name](config, subscriptions)]
