"""Reading feeds.yml's parsed YAML section by section, each error once with its key path.

``Reader`` knows the file's name; a ``Section`` is one mapping of it at a key
path (``settings``, ``topics.biometrie``, ``sources[senat]``): its keys are
checked against those it takes, and each value goes through a checker of the
one vocabulary (``watcher.fields``). Whatever fails raises one ``ConfigError``:
``feeds.yml: sources[senat].interval: '5 min' is not a duration like 30s, 15m, 2h, 1d``.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from watcher.errors import ConfigError
from watcher.fields import Check, FieldError, build, check, unknown_key
from watcher.fields import missing as missing_key

T = TypeVar("T")
_ABSENT: Any = object()


class Reader:
    """Turns a checker's error into feeds.yml's one-line error, naming the file and the key."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def fail(self, path: str, message: str) -> ConfigError:
        where = f"{self.filename}: {path}: " if path else f"{self.filename}: "
        return ConfigError(where + message)

    def value(self, value: object, checker: Check[T], path: str) -> T:
        """One value through a checker, its errors at ``path``."""
        try:
            return check(value, checker, "")
        except FieldError as exc:
            raise self.fail(path + exc.key, str(exc)) from None

    def section(self, value: object, path: str, allowed: Sequence[str]) -> "Section":
        """A mapping that takes only the ``allowed`` keys (a typo would otherwise be ignored)."""
        if not isinstance(value, Mapping):
            raise self.fail(path, f"must be a mapping of keys ({', '.join(allowed)})")
        error = unknown_key(value, allowed)
        if error is not None:
            raise self.fail(f"{path}.{error.key}" if path else error.key, str(error))
        return Section(self, path, value)

    def build(self, section: type[T], data: Mapping[str, object], path: str) -> T:
        """A section's dataclass (a kind's options, the settings) from its keys."""
        try:
            return build(section, data)
        except FieldError as exc:
            raise self.fail(f"{path}.{exc.key}" if exc.key else path, str(exc)) from None


class Section:
    """One mapping of feeds.yml at a key path, read key by key through checkers."""

    def __init__(self, reader: Reader, path: str, data: Mapping[str, Any]) -> None:
        self.reader = reader
        self.path = path
        self.data = data

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, checker: Check[T], default: T = _ABSENT, *, missing: str = "") -> T:
        """The key's value through ``checker``; ``default`` when absent, else "is missing"."""
        if key not in self.data:
            if default is _ABSENT:
                raise self.fail(key, missing_key(missing))
            return default
        return self.reader.value(self.data[key], checker, self.where(key))

    def build(self, section: type[T]) -> T:
        return self.reader.build(section, self.data, self.path)

    def fail(self, key: str, message: str) -> ConfigError:
        return self.reader.fail(self.where(key), message)
