"""The ``kind:`` values of feeds.yml sources and the extra options each accepts.

Pure declarations: the configuration validates options with these checkers, each
returning None when the value is right or a one-line message saying what to fix.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from watcher.durations import parse_size

OptionCheck = Callable[[object], str | None]


def boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else f"{value!r} must be true or false"


def whole_number(low: int, high: int) -> OptionCheck:
    def check(value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"{value!r} must be a whole number from {low} to {high}"
        return None

    return check


def text(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def one_of(*choices: str) -> OptionCheck:
    def check(value: object) -> str | None:
        return None if value in choices else f"{value!r} must be one of {', '.join(choices)}"

    return check


def pattern(value: object) -> str | None:
    """A URL pattern: plain text with * wildcards (no regular expressions)."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty pattern like */deliberations/*.pdf"
    return None


def selector(value: object) -> str | None:
    """A CSS selector, checked when the page is read (soupsieve compiles it)."""
    if not isinstance(value, str) or not value.strip():
        return "must be a CSS selector like 'a.document' or 'table.seances td a'"
    try:
        import soupsieve

        soupsieve.compile(value)
    except Exception as exc:  # soupsieve raises its own SelectorSyntaxError and ValueError
        return f"{value!r} is not a CSS selector: {str(exc).splitlines()[0]}"
    return None


def urls(value: object) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of http(s) URLs"
    for item in value:
        parts = urlsplit(str(item))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"{item!r} must be an http(s) URL"
    return None


def field_map(value: object) -> str | None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return "must map watcher fields (id, title, date, url, body) to the dataset's field names"
    unknown = set(value) - {"id", "title", "date", "url", "body", "collectivity"}
    if unknown:
        return f"unknown field {sorted(unknown)[0]!r}; use id, title, date, url, body, collectivity"
    return None


def size(value: object) -> str | None:
    try:
        parse_size(value)
    except ValueError as exc:
        return str(exc)
    return None


def archive_prefix(value: object) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]+", value):
        return f"{value!r} must be the archive name prefix in capitals, like JORFSIMPLE or CNIL"
    return None


@dataclass(frozen=True)
class SourceKind:
    """A kind of source: its options, its usual URL, the secrets it needs."""

    name: str
    options: Mapping[str, OptionCheck] = field(default_factory=dict)
    default_url: str | None = None
    required_env: tuple[str, ...] = ()
    one_option_of: tuple[str, ...] = ()  # at least one of these options must be given


KINDS: dict[str, SourceKind] = {
    "rss": SourceKind("rss"),
    "senat": SourceKind(
        "senat",
        {"max_texts": whole_number(1, 500)},
        default_url="https://www.senat.fr/rss/textes.rss",
    ),
    "legifrance": SourceKind(
        "legifrance",
        {
            "sandbox": boolean,
            "issues": whole_number(1, 20),
            "max_texts": whole_number(1, 1000),
            "oauth_url": text,
        },
        default_url="https://api.piste.gouv.fr/dila/legifrance/lf-engine-app",
        required_env=("LEGIFRANCE_CLIENT_ID", "LEGIFRANCE_CLIENT_SECRET"),
    ),
    "dila": SourceKind(
        "dila",
        {
            "archive": archive_prefix,
            "max_archives": whole_number(1, 50),
            "max_archive_size": size,
        },
        default_url="https://echanges.dila.gouv.fr/OPENDATA/JORFSIMPLE/",
    ),
    "assemblee": SourceKind(
        "assemblee",
        {"days": whole_number(1, 14), "max_documents": whole_number(1, 2000)},
        default_url="https://www.assemblee-nationale.fr/dyn/opendata/list-publication",
    ),
    "scdl": SourceKind("scdl", {"fields": field_map}),
    "opendatasoft": SourceKind(
        "opendatasoft",
        {"mode": one_of("records", "export"), "fields": field_map, "where": text},
    ),
    "html": SourceKind(
        "html",
        {
            "link_selector": selector,
            "link_pattern": pattern,
            "follow": boolean,
            "max_links": whole_number(1, 1000),
        },
        one_option_of=("link_selector", "link_pattern"),
    ),
    "webdelib": SourceKind("webdelib", {"recheck_days": whole_number(0, 366)}),
    "arcgis": SourceKind("arcgis", {"where": text, "order_by": text, "fields": field_map}),
}
