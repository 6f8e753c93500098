"""RSS and Atom feeds (``kind: rss``), including the Sénat's quirky ones.

watcher fetches and decodes the bytes itself and gives feedparser UTF-8 bytes,
never a URL: the Sénat declares ISO-8859-15 and sometimes serves UTF-8, and its
Atom 0.3 feeds use the Atom 1.0 namespace. feedparser reports a malformed feed
as data (``bozo``); a payload with no feed in it raises ParseError here.
"""

import calendar
import io
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser

from watcher.dates import EARLIEST, LATEST, from_epoch
from watcher.errors import ParseError
from watcher.items import Item, content_revision, item_key
from watcher.matching.normalize import strip_markup
from watcher.sources.base import (
    PollContext,
    PollResult,
    SourceConfig,
    SourceKind,
    SourceState,
    always,
)
from watcher.sources.conditional import poll_document
from watcher.sources.options import NoOptions
from watcher.sources.probing import Page, Probe, Shape, newest_first, rows
from watcher.textdecode import as_utf8_xml, decode_bytes

# "Fri,28 Dec 2018 10:17:29 GMT": the Sénat omits the space after the comma,
# which some date parsers reject; put it back before feedparser reads it.
_DAY_COMMA = re.compile(rb"(<pubDate>\s*[A-Z][a-z]{2}),(?=\S)")
# feedparser's HTML sanitizer and relative-URI resolver re-parse every summary and
# content (a quarter of its time) for markup that watcher strips anyway; all that
# the sanitizer did that stripping does not is drop the text inside these elements.
_HIDDEN_ELEMENTS = re.compile(r"<(script|style|applet)\b[^>]*>.*?</\1\s*>", re.I | re.S)


def poll_rss(
    source: SourceConfig, options: NoOptions, state: SourceState, ctx: PollContext
) -> PollResult:
    """Fetch a feed (conditionally) and parse its entries into items."""
    return poll_document(
        source,
        state,
        ctx,
        lambda response: ctx.compute(parse_feed, response.body, source.id, response.content_type),
    )


def parse_feed(body: bytes, source_id: str, content_type: str = "") -> list[Item]:
    """Items of an RSS/Atom payload, oldest first; ParseError when it holds no feed."""
    data = _DAY_COMMA.sub(rb"\1, ", as_utf8_xml(body, content_type))
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-type": "application/xml; charset=utf-8"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not parsed.entries and (parsed.bozo or not parsed.version):
        head = data[:512].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")):
            raise ParseError("the URL returned an HTML page, not an RSS or Atom feed")
        reason = parsed.get("bozo_exception") or "no <rss>, <feed> or <rdf> element"
        raise ParseError(f"not a readable RSS/Atom feed: {reason}")
    items = [_item(entry, source_id) for entry in parsed.entries]
    items = [item for item in items if item.title or item.summary]
    return sorted(items, key=lambda i: i.published or datetime.min.replace(tzinfo=UTC))


def _item(entry: Any, source_id: str) -> Item:
    title = _plain(entry.get("title", ""))
    summary = _plain(entry.get("summary", ""))
    body = ""
    if entry.get("content"):
        body = _plain(" ".join(c.get("value", "") for c in entry["content"]))
        if body == summary:
            body = ""
    link = entry.get("link")
    tags = [t.get("term") for t in entry.get("tags", []) if t.get("term")]
    return Item(
        source_id=source_id,
        key=item_key(entry.get("id"), link, title, summary),
        title=title,
        url=link,
        published=_published(entry),
        summary=summary,
        body=body,
        kind=str(tags[0]) if tags else "",
        # The guid stays when a title or summary is edited: the edit is a new revision.
        revision=content_revision(title, summary),
    )


def _published(entry: Any) -> datetime | None:
    """The entry's date as an aware UTC datetime (feedparser normalises to UTC)."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            # "0001-01-01T00:00+01:00" comes out of feedparser as year 0, and
            # "9999-12-31T23:59-01:00" as year 10000: out of datetime's range, so
            # the nearest bound an item may carry (the item is kept).
            try:
                return from_epoch(calendar.timegm(value))
            except (ValueError, OverflowError):  # year 0: calendar has no such year
                return EARLIEST if value.tm_year < 1970 else LATEST
    return None


def _plain(text: str) -> str:
    if "<" in text:
        text = _HIDDEN_ELEMENTS.sub(" ", text)
    return " ".join(strip_markup(text).split())


def probe_feed(page: Page) -> Probe:
    """What ``watcher probe`` shows of a feed: its title and first items."""
    items = parse_feed(page.response.body, "probe", page.response.content_type)
    host = urlsplit(page.url).netloc
    title = re.search(rb"<title[^>]*>([^<]{1,200})</title>", page.response.body)
    name = decode_bytes(title.group(1), page.response.content_type).strip() if title else host
    return Probe(
        url=page.url,
        kind="rss",
        what=f"an RSS/Atom feed ({len(items)} items)",
        name=name or host,
        rows=rows(sorted(items, key=newest_first)),
        hints=["fulltext: true   # also match each item's page or PDF"],
    )


def _probe(page: Page) -> Probe | None:
    return probe_feed(page) if page.form == "feed" else None


KIND = SourceKind(
    "rss",
    NoOptions,
    poll_rss,
    "flux RSS",
    probe=Shape(page=_probe, generic=True),
    whole_listing=always,  # the whole feed each time
)
