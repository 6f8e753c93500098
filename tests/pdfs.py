"""Minimal but valid PDF files for tests: one with a text layer, one without (a scan)."""


def _pdf(content: bytes) -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    return serialize(objects)


def serialize(objects: list[bytes]) -> bytes:
    """A PDF file of these objects, numbered from 1 (the first is the catalog)."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def text_pdf(*lines: str) -> bytes:
    """A one-page PDF whose text layer holds these lines (Latin-1 characters)."""
    commands = [b"BT /F1 11 Tf 50 800 Td 14 TL"]
    for line in lines:
        escaped = (
            line.encode("cp1252")
            .replace(b"\\", b"\\\\")
            .replace(b"(", b"\\(")
            .replace(b")", b"\\)")
        )
        commands.append(b"(" + escaped + b") Tj T*")
    commands.append(b"ET")
    return _pdf(b"\n".join(commands))


def scanned_pdf() -> bytes:
    """A page with only a drawing: what a scan without OCR gives."""
    return _pdf(b"0 0 0 rg 50 50 495 742 re f")
