"""``watcher probe URL``: what a council's address is, and the feeds.yml entry to watch it.

For the maintainer who adds the next council: one fetch (two when an
Opendatasoft dataset has no SCDL date to sort on), then the shape it has, the
first items the matching kind would produce, and an entry to paste under
``sources:``. Each kind recognises its own shape (``SourceKind.probe``, see
``sources/probing.py``): the kinds that know an address by its form are asked
first, then, on the page it answers, the kinds of a specific shape, then those
that take any feed or HTML page. An address that cannot be watched raises
``ProbeError`` with one line saying why.
"""

import re
from urllib.parse import urlsplit

from watcher.errors import FetchError, ParseError, WatcherError
from watcher.fetch import FetchSession
from watcher.sources.catalog import KINDS
from watcher.sources.probing import SHOWN, Page, Probe, ProbeError, Shape, get, quote

__all__ = ["Probe", "ProbeError", "feeds_entry", "probe", "render"]


def probe(fetcher: FetchSession, url: str) -> Probe:
    """Fetch ``url`` and say what it is; ProbeError (one line) when it cannot be watched."""
    try:
        return _recognise(fetcher, url)
    except (FetchError, ParseError) as exc:
        raise ProbeError(f"{url}: {_reason(exc)}") from None


def _recognise(fetcher: FetchSession, url: str) -> Probe:
    shapes: list[Shape] = [kind.probe for kind in KINDS.values() if kind.probe is not None]
    for shape in shapes:
        found = shape.address(fetcher, url) if shape.address else None
        if found is not None:
            return found
    page = Page(url, get(fetcher, url))
    for shape in sorted(shapes, key=lambda s: s.generic):  # specific shapes first
        found = shape.page(page) if shape.page else None
        if found is not None:
            return found
    if page.form == "json":
        raise ProbeError(f"{url}: a JSON document that is not a known dataset or layer API")
    raise ProbeError(
        f"{url}: not a feed, an SCDL CSV, a dataset, an ArcGIS layer or an HTML page "
        f"({page.response.content_type or 'no content type'})"
    )


def render(found: Probe) -> str:
    """What ``watcher probe`` prints: the shape, the first items, the entry to paste."""
    lines = [f"{found.url}: {found.what}"]
    for when, title in found.rows[:SHOWN]:
        lines.append(f"  {when or 'no date':<10}  {_cut(title, 100)}")
    if len(found.rows) > SHOWN:
        lines.append(f"  … and {len(found.rows) - SHOWN} more")
    lines += ["", "feeds.yml entry (under sources:):", *feeds_entry(found)]
    return "\n".join(lines)


def feeds_entry(found: Probe) -> list[str]:
    """A ready-to-paste entry; strings as JSON, which YAML reads as double-quoted scalars."""
    lines = [
        f"  - id: {_slug(found.url)}",
        f"    name: {quote(found.name)}",
        f"    kind: {found.kind}",
        f"    url: {quote(found.url)}",
        # Commented when unknown: a placeholder left as is would be refused by validation.
        f"    territory: {quote(found.territory)}"
        if found.territory
        else "    # territory: Rennes Métropole   # the place it covers (a region, a city…)",
    ]
    lines += [f"    {key}: {value}" for key, value in found.options.items()]
    lines += [f"    # {hint}" for hint in found.hints]
    return lines


def _reason(exc: WatcherError) -> str:
    """The error without the address, which the line already starts with."""
    message = re.sub(r"^https?://\S+: ", "", str(exc))
    return re.sub(r" from \S+$", "", message)


def _slug(url: str) -> str:
    host = (urlsplit(url).hostname or "source").lower().removeprefix("www.")
    labels = host.split(".")
    if len(labels) > 1 and not host.replace(".", "").isdigit():
        labels = labels[:-1]  # the TLD says nothing
    slug = re.sub(r"[^a-z0-9]+", "-", "-".join(labels)).strip("-")
    return (slug or "source")[:63]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
