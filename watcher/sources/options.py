"""The checkers only source kinds use (``NoOptions`` is ``fields.NoOptions``).

A kind's options dataclass IS its feeds.yml keys: each field is declared with
``fields.option(default, parse=checker)``, from feeds.yml's one vocabulary
(``watcher.fields``: ``text``, ``whole_number``, ``one_of``, ``timespan``...) or
from the checkers below, which only sources need (a CSS selector, a dataset's
field map...). ``fields.build`` validates them; the configuration reports its
``FieldError`` with the file and key path.
"""

import re
from collections.abc import Mapping

from watcher.fields import NoOptions as NoOptions
from watcher.fields import url


def http_url(value: object) -> str:
    """A site's base address, without its trailing slash (links are built on it)."""
    return url(value).rstrip("/")


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


def archive_prefix(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]+", value):
        raise ValueError(
            f"{value!r} must be the archive name prefix in capitals, like JORFSIMPLE or CNIL"
        )
    return value
