"""Typed options of source kinds: a kind's options dataclass IS its feeds.yml keys.

Each field is declared with ``option(default, parse)``: ``parse`` turns the YAML
value into the field's type or raises ValueError with a one-line message saying
what to write instead (``0 must be a whole number from 1 to 500``). An options
class may also define ``problem(self) -> str | None`` for rules that span several
keys. ``build_options`` is the one place that applies all of this; the
configuration reports its OptionError with the file and key path.
"""

import dataclasses
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from watcher.durations import parse_duration, parse_size

OptionsT = TypeVar("OptionsT")
Parse = Callable[[object], Any]


class OptionError(ValueError):
    """A bad option value; ``key`` is None when the options as a whole are wrong."""

    def __init__(self, key: str | None, message: str) -> None:
        super().__init__(message)
        self.key = key


def option(default: Any = dataclasses.MISSING, *, parse: Parse, factory: Any = None) -> Any:
    """A field of an options dataclass: its default and how feeds.yml values are read."""
    metadata = {"parse": parse}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """A kind with no options of its own."""


def option_names(options: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(options))


def build_options(options: type[OptionsT], raw: Mapping[str, object]) -> OptionsT:
    """The options instance for these feeds.yml values; OptionError at the first bad one."""
    values: dict[str, Any] = {}
    for declared in dataclasses.fields(options):  # type: ignore[arg-type]
        if declared.name not in raw:
            continue
        parse: Parse | None = declared.metadata.get("parse")
        try:
            value = raw[declared.name]
            values[declared.name] = parse(value) if parse else value
        except ValueError as exc:
            raise OptionError(declared.name, str(exc)) from None
    built = options(**values)
    check = getattr(built, "problem", None)
    problem = check() if callable(check) else None
    if problem:
        raise OptionError(None, str(problem))
    return built


# -- parsers: each returns the typed value or raises ValueError saying what to fix --


def boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{value!r} must be true or false")
    return value


def whole_number(low: int, high: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{value!r} must be a whole number from {low} to {high}")
        return value

    return parse


def text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def one_of(*choices: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if value not in choices:
            raise ValueError(f"{value!r} must be one of {', '.join(choices)}")
        return str(value)

    return parse


def http_url(value: object) -> str:
    from urllib.parse import urlsplit

    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be an http(s) URL")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} must be an http(s) URL")
    return value.strip().rstrip("/")


def pattern(value: object) -> str:
    """A URL pattern: plain text with * wildcards (no regular expressions)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty pattern like */deliberations/*.pdf")
    return value


def selector(value: object) -> str:
    """A CSS selector, compiled now so that a typo is a configuration error."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a CSS selector like 'a.document' or 'table.seances td a'")
    try:
        import soupsieve

        soupsieve.compile(value)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError and ValueError
        raise ValueError(f"{value!r} is not a CSS selector: {str(exc).splitlines()[0]}") from None
    return value


FIELD_NAMES = ("id", "title", "date", "url", "body", "collectivity")


def field_map(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(
            "must map watcher fields (id, title, date, url, body) to the dataset's field names"
        )
    unknown = set(value) - set(FIELD_NAMES)
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r}; use {', '.join(FIELD_NAMES)}")
    return dict(value)


def size(value: object) -> int:
    return parse_size(value)


def duration(value: object) -> timedelta:
    return timedelta(seconds=parse_duration(value))


def archive_prefix(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]+", value):
        raise ValueError(
            f"{value!r} must be the archive name prefix in capitals, like JORFSIMPLE or CNIL"
        )
    return value


def territory(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string naming the place, like Rennes Métropole")
    return " ".join(value.split())
