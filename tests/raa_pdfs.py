"""RAAs built for tests in the national generator's shape, with text and scanned pages.

The shape is the one measured on the real RAAs of ../shared/fixtures/real/raa/
(Seine-et-Marne's D77-29-07-2024, Var's n° 242, both "FPDF"): a text cover, a
"Sommaire" with one line per act "<act id> - <title> (N pages) Page P", then
each act's cover page and its body pages, every page with the text footer
"<service> - <act id> - <title>". A scanned page is an image of the text
(rendered here with pypdfium2) under that text footer, as on the real scans.
"""

import zlib
from dataclasses import dataclass

from tests.pdfs import serialize, text_pdf


@dataclass(frozen=True)
class RaaAct:
    act_id: str
    title: str
    body: tuple[str, ...]  # the lines of its one body page
    scanned: bool = False
    service: str = "PREFECTURE DE TEST / Cabinet"


def raa_pdf(number: str, acts: list[RaaAct]) -> bytes:
    """An RAA: cover, sommaire, then per act a cover page and one body page."""
    pages: list[tuple[list[str], bytes | None]] = [
        (["PREFET DE TEST", "RECUEIL DES ACTES", "ADMINISTRATIFS", f"N {number}"], None)
    ]
    sommaire = ["Sommaire"]
    page = 3
    for act in acts:
        sommaire.append(act.service)
        sommaire.append(f"{act.act_id} - {act.title} (2 pages) Page {page}")
        page += 2
    pages.append((sommaire, None))
    for act in acts:
        footer = f"{act.service.split(' / ')[0]} - {act.act_id} - {act.title}"
        pages.append(([act.service.split(" / ")[0], act.act_id, act.title, footer], None))
        if act.scanned:
            pages.append(([footer], _scan(list(act.body))))
        else:
            pages.append(([*act.body, footer], None))
    return _document(pages)


def _scan(lines: list[str]) -> bytes:
    """The image (8-bit grey, Flate) of a page holding these lines in 16-point type."""
    import pypdfium2 as pdfium

    source = text_pdf(*lines).replace(b"/F1 11 Tf 50 800 Td 14 TL", b"/F1 16 Tf 40 780 Td 24 TL")
    document = pdfium.PdfDocument(source)
    bitmap = document[0].render(scale=150 / 72, grayscale=True)
    width, height, stride = bitmap.width, bitmap.height, bitmap.stride
    raw = bytes(bitmap.buffer)
    document.close()
    rows = b"".join(raw[row * stride : row * stride + width] for row in range(height))
    header = b"<< /Type /XObject /Subtype /Image /Width %d /Height %d " % (width, height)
    header += b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode "
    data = zlib.compress(rows, 6)
    return header + b"/Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _text(lines: list[str], top: int = 800) -> bytes:
    commands = [b"BT /F1 10 Tf 40 %d Td 13 TL" % top]
    for line in lines:
        escaped = (
            line.encode("cp1252")
            .replace(b"\\", b"\\\\")
            .replace(b"(", b"\\(")
            .replace(b")", b"\\)")
        )
        commands.append(b"(" + escaped + b") Tj T*")
    commands.append(b"ET")
    return b"\n".join(commands)


def _document(pages: list[tuple[list[str], bytes | None]]) -> bytes:
    """A PDF of these pages: text lines, and a full-page image under them when given."""
    objects: list[bytes] = [b"", b"", b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                            b"/Encoding /WinAnsiEncoding >>"]  # fmt: skip
    kids = []
    for lines, image in pages:
        resources = b"/Font << /F1 3 0 R >>"
        content = b""
        if image is not None:
            objects.append(image)
            resources += b" /XObject << /Im1 %d 0 R >>" % len(objects)
            content = b"q 595 0 0 842 0 0 cm /Im1 Do Q\n"
            content += _text(lines, top=20)  # the generator's footer, in text
        else:
            content = _text(lines)
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        contents = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << %s >> >>" % (contents, resources)
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    return serialize(objects)
