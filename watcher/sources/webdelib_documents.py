"""A WebDélib+ document's text: ``openfile.jsp``, then the file it leads to.

``openfile.jsp`` is not the file: its page's script moves on to
``showFile.jsp``, which serves the PDF. ``document_text`` follows it, on the
portal's host only; ``webdelib.KIND`` declares it as the way its documents are read.
"""

import re
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from watcher.errors import ParseError
from watcher.sources.fulltext import MAX_DOCUMENT_BYTES, extract_text
from watcher.textdecode import decode_bytes

if TYPE_CHECKING:
    from watcher.fetch import FetchSession

# ``openfile.jsp`` answers an HTML page whose script moves the browser on:
# ``document.location.href='../jsp/showFile.jsp?…&pdf=…'``, and that address serves
# the PDF, the same for every visitor (no cookie, no challenge). Seen in a public
# reader of the Lyon, Béziers and Levallois portals: mml-studio/declassifie,
# src/data/permitListsFeed.js (``webdelibFileUrl``) and its test
# scripts/lib/permitLists.test.mjs (the fake host's ``openfile.jsp`` answer).
_QUOTED_SHOWFILE = re.compile(r"""['"]([^'"<>]*showFile\.jsp\?[^'"<>]*)['"]""", re.IGNORECASE)
_BARE_SHOWFILE = re.compile(r"""(?:\.\./jsp/)?showFile\.jsp\?[^'"\s<>]+""", re.IGNORECASE)


def showfile_url(html: str, open_url: str) -> str | None:
    """The ``showFile.jsp`` address an ``openfile.jsp`` page moves to; None if it names none.

    Only an address on the portal's own host is followed: ParseError otherwise.
    """
    quoted = _QUOTED_SHOWFILE.search(html)
    found = quoted.group(1) if quoted else None
    if found is None:
        bare = _BARE_SHOWFILE.search(html)
        if bare is None:
            return None
        found = bare.group(0)
    if not found.startswith(("/", ".", "http://", "https://")):
        found = f"../jsp/{found}"  # as a browser at …/jsp/openfile.jsp resolves it
    target: str = urljoin(open_url, found.strip())
    if urlsplit(target).netloc.lower() != urlsplit(open_url).netloc.lower():
        raise ParseError(
            f"{open_url}: its page leads to another host ({urlsplit(target).netloc}); not followed"
        )
    return target


def document_text(fetcher: "FetchSession", url: str) -> str:
    """The text of a WebDélib+ document: ``openfile.jsp``, then the file it leads to."""
    response = fetcher.get(url, max_bytes=MAX_DOCUMENT_BYTES)
    if response is None:
        raise ParseError(f"{url}: the server answered 304 to an unconditional request")
    is_pdf = response.body.startswith(b"%PDF") or "pdf" in response.content_type.lower()
    target = (
        None
        if is_pdf
        else showfile_url(decode_bytes(response.body, response.content_type), response.url)
    )
    if target is None:  # a portal that serves the file itself
        return extract_text(response.body, response.content_type, url)
    document = fetcher.get(target, max_bytes=MAX_DOCUMENT_BYTES)
    if document is None:
        raise ParseError(f"{target}: the server answered 304 to an unconditional request")
    return extract_text(document.body, document.content_type, target)
