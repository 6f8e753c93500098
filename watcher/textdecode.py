"""Turning the bytes a source sent into text, whatever its declaration says.

French public sources declare ISO-8859-15 and serve UTF-8, or the reverse; some
fields were encoded twice ("Ã©" for "é"); some UTF-8 payloads carry a stray
Windows byte pasted into one title (0x92 for "’"). watcher trusts the bytes
first: a payload that is mostly UTF-8 is UTF-8, its few invalid bytes read as
cp1252 one by one; a payload that is not is read in its declared single-byte
encoding (cp1252 by default, which French Windows-made files use). Then each
field that shows mojibake is repaired on its own by ftfy, so one garbled title
neither garbles nor "repairs" its neighbours.
"""

import codecs
import re

import ftfy

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", re.IGNORECASE)
# Bytes that were not UTF-8, as errors="surrogateescape" keeps them.
_ESCAPED = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")
# What UTF-8 read as cp1252 or latin-1 looks like: the letter of a lead byte for
# Latin, Latin Extended, modifier letters and punctuation (0xC2-0xC6, 0xCB, 0xE2,
# 0xEF: every character French text uses) followed by a continuation byte (U+0080-
# U+00BF or its cp1252 letter); "Ã" before a space (à's 0xA0 became one); a C1
# control. Only a field that shows one is handed to ftfy, which reads every
# character: too slow for whole 20 MB documents.
_SUSPECT = re.compile(
    "[ÂÃÄÅÆËâï][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|Ã |[\u0080-\u009f]"
)
# A field ends at markup, a quote or a line break: mojibake never contains them.
_FIELD_END = re.compile('[<>"\n]')
# ftfy's encoding repairs only: leave entities, quotes, ligatures, widths, line
# breaks and normalization as the source wrote them (XML must stay XML).
_REPAIR = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_encoding=True,
    restore_byte_a0=True,
    replace_lossy_sequences=False,
    decode_inconsistent_utf8=True,
    fix_c1_controls=True,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    fix_surrogates=True,
    remove_control_chars=False,
    normalization=None,
    explain=False,
)


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
    """Decode a payload to text, detecting encodings that lie, repairing fields one by one."""
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
        text = _mostly_utf8(body) or body.decode(
            _single_byte(declared_encoding(body, content_type)), errors="replace"
        )
    return repair_mojibake(text)


def _mostly_utf8(body: bytes) -> str | None:
    """The payload as UTF-8 with its stray bytes read as cp1252, if UTF-8 is what it is.

    It is when its valid multi-byte characters outnumber its invalid bytes: a
    cp1252 document forms a valid UTF-8 sequence only by accident.
    """
    text = body.decode("utf-8", errors="surrogateescape")
    stray = len(_ESCAPED.findall(text))
    if len(_NON_ASCII.findall(text)) <= stray:
        return None
    return _ESCAPED.sub(_cp1252_byte, text)


def _cp1252_byte(escaped: re.Match[str]) -> str:
    return bytes([ord(escaped.group()) - 0xDC00]).decode("cp1252", errors="replace")


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
    """Undo UTF-8 read as cp1252 or latin-1, in each field that shows it and nowhere else."""
    parts: list[str] = []
    done = 0
    for suspect in _SUSPECT.finditer(text):
        if suspect.start() < done:
            continue  # inside a field already repaired
        start = max(done, *(text.rfind(mark, done, suspect.start()) + 1 for mark in '<>"\n'))
        found = _FIELD_END.search(text, suspect.end())
        end = found.start() if found else len(text)
        parts.append(text[done:start])
        parts.append(repair_text(text[start:end]))
        done = end
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def repair_text(text: str) -> str:
    """One field's mojibake repaired (ftfy, encoding fixes only); clean text is unchanged."""
    return ftfy.fix_text(text, _REPAIR)


def as_utf8_xml(body: bytes, content_type: str = "") -> bytes:
    """The payload re-encoded as UTF-8, its XML declaration saying so."""
    text = decode_bytes(body, content_type)
    text = re.sub(
        r"^(\s*<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2",
        r"\1\2utf-8\2",
        text,
        count=1,
    )
    return fix_references(text).encode("utf-8")


# A numeric character reference: &#233; or &#xE9;.
_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
_REPLACEMENT = "&#xFFFD;"


def _code_point(match: re.Match[str]) -> int:
    hexa, decimal = match.groups()
    return int(hexa, 16) if hexa else int(decimal)


def _allowed(code: int) -> bool:
    """A character XML 1.0 allows (and Python can encode)."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def fix_references(text: str) -> str:
    """Character references that feedparser cannot take, replaced before it reads them.

    A surrogate pair written as two references (``&#55357;&#56569;``, as some CMSs
    write an emoji) becomes the one character it spells; a lone surrogate, a
    reference past U+10FFFF and a control character become U+FFFD. Each of these
    made feedparser raise, and the whole feed failed at every poll.
    """
    if "&#" not in text:
        return text
    out: list[str] = []
    last = 0
    high: re.Match[str] | None = None  # a high surrogate waiting for its low half
    for match in _REFERENCE.finditer(text):
        code = _code_point(match)
        if _allowed(code):
            continue
        if 0xD800 <= code <= 0xDBFF:
            if high is not None:  # two highs in a row: the first is alone
                out += [text[last : high.start()], _REPLACEMENT]
                last = high.end()
            high = match
            continue
        if 0xDC00 <= code <= 0xDFFF and high is not None and high.end() == match.start():
            combined = 0x10000 + ((_code_point(high) - 0xD800) << 10) + (code - 0xDC00)
            out += [text[last : high.start()], f"&#x{combined:X};"]
            last, high = match.end(), None
            continue
        if high is not None:
            out += [text[last : high.start()], _REPLACEMENT]
            last, high = high.end(), None
        out += [text[last : match.start()], _REPLACEMENT]
        last = match.end()
    if high is not None:
        out += [text[last : high.start()], _REPLACEMENT]
        last = high.end()
    out.append(text[last:])
    return "".join(out)
