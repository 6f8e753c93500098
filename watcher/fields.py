"""feeds.yml's vocabulary: the field checkers every section and every kind's options use.

A checker takes a YAML value and returns it typed, or raises ``ValueError``
whose message says what to write instead (``0 must be a whole number from 1 to
500``); the configuration adds the file and the key path, once, the same way for
every section: ``feeds.yml: sources[senat].max_texts: 0 must be ...``.

A section that is a fixed set of keys is a frozen dataclass whose fields are
declared with ``option(default, parse=checker)``: its fields ARE its keys
(``key=`` when the YAML name differs), and ``build`` reads a mapping into it. A
class may define ``problem(self) -> str | None`` for rules that span several keys;
``entry`` reads a nested mapping (a list's entry, a Telegram channel) into its own
dataclass. Two checkers also say what a value is: an option read by ``env_name``
names a secret to find in the environment (``delivery.targets.secrets_of``), one
read by ``topic_ids`` names feeds.yml topics (``config_targets.unknown_topic``).
Nothing here knows feeds.yml's sections: ``config``, the source kinds and the
delivery targets use it.
"""

import dataclasses
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from watcher.durations import parse_duration, parse_size

T = TypeVar("T")
Check = Callable[[object], T]

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class FieldError(ValueError):
    """A bad value; ``key`` is where, below the mapping being read ("" for the whole)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def option(
    default: Any = dataclasses.MISSING,
    *,
    parse: Check[Any],
    factory: Any = None,
    key: str | None = None,
    missing: str = "",
) -> Any:
    """A field of a section's dataclass: its default, its checker, its YAML key if another.

    A field without a default is required: ``missing`` says what to write.
    """
    metadata = {"parse": parse, "key": key, "missing": missing}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """A kind (of source, of target) with no options of its own."""


def keys_of(section: type[Any]) -> tuple[str, ...]:
    """The YAML keys a section's dataclass takes, in its fields' order."""
    return tuple(key_of(declared) for declared in dataclasses.fields(section))


def build(section: type[T], raw: Mapping[str, object]) -> T:
    """The dataclass for these YAML values; FieldError at the first bad one."""
    values: dict[str, Any] = {}
    for declared in dataclasses.fields(section):  # type: ignore[arg-type]
        key = key_of(declared)
        if key not in raw:
            if _required(declared):
                raise FieldError(key, missing(declared.metadata.get("missing", "")))
            continue
        values[declared.name] = check(raw[key], declared.metadata["parse"], key)
    built = section(**values)
    problem = getattr(built, "problem", None)
    found = problem() if callable(problem) else None
    if found:
        raise FieldError("", str(found))
    return built


def unknown_key(data: Mapping[str, object], allowed: Sequence[str]) -> FieldError | None:
    """The error of the first key not ``allowed`` (a typo would otherwise be ignored)."""
    for key in data:
        if key not in allowed:
            return FieldError(str(key), f"unknown key; expected one of {', '.join(allowed)}")
    return None


def entry(section: type[T]) -> Check[T]:
    """A nested mapping (a list's entry) read into ``section``'s dataclass."""
    allowed = keys_of(section)

    def parse(value: object) -> T:
        if not isinstance(value, Mapping):
            raise ValueError(f"must be a mapping of {', '.join(allowed)}")
        try:
            error = unknown_key(value, allowed)
            if error is not None:
                raise error
            return build(section, value)
        except FieldError as exc:
            raise FieldError(f".{exc.key}" if exc.key else "", str(exc)) from None

    return parse


def check(value: object, checker: Check[T], key: str) -> T:
    """``checker(value)``, its errors placed at ``key`` (a list's at ``key[i]``)."""
    try:
        return checker(value)
    except FieldError as exc:
        raise FieldError(key + exc.key, str(exc)) from None
    except ValueError as exc:
        raise FieldError(key, str(exc)) from None


def missing(what: str) -> str:
    """The error of an absent key; ``what`` says what to write."""
    return f"is missing; {what}" if what else "is missing"


def key_of(declared: dataclasses.Field[Any]) -> str:
    """A declared field's YAML key."""
    return declared.metadata.get("key") or declared.name


def _required(declared: dataclasses.Field[Any]) -> bool:
    return (
        declared.default is dataclasses.MISSING and declared.default_factory is dataclasses.MISSING
    )


# -- the checkers: each returns the typed value or raises ValueError saying what to fix --


def text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} must be true or false")
    return value


def whole_number(low: int, high: int) -> Check[int]:
    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{value!r} must be a whole number from {low} to {high}")
        return value

    return parse


def at_least(low: int, note: str = "") -> Check[int]:
    """A whole number with no upper bound; ``note`` says what a value means (``0: off``)."""

    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(
                f"{value!r} must be a whole number >= {low}" + (f" ({note})" if note else "")
            )
        return value

    return parse


def duration(value: object) -> float:
    """Seconds, from ``30s``, ``15m``, ``2h``, ``1d`` or a number."""
    return parse_duration(value)


def timespan(value: object) -> timedelta:
    """A duration, as a ``timedelta``."""
    return timedelta(seconds=parse_duration(value))


def size(value: object) -> int:
    """Bytes, from ``500KB``, ``20MB``, ``1GB`` or a number."""
    return parse_size(value)


def url(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be an http(s) URL")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value.strip()!r} must be an http(s) URL")
    return value.strip()


def one_of(*choices: str) -> Check[str]:
    def parse(value: object) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} must be one of {', '.join(choices)}")
        return str(value)

    return parse


def list_of(item: Check[T], *, allow_empty: bool = False) -> Check[list[T]]:
    """A list whose entries all pass ``item``; a single value stands for a list of one."""

    def parse(value: object) -> list[T]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or (not value and not allow_empty):
            raise ValueError("must be a list" if allow_empty else "must be a non-empty list")
        return [check(one, item, f"[{i}]") for i, one in enumerate(value)]

    return parse


def tuple_of(item: Check[T], *, allow_empty: bool = False) -> Check[tuple[T, ...]]:
    """``list_of``, as a tuple (a frozen dataclass's field)."""
    as_list = list_of(item, allow_empty=allow_empty)
    return lambda value: tuple(as_list(value))


def slug(value: object) -> str:
    """An id: lower-case letters, digits, ``-`` and ``_``, at most 63."""
    name = text(value)
    if not SLUG.match(name):
        raise ValueError(f"{name!r} must be a lower-case slug")
    return name


def clock_time(value: object) -> str:
    """``08:00``. YAML 1.1 reads an unquoted 8:00 as 480 (base 60): say to quote it."""
    if isinstance(value, int) and not isinstance(value, bool):
        hours, minutes = divmod(value, 60)
        raise ValueError(
            f"{hours}:{minutes:02d} without quotes is read as the number {value}; "
            f'write it in quotes, like digest_time: "{hours:02d}:{minutes:02d}"'
        )
    if not _CLOCK.match(str(value)):
        raise ValueError(f"{str(value)!r} must be a time like 08:00")
    return str(value)


def time_zone(value: object) -> str:
    name = text(value)
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        raise ValueError(f"{name!r} is not a time zone") from None
    return name


def unlisted_topic(ids: Sequence[str], topics: Collection[str]) -> FieldError | None:
    """The first of these topic ids that is not one of ``topics`` (its key: ``[i]``)."""
    for i, topic in enumerate(ids):
        if topic not in topics:
            return FieldError(f"[{i}]", f"unknown topic {topic!r}")
    return None


def territory(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string naming the place, like Rennes Métropole")
    return " ".join(value.split())


def env_name(value: object) -> str:
    """The name of an environment variable holding a secret (never the secret itself)."""
    if not isinstance(value, str) or not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} must name an environment variable (like MASTODON_TOKEN)")
    return value


def topic_ids(value: object) -> tuple[str, ...]:
    """Topics of feeds.yml, by id (``unknown_topic`` checks them against the topics)."""
    return _TOPIC_IDS(value)


_TOPIC_IDS = tuple_of(text)
