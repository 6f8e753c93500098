"""The registry of delivery targets: one line per kind, and feeds.yml's ``targets:`` read
through it.

Adding a target (Matrix, e-mail...) is one module that declares a ``TargetKind``
(its options, its audience, how it opens; see ``webhook.py``) and one line in
``KINDS``. Nothing else in the package names a kind.
"""

import re
from collections.abc import Collection, Mapping, Sequence

from watcher.delivery import console, mastodon, telegram_kind, webhook
from watcher.delivery.base import OptionError, TargetConfig, TargetKind

KINDS: Mapping[str, TargetKind] = {
    kind.name: kind
    for kind in (
        console.KIND,
        telegram_kind.KIND,
        mastodon.KIND,
        webhook.KIND,
    )
}

COMMON_KEYS = ("kind", "name", "topics", "territories")
# A target's name is its alert rows' destination: it must not look like a chat id.
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def parse_targets(raw: object, topics: Collection[str]) -> tuple[TargetConfig, ...]:
    """feeds.yml's ``targets:`` list; OptionError's key is the path below ``targets``."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise OptionError("", "must be a list of targets, each with a kind")
    targets = [_target(entry, f"[{i}]", topics) for i, entry in enumerate(raw)]
    names = [t.name for t in targets]
    for i, target in enumerate(targets):
        if names.index(target.name) != i:
            raise OptionError(
                f"[{i}].name", f"{target.name!r} is used twice; give each target its own name"
            )
        if target.kind == telegram_kind.NAME and target.name != telegram_kind.NAME:
            raise OptionError(f"[{i}].name", "the telegram target is named telegram (one bot)")
    return tuple(targets)


def _target(entry: object, path: str, topics: Collection[str]) -> TargetConfig:
    if not isinstance(entry, Mapping):
        raise OptionError(path, f"must be a mapping with a kind ({', '.join(KINDS)})")
    kind = KINDS.get(str(entry.get("kind")))
    if kind is None:
        raise OptionError(
            f"{path}.kind", f"{entry.get('kind')!r} must be one of {', '.join(KINDS)}"
        )
    name = entry.get("name", kind.name)
    if not isinstance(name, str) or not _NAME.match(name) or (name in KINDS and name != kind.name):
        raise OptionError(
            f"{path}.name", f"{name!r} must be a short lowercase name (letters, digits, - or _)"
        )
    wanted = entry.get("topics")
    if wanted is not None:
        wanted = [wanted] if isinstance(wanted, str) else wanted
        if not isinstance(wanted, list) or not wanted:
            raise OptionError(f"{path}.topics", "must be a non-empty list of topic ids")
        for i, topic in enumerate(wanted):
            if topic not in topics:
                raise OptionError(f"{path}.topics[{i}]", f"unknown topic {topic!r}")
    places = _territories(entry.get("territories", []), f"{path}.territories")
    own = {k: v for k, v in entry.items() if k not in COMMON_KEYS}
    try:
        options = kind.options(own, topics)
    except OptionError as exc:
        raise OptionError(f"{path}.{exc.key}", str(exc)) from None
    return TargetConfig(
        kind.name,
        name,
        frozenset(wanted) if wanted is not None else None,
        places,
        options,
    )


def _territories(raw: object, path: str) -> frozenset[str]:
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise OptionError(path, "must be a list of territories, like Rennes Métropole")
    return frozenset(" ".join(v.split()) for v in values)


def target_secrets(targets: Sequence[TargetConfig]) -> list[str]:
    """The environment variables these targets read their secrets from."""
    return [name for t in targets for name in KINDS[t.kind].secrets(t.options)]


def missing_secrets(targets: Sequence[TargetConfig], environ: Mapping[str, str]) -> list[str]:
    """One line per environment variable a target needs and does not find."""
    return [
        f"targets: {target.name}: set {name}"
        for target in targets
        for name in KINDS[target.kind].secrets(target.options)
        if not environ.get(name, "").strip()
    ]
