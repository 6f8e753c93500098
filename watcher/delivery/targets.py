"""The registry of delivery targets: one line per kind, and the secrets they need.

Adding a target (Matrix, e-mail...) is one module that declares a ``TargetKind``
(its options, how it opens, whom it serves if not one recipient; see
``webhook.py``) and one line in ``KINDS``. Nothing else in the package names a
kind: feeds.yml's ``targets:`` is read through this registry (``config_targets``),
each kind's keys through its options' declaration, like a source kind's.
"""

import dataclasses
from collections.abc import Mapping, Sequence

from watcher.delivery import console, mastodon, telegram_kind, webhook
from watcher.delivery.base import TargetConfig, TargetKind
from watcher.fields import env_name

KINDS: Mapping[str, TargetKind] = {
    kind.name: kind
    for kind in (
        console.KIND,
        telegram_kind.KIND,
        mastodon.KIND,
        webhook.KIND,
    )
}


def secrets_of(options: object) -> tuple[str, ...]:
    """The environment variables a target's options name: those read by ``fields.env_name``."""
    if not dataclasses.is_dataclass(options):
        return ()
    return tuple(
        getattr(options, declared.name)
        for declared in dataclasses.fields(options)
        if declared.metadata.get("parse") is env_name
    )


def target_secrets(targets: Sequence[TargetConfig]) -> list[str]:
    """The environment variables these targets read their secrets from."""
    return [name for target in targets for name in secrets_of(target.options)]


def missing_secrets(targets: Sequence[TargetConfig], environ: Mapping[str, str]) -> list[str]:
    """One line per environment variable a target needs and does not find."""
    return [
        f"targets: {target.name}: set {name}"
        for target in targets
        for name in secrets_of(target.options)
        if not environ.get(name, "").strip()
    ]
