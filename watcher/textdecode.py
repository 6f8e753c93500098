"""Turning the bytes a source sent into text, whatever its declaration says.

French public sources declare ISO-8859-15 and serve UTF-8, or the reverse, and
some pages were encoded twice ("Ã©" for "é"). watcher trusts the bytes first:
valid multi-byte UTF-8 is UTF-8; otherwise the declared single-byte encoding
(cp1252 by default, which French Windows-made files use); then double-encoding
is undone when it is detected.
"""

import codecs
import re

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
# UTF-8 bytes of common French letters read as cp1252/latin-1: é è à ç ê ô ’ «
_MOJIBAKE = re.compile("Ã[©¨ §ª´¹®¢«»‰‡]|â€[™˜œ\u009d“”]")


def declared_encoding(body: bytes, content_type: str = "") -> str | None:
    """The encoding the payload claims: XML declaration, HTML meta, then HTTP header."""
    head = body[:2048]
    for pattern in (_XML_DECLARATION, _META_CHARSET):
        found = pattern.search(head)
        if found:
            return found.group(1).decode("ascii").lower()
    header = _HTTP_CHARSET.search(content_type)
    return header.group(1).lower() if header else None


def decode_bytes(body: bytes, content_type: str = "") -> str:
    """Decode a payload to text, detecting encodings that lie."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode(_single_byte(declared_encoding(body, content_type)), errors="replace")
    return repair_mojibake(text)


def _single_byte(declared: str | None) -> str:
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            name = ""
        if name and name not in ("utf-8", "ascii", "us-ascii"):
            return name
    return "cp1252"


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as cp1252 or latin-1 once, when that is what happened."""
    if not _MOJIBAKE.search(text):
        return text
    for wrong in ("cp1252", "latin-1"):
        try:
            return text.encode(wrong).decode("utf-8")
        except UnicodeError:
            continue
    return text


def as_utf8_xml(body: bytes, content_type: str = "") -> bytes:
    """The payload re-encoded as UTF-8, its XML declaration saying so."""
    text = decode_bytes(body, content_type)
    text = re.sub(
        r"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2",
        r"\1\2utf-8\2",
        text,
        count=1,
    )
    return text.encode("utf-8")
