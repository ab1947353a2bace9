"""Read a police accident letter (道路交通事故认定书 / 证明, 简易程序 forms) from a PDF into fields.

Pure: bytes in, a JSON-serialisable dict out (INTERFACES.md §2), no Flask, no database. One
pipeline for every source: the text layer through pdfplumber (`textlayer`), or a scan through OCR
(`ocr`) → pages of lines and tables (`pages`) → paragraphs and tables in reading order with page
furniture removed (`flow`) → sections by their headings and fields by the grammar officers write
(`letters`, `parties`) → validated values (`fields`). Every value filled carries its provenance
(page and box of the characters it was read from); a value the parser is unsure of is left null
or kept with a warning naming it; nothing is guessed.

    parse_report(data)    parse in this process (trusted input, tests)
    parse_isolated(data)  parse in a forked child with memory/CPU/time limits (uploads)
    check_pdf(data)       cheap checks before storing an upload
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable

from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
from pdfminer.pdfparser import PDFParser

from .errors import ReportError
from .isolation import report_progress, run_isolated
from .letters import read_letter
from .ocr import MAX_SCAN_PAGES, read_scan
from .ocr import MEMORY_MB as SCAN_MEMORY_MB
from .ocr import SECONDS_PER_PAGE as SCAN_SECONDS_PER_PAGE
from .parties import FIELDS as PARTY_FIELDS
from .textlayer import read_text_layer

__all__ = [
    "MAX_BYTES",
    "PARSER_VERSION",
    "PARTY_FIELDS",
    "ReportError",
    "check_pdf",
    "parse_isolated",
    "parse_report",
]

MAX_BYTES = 20 * 1024 * 1024
Progress = Callable[[int, int], None]
PARSER_VERSION = "2"

_ENCRYPT_RE = re.compile(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)")


def check_pdf(data: bytes) -> None:
    """Cheap checks before parsing: size, PDF header, truncation, password; raises ReportError."""
    if len(data) > MAX_BYTES:
        raise ReportError("too_large", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    # Readers accept the header anywhere in the first 1024 bytes (ISO 32000-1, annex H).
    if b"%PDF-" not in data[:1024]:
        raise ReportError("not_pdf", "no PDF header")
    tail = data[-16384:]
    if b"%%EOF" not in tail and b"startxref" not in tail:
        raise ReportError("damaged", "the file is truncated (no end-of-file marker)")
    if _ENCRYPT_RE.search(data):
        _check_password(data)


def _check_password(data: bytes) -> None:
    # Only files with an /Encrypt dictionary get here; those with an empty user password
    # (permissions only) open without one and are read like any other.
    try:
        PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFEncryptionError as exc:
        raise ReportError("encrypted", "the PDF needs a password") from exc
    except MemoryError:
        raise
    except Exception as exc:  # pdfminer's own errors and assorted built-in ones alike
        raise ReportError("damaged", f"cannot open the PDF: {exc!r}"[:200]) from exc


def parse_report(data: bytes, progress: Progress | None = None) -> dict:
    """The fields of the accident report in `data` (INTERFACES.md §2); raises ReportError.

    A PDF without readable text is read by OCR as a scan; `progress(done, total)` is then called
    after each page.
    """
    check_pdf(data)
    pages = read_text_layer(data)
    try:
        result = read_letter(pages, "text")
    except ReportError as exc:
        if exc.code != "no_text_layer":
            raise
        result = read_letter(read_scan(data, progress), "ocr")
    result["parser_version"] = PARSER_VERSION
    return result


def parse_isolated(
    data: bytes,
    *,
    timeout: float = 30.0,
    memory_mb: int = 1024,
    progress: Progress | None = None,
) -> dict:
    """parse_report in a forked child limited to `memory_mb` more memory and `timeout` seconds.

    A text letter stays within those limits; a scan, once the child knows it is one, is given
    up to SCAN_MEMORY_MB and SCAN_SECONDS_PER_PAGE a page more for OCR, with `progress(done,
    total)` called here after each page.
    """
    if len(data) > MAX_BYTES:  # refused before forking a copy of it
        raise ReportError("too_large", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    return run_isolated(
        functools.partial(parse_report, progress=report_progress),
        data,
        timeout=timeout,
        memory_mb=memory_mb,
        progress=progress,
        max_timeout=timeout + SCAN_SECONDS_PER_PAGE * MAX_SCAN_PAGES,
        max_memory_mb=max(memory_mb, SCAN_MEMORY_MB),
    )
