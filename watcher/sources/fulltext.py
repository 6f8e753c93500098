"""Fetching an item's own document (HTML, PDF or XML) to match on its full text.

Titles rarely carry the words: a decree creating a biometric file speaks of
"titres électroniques sécurisés" in its articles only. A document that cannot
be read is recorded as a warning and the item is matched on what it has.
"""

import dataclasses
import io
import logging
from collections.abc import Callable
from html.parser import HTMLParser
from typing import TYPE_CHECKING

from watcher.errors import FetchError, ParseError
from watcher.items import Item
from watcher.textdecode import decode_bytes

if TYPE_CHECKING:
    from watcher.fetch import FetchSession
    from watcher.sources.base import PollContext

logger = logging.getLogger(__name__)
MAX_DOCUMENT_BYTES = 15 * 1024 * 1024
MAX_BODY_CHARS = 400_000
# How the warning of a document that gave no text starts (``watcher.figures`` counts them).
NO_TEXT = "full text of "


def attach_fulltext(
    items: list[Item],
    ctx: "PollContext",
    warnings: list[str],
    *,
    read: "Callable[[FetchSession, str], str] | None" = None,
) -> list[Item]:
    """Each new or changed item with its document's text as body; failures become warnings.

    Items stored at the same revision are not fetched again: a full text costs a request.
    ``read`` gets a document's text (default ``document_text``); a kind whose links
    lead to the document in more than one step (WebDélib+) passes its own.
    """
    read = read or document_text
    wanted = ctx.changed({item.key: item.revision for item in items})
    result = []
    for item in items:
        if item.url and not item.body and item.key in wanted:
            try:
                body = read(ctx.fetcher, item.url)
            except (FetchError, ParseError) as exc:
                warnings.append(f"{NO_TEXT}{item.url}: {exc}")
            else:
                item = dataclasses.replace(item, body=body[:MAX_BODY_CHARS])
        result.append(item)
    return result


def document_text(fetcher: "FetchSession", url: str) -> str:
    """The readable text of the document at ``url``."""
    response = fetcher.get(url, max_bytes=MAX_DOCUMENT_BYTES)
    if response is None:
        raise ParseError("the server answered 304 to an unconditional request")
    return extract_text(response.body, response.content_type, url)


def extract_text(body: bytes, content_type: str, url: str = "") -> str:
    """Text of a PDF, HTML or XML document; ParseError when it has none."""
    kind = content_type.split(";")[0].strip().lower()
    if body.startswith(b"%PDF") or kind == "application/pdf":
        text = pdf_text(body)
    else:
        text = html_text(decode_bytes(body, content_type))
    text = " ".join(text.split())
    if not text:
        raise ParseError(f"no text in {url or 'the document'} (a scanned PDF?)")
    return text


def pdf_text(body: bytes) -> str:
    """Text of every page of a PDF; scanned pages give nothing."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"unreadable PDF: {exc}") from None


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML or XML page, skipping scripts and navigation."""

    SKIP = frozenset({"script", "style", "nav", "header", "footer", "noscript", "svg", "form"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.main: list[str] | None = None
        self.skipping = 0
        self.main_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        if tag in ("main", "article") and self.main is None:
            self.main = []
            self.main_depth = 1
        elif self.main_depth and tag in ("main", "article"):
            self.main_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        if tag in ("main", "article") and self.main_depth:
            self.main_depth -= 1

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        self.parts.append(data)
        if self.main_depth and self.main is not None:
            self.main.append(data)


def html_text(text: str) -> str:
    """The main text of an HTML page (its <main> or <article> when it has one)."""
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    chosen = parser.main if parser.main and "".join(parser.main).strip() else parser.parts
    return " ".join(" ".join(chosen).split())
