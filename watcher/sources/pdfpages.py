"""The text of each page of a PDF, scanned pages read by OCR within a time budget.

pypdfium2 (PDFium) extracts the text layer about 17 times faster than pypdf and
renders pages for OCR. A page is a scan when an image covers most of it and its
text layer holds little (the national RAA generator stamps a text footer even on
scanned pages: 190-290 characters on Seine-et-Marne's scans). Only those pages
go to Tesseract (``tesseract-ocr`` with ``tesseract-ocr-fra``), one at a time
and single-threaded (``OMP_THREAD_LIMIT=1``: threads made it slower on 2
cores), until the poll's OCR budget is spent; each page's OCR text is cached by
the file's hash, so a PDF is never OCR'd twice and a budget cut resumes where
it stopped. Without Tesseract the text layer is still read, and ``ocr_problem``
says so once.
"""

import functools
import hashlib
import json
import logging
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from watcher.errors import ParseError

logger = logging.getLogger(__name__)
DPI = 200
SCAN_COVERAGE = 0.5  # an image over half the page...
SCAN_MAX_CHARS = 1000  # ...and little text: a scan (the footer alone is 190-600 characters)
OCR_TIMEOUT = 120.0  # one page; a page Tesseract cannot read in this time is skipped
# PDFium is not thread-safe, not even for different documents (pypdfium2's documentation,
# "Thread incompatibility"): polls read PDFs in several threads at once, so every PDFium
# call holds this lock (Tesseract, a process of its own, runs outside it). Without it,
# `benchmarks/bench_raa.py cycle --concurrency 16` ended in a segmentation fault.
_PDFIUM = threading.Lock()


@dataclass
class OcrBudget:
    """Seconds of OCR a poll may still spend (Tesseract runs single-threaded: CPU seconds)."""

    seconds: float
    spent: float = 0.0
    pages: int = 0

    @property
    def left(self) -> float:
        return self.seconds - self.spent


@dataclass
class PdfPages:
    """Each page's text (OCR'd where it was a scan) and what could not be read yet."""

    texts: list[str]
    scanned: list[int] = field(default_factory=list)  # 0-based pages that are scans
    pending: list[int] = field(default_factory=list)  # scans not OCR'd yet (budget spent)


@functools.cache
def ocr_problem() -> str | None:
    """Why scanned pages cannot be read here (None when Tesseract with French is installed)."""
    binary = shutil.which("tesseract")
    if binary is None:
        return (
            "OCR is not installed: scanned pages of prefecture RAAs are not read (only their "
            "text layer); install tesseract-ocr and tesseract-ocr-fra"
        )
    try:
        listed = subprocess.run(
            [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"OCR is not usable ({exc}): scanned pages of prefecture RAAs are not read"
    if "fra" not in (listed.stdout + listed.stderr).split():
        return (
            "Tesseract has no French data: scanned pages of prefecture RAAs are not read; "
            "install tesseract-ocr-fra"
        )
    return None


def read_pages(body: bytes, *, cache_dir: Path | None, budget: OcrBudget) -> PdfPages:
    """Every page's text; scans are OCR'd while ``budget`` lasts."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with _PDFIUM:
        try:
            document = pdfium.PdfDocument(body)
        except pdfium.PdfiumError as exc:
            raise ParseError(f"unreadable PDF: {exc}") from None
    try:
        with _PDFIUM:
            texts, scanned = _text_layer(document, pdfium_c)
        result = PdfPages(texts, scanned)
        if not scanned:
            return result
        if ocr_problem() is not None:
            return result
        cache = _OcrCache(cache_dir, hashlib.sha256(body).hexdigest())
        for index in scanned:
            known = cache.get(index)
            if known is None:
                if budget.left <= 0:
                    result.pending.append(index)
                    continue
                started = time.monotonic()
                with _PDFIUM:
                    image = _grey_page(document, index)
                known = _ocr(image)
                budget.spent += time.monotonic() - started
                budget.pages += 1
                cache.put(index, known)
            texts[index] = f"{texts[index]}\n{known}"
        return result
    finally:
        with _PDFIUM:
            document.close()


def _text_layer(document: "object", pdfium_c: "object") -> tuple[list[str], list[int]]:
    """Each page's text layer, and which pages are scans (``_PDFIUM`` held)."""
    texts: list[str] = []
    scanned: list[int] = []
    for index in range(len(document)):  # type: ignore[arg-type]
        page = document[index]  # type: ignore[index]
        textpage = page.get_textpage()
        text = textpage.get_text_bounded()
        textpage.close()
        texts.append(text)
        if len(text.strip()) < SCAN_MAX_CHARS and _image_coverage(page, pdfium_c) >= (
            SCAN_COVERAGE
        ):
            scanned.append(index)
        page.close()
    return texts, scanned


def _image_coverage(page: "object", pdfium_c: "object") -> float:
    width, height = page.get_size()  # type: ignore[attr-defined]
    area = max(width * height, 1.0)
    cover = 0.0
    kinds = (pdfium_c.FPDF_PAGEOBJ_IMAGE,)  # type: ignore[attr-defined]
    for image in page.get_objects(filter=kinds, max_depth=2):  # type: ignore[attr-defined]
        left, bottom, right, top = image.get_bounds()
        cover = max(cover, (right - left) * (top - bottom) / area)
    return cover


def _grey_page(document: "object", index: int) -> bytes:
    """Page ``index`` rendered in grey at ``DPI``, as a PGM image (``_PDFIUM`` held); the
    page and its bitmap are closed here, not left to a finalizer on another thread."""
    page = document[index]  # type: ignore[index]
    bitmap = page.render(scale=DPI / 72, grayscale=True)
    width, height, stride = bitmap.width, bitmap.height, bitmap.stride
    raw = bytes(bitmap.buffer)
    bitmap.close()
    page.close()
    rows = b"".join(raw[row * stride : row * stride + width] for row in range(height))
    return b"P5\n%d %d\n255\n" % (width, height) + rows


def _ocr(pgm: bytes) -> str:
    """One page image read by Tesseract (French)."""
    environ = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(
            ["tesseract", "stdin", "stdout", "-l", "fra", "--dpi", str(DPI)],
            input=pgm,
            capture_output=True,
            timeout=OCR_TIMEOUT,
            env=environ,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("OCR of a page failed: %s", exc)
        return ""
    if done.returncode != 0:
        logger.warning("OCR of a page failed: %s", done.stderr.decode(errors="replace")[:200])
        return ""
    return done.stdout.decode("utf-8", errors="replace")


class _OcrCache:
    """OCR texts of one file, by page, in ``<cache_dir>/ocr/<sha256>.json``."""

    def __init__(self, cache_dir: Path | None, digest: str) -> None:
        self.path = cache_dir / "ocr" / f"{digest}.json" if cache_dir else None
        self.pages: dict[str, str] = {}
        if self.path is not None and self.path.is_file():
            try:
                self.pages = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.pages = {}

    def get(self, index: int) -> str | None:
        return self.pages.get(str(index))

    def put(self, index: int, text: str) -> None:
        self.pages[str(index)] = text
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        partial.write_text(json.dumps(self.pages, ensure_ascii=False), encoding="utf-8")
        partial.replace(self.path)
